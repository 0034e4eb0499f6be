"""Read counts for one tenant: a running total plus an hourly series.

Every parameter is bounded and checked first, so no query string can make
this raise anything but :class:`ClientInputError` (a 400) or a storage error
(a 503): instants between 2000-01-01 and 2100-01-01, at most 31 days, keys of
printable text. A tenant's own event type (docs/schemas.md) is counted in its total only: it has no
counter key, so ``key`` is refused for it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from event_collector.counts.layout import ALL_KEYS, MAX_SERIES_HOURS, OVERFLOW, counter_pk, encode_key, hours_between
from event_collector.errors import ClientInputError
from event_collector.event_types import DECLARED_FIELDS
from event_collector.identifiers import has_control_characters, is_event_type
from event_collector.ingest.models import EPOCH, CountsResult, HourlyCount
from event_collector.json_values import is_valid_unicode

DEFAULT_SERIES_HOURS = 24
MAX_KEY_LENGTH = 8192  # the longest value a counted field takes (a seed URL)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_INSTANT_LENGTH = 40


class CounterReader(Protocol):
    def total(self, pk: str) -> int: ...
    def hourly(self, pk: str, first_hour: str, last_hour: str) -> dict[str, int]: ...


def _bad(message: str) -> ClientInputError:
    return ClientInputError(400, "invalid_query", message)


def parse_instant(value: str, name: str) -> datetime:
    """Epoch milliseconds (ASCII digits) or ISO 8601 with a time zone, between 2000 and 2100."""
    problem = f"'{name}' must be epoch milliseconds or ISO 8601 with a time zone, between 2000-01-01 and 2100-01-01"
    if not value or len(value) > MAX_INSTANT_LENGTH or not value.isascii():
        raise _bad(problem)
    try:
        if value.isdigit():
            parsed = EPOCH + timedelta(milliseconds=int(value))  # exact: no float seconds
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise _bad(problem) from None
    if parsed.tzinfo is None or not EARLIEST <= parsed < LATEST:
        raise _bad(problem)
    return parsed.astimezone(UTC)


def check_key(key: str | None, *, allow_empty: bool = False, name: str = "key") -> None:
    """``name``: the query parameter the client sent the key in (``key``, ``button_id``, ``url``)."""
    if key is None:
        return
    if (
        (not key and not allow_empty)
        or len(key) > MAX_KEY_LENGTH
        or has_control_characters(key)
        or not is_valid_unicode(key)
    ):
        raise _bad(f"'{name}' must be {'0' if allow_empty else '1'}-{MAX_KEY_LENGTH} printable characters")


# Whether the caller's tenant owns a custom event type (anything not None: it does).
OwnedTypes = Callable[[str], object]


def check_event_type(event_type: str, owns: OwnedTypes | None = None) -> bool:
    """Whether ``event_type`` is one of the caller's own types (False: a built-in one); a 400 if neither."""
    if event_type in DECLARED_FIELDS:
        return False
    if owns is not None and is_event_type(event_type) and owns(event_type) is not None:
        return True
    others = " or a type registered for this tenant" if owns is not None else ""
    raise _bad(f"'event_type' must be one of {', '.join(sorted(DECLARED_FIELDS))}{others}")


def read_total(reader: CounterReader, tenant: str, event_type: str, key: str, *, parameter: str = "key") -> int:
    """The running total of one key (the seed routes; any printable key, empty included); ``parameter``
    names the query parameter that carried it, in errors."""
    check_event_type(event_type)
    check_key(key, allow_empty=True, name=parameter)
    return reader.total(counter_pk(tenant, event_type, encode_key(key)))


def series_bounds(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    last = parse_instant(end, "to") if end is not None else now.astimezone(UTC)
    first = parse_instant(start, "from") if start is not None else last - timedelta(hours=DEFAULT_SERIES_HOURS - 1)
    if first > last:
        raise _bad("'from' must not be after 'to'")
    if last - first >= timedelta(hours=MAX_SERIES_HOURS):
        raise _bad(f"the range spans at most {MAX_SERIES_HOURS} hours")
    return max(first, EARLIEST), last


def read_counts(
    reader: CounterReader,
    *,
    tenant: str,
    event_type: str,
    key: str | None,
    start: str | None,
    end: str | None,
    now: datetime,
    owns: OwnedTypes | None = None,
) -> CountsResult:
    """``owns``: which custom types the tenant owns (None: built-in types only)."""
    if check_event_type(event_type, owns) and key is not None:
        raise _bad(f"'key' is not taken for {event_type!r}: a custom event type is counted in its total only")
    check_key(key)
    first, last = series_bounds(start, end, now)
    labels = hours_between(first, last)
    pk = counter_pk(tenant, event_type, ALL_KEYS if key is None else encode_key(key))
    found = reader.hourly(pk, labels[0], labels[-1])
    hourly = [HourlyCount(hour=f"{label}:00:00Z", count=found.get(label, 0)) for label in labels]
    overflow = reader.total(counter_pk(tenant, event_type, OVERFLOW)) if key is None else None
    return CountsResult(event_type=event_type, key=key, total=reader.total(pk), hourly=hourly, overflow=overflow)
