"""Which stored events a sweep removes: a line, a quarantined line or a compacted row against its targets.

A **target** is one regulation as a sweep keeps it: the tenant, the selector and the subject (a digest:
never the user's id), and the receive times it covers (``delete``: up to ``requested_at``; ``suppress``:
from ``requested_at`` on, up to the ``unsuppress`` that ended it if one did: ``until``). An event matches
when one of its selector's fields (``MATCHED_FIELDS``) holds a value whose digest is the subject. The
user's id is never known here: each value met is digested the same way and compared, through a bounded
cache (a lake holds few distinct user ids per file, often the same ones).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from event_collector.privacy.regulations import MATCHED_FIELDS, Kind, Regulation, Selector, subject_digest

DAY_MS = 86_400_000
# Firehose names a raw object by the hour its first record arrived, seconds after the collector received it;
# a raw or quarantined object's hour is trusted only this far (its lines are matched on their own times).
RAW_HOUR_MARGIN_MS = DAY_MS
FIELDS: tuple[str, ...] = tuple(sorted({name for names in MATCHED_FIELDS.values() for name in names}))


@dataclass(frozen=True)
class Target:
    request: str  # the regulation's id: what reports and logs name
    tenant: str
    kind: Kind
    selector: Selector
    subject: str
    requested_at: int  # epoch ms
    # A suppression an ``unsuppress`` ended (epoch ms): what the user sent from then on was consented to.
    until: int | None = None

    @classmethod
    def of(cls, regulation: Regulation, until: int | None = None) -> Target:
        return cls(
            regulation.id,
            regulation.tenant,
            regulation.kind,
            regulation.selector,
            regulation.subject,
            regulation.requested_at,
            until,
        )

    def covers(self, received_at: int | None) -> bool:
        """A deletion covers what was received up to its request (a line without a receive time too: it
        was stored before the sweep); a suppression what was received from its request on (and before the
        ``unsuppress`` that ended it, if one did)."""
        if received_at is None:
            return self.kind == "delete"
        if self.kind == "delete":
            return received_at <= self.requested_at
        return received_at >= self.requested_at and (self.until is None or received_at < self.until)

    def may_cover(self, start: int, end: int) -> bool:
        """Whether events received in ``[start, end)`` (epoch ms) may be covered."""
        if self.kind == "delete":
            return start <= self.requested_at
        return end > self.requested_at and (self.until is None or start < self.until)


@functools.lru_cache(maxsize=1 << 16)
def _digest(tenant: str, selector: Selector, value: str) -> str:
    return subject_digest(tenant, selector, value)


class Matcher:
    def __init__(self, targets: Iterable[Target]) -> None:
        self.targets = tuple(targets)
        self._by_subject: dict[tuple[str, Selector, str], list[Target]] = {}
        for target in self.targets:
            self._by_subject.setdefault((target.tenant, target.selector, target.subject), []).append(target)
        self.tenants = frozenset(target.tenant for target in self.targets)

    def of_tenant(self, tenant: str) -> Matcher:
        return Matcher(target for target in self.targets if target.tenant == tenant)

    def may_cover(self, start: int, end: int, margin: int = 0) -> bool:
        return any(target.may_cover(start - margin, end + margin) for target in self.targets)

    def record(self, record: Mapping[str, object]) -> list[Target]:
        """The targets a stored event (a lake line, parsed) belongs to: its own ``tenant`` names it."""
        tenant = record.get("tenant")
        if not isinstance(tenant, str) or tenant not in self.tenants:
            return []
        received_at = record.get("received_at")
        when = received_at if isinstance(received_at, int) and not isinstance(received_at, bool) else None
        found: dict[str, Target] = {}
        for selector, names in MATCHED_FIELDS.items():
            for name in names:
                value = record.get(name)
                if not isinstance(value, str) or not value:
                    continue
                for target in self._by_subject.get((tenant, selector, _digest(tenant, selector, value)), ()):
                    if target.covers(when):
                        found[target.request] = target
        return list(found.values())

    def line(self, line: bytes) -> list[Target]:
        """A stored line (raw/ and events/ objects); anything that is not a JSON object matches nothing."""
        record = _json_object(line)
        return self.record(record) if record is not None else []

    def quarantined(self, line: bytes) -> list[Target]:
        """A quarantine entry: the original line is in ``line`` (or ``line_base64``). A line that is not a
        JSON object naming its tenant cannot be told to be the user's (docs/privacy.md, What is kept)."""
        entry = _json_object(line)
        if entry is None:
            return []
        original = entry.get("line")
        if isinstance(original, str):
            return self.line(original.encode("utf-8", errors="surrogatepass"))
        encoded = entry.get("line_base64")
        if isinstance(encoded, str):
            try:
                return self.line(base64.b64decode(encoded, validate=True))
            except (binascii.Error, ValueError):
                return []
        return []

    def table(self, tenant: str, table: pa.Table) -> dict[str, pa.Array]:
        """Per target (by request id) with at least one match: the mask of its rows in ``table`` (a
        compacted file's rows, or just its ``received_at`` and matched columns)."""
        masks: dict[str, pa.Array] = {}
        if tenant not in self.tenants or table.num_rows == 0:
            return masks
        received = table["received_at"] if "received_at" in table.column_names else None
        for selector, names in MATCHED_FIELDS.items():
            for name in names:
                if name not in table.column_names:
                    continue
                column = table[name].cast(pa.string())
                for value in pc.unique(column).to_pylist():
                    if not isinstance(value, str) or not value:
                        continue
                    for target in self._by_subject.get((tenant, selector, _digest(tenant, selector, value)), ()):
                        rows = pc.fill_null(pc.equal(column, value), False)  # a null never matches, never hides
                        if received is not None:
                            rows = pc.and_(rows, _window(target, received))
                        rows = rows.combine_chunks() if isinstance(rows, pa.ChunkedArray) else rows
                        if not pc.any(rows).as_py():
                            continue
                        earlier = masks.get(target.request)
                        masks[target.request] = rows if earlier is None else pc.or_(earlier, rows)
        return masks


