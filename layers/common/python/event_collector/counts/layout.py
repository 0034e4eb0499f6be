"""Counters: what a request's events (or a delivered raw object's) add to DynamoDB, and how counts are read.

By default the collector counts each request's events once Firehose holds
them, so a count includes an event as soon as its request got 200; the
fan-out may count delivered objects instead (``CountingMode``, docs/counters.md).
Either way: one write per distinct counter key and UTC day, never one per
event. Layout (one table, ``pk``/``sk`` strings):

- ``pk = <tenant>#<event_type>#<encoded key>``; ``sk = day#YYYY-MM-DD`` (the UTC
  day of ``received_at``): one item per key and day holds that day's hours
  (``h00`` ... ``h23``), so one ``UpdateItem`` adds a request's events; a key's
  total is the sum of the hours of its days still kept (items written before
  issue 21 also hold a day total ``n``, no longer written or read: recounts
  set hours, which a stored sum would contradict);
- encoded keys are injective: ``k:<key>`` for a key of at most 1,000 UTF-8
  bytes, ``h:<sha256 hex>`` for a longer one, ``*`` for every key of the type
  and ``o:`` for the keys over the cardinality limit (the overflow counter).
  Tenant and event type are validated identifiers without ``#``, and the
  encoded key is the last component, so no two counters share an item;
- at most ``max_keys`` distinct keys per tenant, event type and hour get a
  counter of their own; later new keys count under ``o:``. The type's total
  item (``*``) holds, beside its hours, ``aHH``: how many new keys asked for a
  counter in hour ``HH``, added by the same write that adds the events to the
  total, so admission costs no write of its own; the first ``max_keys`` askers
  are admitted;
- day items expire ``retention_days`` after their day, so nothing lives forever.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

DAY_PREFIX = "day#"
ALL_KEYS = "*"
OVERFLOW = "o:"
MAX_RAW_KEY_BYTES = 1000
MAX_SERIES_HOURS = 31 * 24
DEFAULT_MAX_KEYS_PER_HOUR = 1000
DEFAULT_RETENTION_DAYS = 400
HOUR_MS = 3_600_000


DAY_INDEX = "tday"  # a key item's <tenant>#<event_type>#day#YYYY-MM-DD: the table's by_day index


def day_index(pk: str, sk: str) -> str | None:
    """The ``by_day`` index value of a counter item: set on the items of keys (``k:``/``h:``) only, never
    on a type's total or its overflow counter, so the index lists exactly a day's keys with a counter."""
    prefix, _, encoded = pk.rpartition("#")
    return f"{prefix}#{sk}" if encoded.startswith(("k:", "h:")) else None


def encode_key(key: str) -> str:
    raw = key.encode("utf-8", errors="surrogatepass")
    if len(raw) > MAX_RAW_KEY_BYTES:
        return "h:" + hashlib.sha256(raw).hexdigest()
    return "k:" + key


def counter_pk(tenant: str, event_type: str, encoded: str) -> str:
    return f"{tenant}#{event_type}#{encoded}"


def hour_label(epoch_millis: int) -> str:
    return datetime.fromtimestamp(epoch_millis / 1000, tz=UTC).strftime("%Y-%m-%dT%H")


def day_sort_key(hour_label: str) -> str:
    """``day#YYYY-MM-DD`` of an hour label ``YYYY-MM-DDTHH``."""
    return DAY_PREFIX + hour_label[:10]


def hour_attribute(hour_label: str) -> str:
    """``hHH``: the attribute of a day item that holds the hour of ``YYYY-MM-DDTHH``."""
    return "h" + hour_label[11:13]


def is_hour_attribute(name: str) -> bool:
    """``h00`` ... ``h23``: an hour's count on a day item (``aHH`` admissions, ``expires_at`` are not)."""
    return len(name) == 3 and name[0] == "h" and name[1:].isdigit()


def admission_attribute(hour_label: str) -> str:
    """``aHH``: the attribute of a type's total item that counts the new keys of the hour ``YYYY-MM-DDTHH``."""
    return "a" + hour_label[11:13]


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
    """What one write adds to a day item: events per hour attribute (``h09``), and so to the day's total;
    on a type's total item also the new keys asking for a counter per hour (``a09``, admission)."""

    pk: str
    sk: str
    hours: dict[str, int]
    expires_at: int
    admitting: dict[str, int] = field(default_factory=dict)

    @property
    def amount(self) -> int:
        return sum(self.hours.values())


def day_expiry(group: HourGroup, retention_days: int) -> int:
    """When DynamoDB's TTL removes the day item of the group's hour: ``retention_days`` after its day."""
    day_start = group.hour_ms // 86_400_000 * 86_400
    return day_start + 86_400 + retention_days * 86_400


def total_increment(group: HourGroup, total: int, new_keys: int, *, retention_days: int) -> CounterIncrement:
    """The hour's events on the type's total (``*``), with the new keys asking for a counter."""
    sort_key, label = day_sort_key(group.label), group.label
    return CounterIncrement(
        counter_pk(group.tenant, group.event_type, ALL_KEYS),
        sort_key,
        {hour_attribute(label): total},
        day_expiry(group, retention_days),
        {admission_attribute(label): new_keys} if new_keys else {},
    )


def key_increments(
    group: HourGroup, counted: dict[str, int], overflow: int, *, retention_days: int
) -> list[CounterIncrement]:
    """The hour's events for every admitted key and the overflow counter."""
    amounts = {**counted}
    if overflow:
        amounts[OVERFLOW] = overflow
    sort_key, attribute = day_sort_key(group.label), hour_attribute(group.label)
    expires_at = day_expiry(group, retention_days)
    return [
        CounterIncrement(counter_pk(group.tenant, group.event_type, encoded), sort_key, {attribute: amount}, expires_at)
        for encoded, amount in amounts.items()
    ]


def granted_keys(asked: int, admitted_after: int, limit: int) -> int:
    """How many of ``asked`` new keys get a counter, given the hour's admission count after this request's
    own ``asked`` were added: the first ``limit`` askers of the hour are admitted."""
    before = admitted_after - asked
    return max(0, min(asked, limit - before))


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
