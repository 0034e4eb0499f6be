"""What a ``date-time`` is, once for the edge and the lake: the instant a timestamp column holds.

A ``"format": "date-time"`` field is a ``timestamp`` column (``fields.py``), so every value the
collector accepts for it must be one the lake can hold. JSON Schema only annotates formats unless the
validator asserts them, and libraries disagree on what they take (Python's ``fromisoformat`` takes
``2026-01-31 12:00``, without a zone). So the collector's validator asserts ``format`` with
:func:`date_time_millis` as its ``date-time`` check, and compaction converts with the same function:
what one accepts, the other can store.

A date-time is RFC 3339's (``2026-01-31T12:00:00.250+01:00``; ``T`` and ``Z`` in either case), with two
exceptions no column can hold: a leap second (``:60``) and an instant outside years 0001-9999 in UTC.
It is stored as epoch milliseconds, UTC; digits below the millisecond are dropped toward the past (a
floor), as for the envelope's ``timestamp`` (docs/api.md). The offset and the digits as sent are not
kept: a tenant who needs the text declares a plain ``string`` (docs/schemas.md).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DATE_TIME = re.compile(
    # Hours, minutes and seconds by their RFC 3339 ranges here, not by datetime.fromisoformat, whose reading of
    # `T24:00:00` changes across Python versions (the runtime's 3.13 is not the development 3.11).
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<time>(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d)(?:\.(?P<fraction>\d+))?"
    r"(?P<zone>[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    flags=re.ASCII,
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MILLISECOND = timedelta(milliseconds=1)


def date_time_millis(text: str) -> int | None:
    """``text`` as epoch milliseconds (UTC, floored), or None if it is not a date-time the lake holds."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return None
    fraction = (match["fraction"] or "")[:3].ljust(3, "0")
    zone = "+00:00" if match["zone"] in ("Z", "z") else match["zone"]
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}{zone}").astimezone(UTC)
    except (ValueError, OverflowError):  # a day, an hour, a second (60) or an offset out of range; or not in 0001-9999
        return None
    return (moment - _EPOCH) // _ONE_MILLISECOND