# What separates the parts of a counter key a client could put a user's id in: a URL's path segments, query
# names and values and fragment, or a list; ``@``, ``.`` and ``-`` stay (ids are often emails or UUIDs).
_KEY_SEPARATORS = re.compile(r"([/?#&=;,|\s]+)")
# An id may hold separators itself (Auth0's ``auth0|5f7c…``, a name with a space): runs of up to this many
# consecutive parts, with what separates them, are parts too.
MAX_PARTS_IN_AN_ID = 4


def key_parts(key: str) -> set[str]:
    """A counter key and each run of its parts that could be an id on its own, as sent and percent-decoded
    (``https://shop.example/u/jane%40example.com?ref=x`` holds ``jane@example.com``; ``/u/auth0|5f7c`` holds
    ``auth0|5f7c``)."""
    parts = {key}
    for text in {key, urllib.parse.unquote(key)}:
        parts.add(text)
        pieces = _KEY_SEPARATORS.split(text)  # words at even indexes, the separators between them at odd ones
        words = range(0, len(pieces), 2)
        for first in words:
            for last in range(first, min(first + 2 * MAX_PARTS_IN_AN_ID - 1, len(pieces)), 2):
                run = "".join(pieces[first : last + 1])
                if pieces[first] and pieces[last]:
                    parts.add(run)
    return parts


def _window(target: Target, received: pa.ChunkedArray) -> pa.ChunkedArray:
    bound = pa.scalar(target.requested_at, pa.int64())
    inside = pc.less_equal(received, bound) if target.kind == "delete" else pc.greater_equal(received, bound)
    if target.kind == "suppress" and target.until is not None:
        inside = pc.and_(inside, pc.less(received, pa.scalar(target.until, pa.int64())))
    return pc.fill_null(inside, target.kind == "delete")


def any_row(masks: Mapping[str, pa.Array], rows: int) -> pa.Array:
    """The rows at least one target matched."""
    found = pa.nulls(rows, pa.bool_()).fill_null(False)
    for mask in masks.values():
        found = pc.or_(found, mask)
    return found


def _json_object(line: bytes) -> dict[str, object] | None:
    try:
        parsed = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None
