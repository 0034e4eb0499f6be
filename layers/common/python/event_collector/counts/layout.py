"""Counters: what one delivered raw object adds to DynamoDB, and how counts are read back.

The fan-out counts the lines of each raw object it places (docs/counters.md),
so counting costs nothing on the request path and one write per distinct
counter key per object and UTC day, not per event. Layout (one table,
``pk``/``sk`` strings):

- ``pk = <tenant>#<event_type>#<encoded key>``; ``sk = day#YYYY-MM-DD`` (the UTC
  day of ``received_at``): one item per key and day holds that day's hours
  (``h00`` ... ``h23``) and its total (``n``), so one ``UpdateItem`` adds an
  object's events to both; a key's total is the sum of its days still kept;
- encoded keys are injective: ``k:<key>`` for a key of at most 1,000 UTF-8
  bytes, ``h:<sha256 hex>`` for a longer one, ``*`` for every key of the type
  and ``o:`` for the keys over the cardinality limit (the overflow counter).
  Tenant and event type are validated identifiers without ``#``, and the
  encoded key is the last component, so no two counters share an item;
- at most ``max_keys`` distinct keys per tenant, event type and hour get a
  counter of their own (``<tenant>#<event_type>#keys`` / ``hour#...`` holds how
  many were admitted); later new keys count under ``o:``;
- day items expire ``retention_days`` after their day, so nothing lives forever.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

DAY_PREFIX = "day#"
HOUR_PREFIX = "hour#"  # the registry of admitted keys is per hour
DAY_TOTAL = "n"
ALL_KEYS = "*"
OVERFLOW = "o:"
REGISTRY = "keys"
MAX_RAW_KEY_BYTES = 1000
MAX_SERIES_HOURS = 31 * 24
DEFAULT_MAX_KEYS_PER_HOUR = 1000
DEFAULT_RETENTION_DAYS = 400
REGISTRY_RETENTION_SECONDS = 3 * 86400
HOUR_MS = 3_600_000


def encode_key(key: str) -> str:
    raw = key.encode("utf-8", errors="surrogatepass")
    if len(raw) > MAX_RAW_KEY_BYTES:
        return "h:" + hashlib.sha256(raw).hexdigest()
    return "k:" + key


def counter_pk(tenant: str, event_type: str, encoded: str) -> str:
    return f"{tenant}#{event_type}#{encoded}"


def registry_pk(tenant: str, event_type: str) -> str:
    return f"{tenant}#{event_type}#{REGISTRY}"


def hour_label(epoch_millis: int) -> str:
    return datetime.fromtimestamp(epoch_millis / 1000, tz=UTC).strftime("%Y-%m-%dT%H")


def day_sort_key(hour_label: str) -> str:
    """``day#YYYY-MM-DD`` of an hour label ``YYYY-MM-DDTHH``."""
    return DAY_PREFIX + hour_label[:10]


def hour_attribute(hour_label: str) -> str:
    """``hHH``: the attribute of a day item that holds the hour of ``YYYY-MM-DDTHH``."""
    return "h" + hour_label[11:13]


@dataclass(frozen=True, order=True)
class HourGroup:
    tenant: str
    event_type: str
    hour_ms: int  # start of the UTC hour, epoch milliseconds

    @property
    def label(self) -> str:
        return hour_label(self.hour_ms)


@dataclass
class GroupTally:
    keys: dict[str, int] = field(default_factory=dict)  # encoded key -> events, in first-seen order
    overflow: int = 0
    total: int = 0


class CounterTally:
    """The counts of one raw object, in bounded memory: at most ``max_keys`` distinct keys are kept
    per group (no more could be admitted for that hour anyway); the rest are counted as overflow."""

    def __init__(self, max_keys: int = DEFAULT_MAX_KEYS_PER_HOUR) -> None:
        self.max_keys = max_keys
        self.groups: dict[HourGroup, GroupTally] = {}

    def add(self, tenant: str, event_type: str, received_at: int, key: str | None) -> None:
        group = self.groups.setdefault(HourGroup(tenant, event_type, received_at // HOUR_MS * HOUR_MS), GroupTally())
        group.total += 1
        if key is None:
            return
        encoded = encode_key(key)
        if encoded in group.keys:
            group.keys[encoded] += 1
        elif len(group.keys) < self.max_keys:
            group.keys[encoded] = 1
        else:
            group.overflow += 1

    @property
    def events(self) -> int:
        return sum(group.total for group in self.groups.values())


@dataclass(frozen=True)
class CounterIncrement:
    """What one write adds to a day item: events per hour attribute (``h09``), and so to the day's total."""

    pk: str
    sk: str
    hours: dict[str, int]
    expires_at: int

    @property
    def amount(self) -> int:
        return sum(self.hours.values())


def increments(
    group: HourGroup, counted: dict[str, int], overflow: int, total: int, *, retention_days: int
) -> list[CounterIncrement]:
    """The hour's events for every admitted key, the overflow counter and the type's total (``*``)."""
    day_start = group.hour_ms // 86_400_000 * 86_400
    expires_at = day_start + 86_400 + retention_days * 86_400
    amounts = {**counted}
    if overflow:
        amounts[OVERFLOW] = overflow
    amounts[ALL_KEYS] = total
    sort_key, attribute = day_sort_key(group.label), hour_attribute(group.label)
    return [
        CounterIncrement(counter_pk(group.tenant, group.event_type, encoded), sort_key, {attribute: amount}, expires_at)
        for encoded, amount in amounts.items()
    ]


def hours_between(start: datetime, end: datetime) -> list[str]:
    """Hour labels from ``start`` to ``end`` inclusive, both truncated to the hour."""
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    last = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    labels = []
    hour = first
    while hour <= last:
        labels.append(hour.strftime("%Y-%m-%dT%H"))
        hour += timedelta(hours=1)
    return labels


def split_admitted(keys: dict[str, int], known: Iterable[str], granted: int) -> tuple[dict[str, int], int]:
    """Keys that keep their own counter (already known this hour, or among the first ``granted`` new
    ones in first-seen order) and the events of the others, which go to the overflow counter."""
    known = set(known)
    counted: dict[str, int] = {}
    overflow = 0
    admitted_new = 0
    for encoded, amount in keys.items():
        if encoded in known:
            counted[encoded] = amount
        elif admitted_new < granted:
            counted[encoded] = amount
            admitted_new += 1
        else:
            overflow += amount
    return counted, overflow
