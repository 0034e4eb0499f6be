"""Counters: what one delivered raw object adds to DynamoDB, and how counts are read back.

The fan-out counts the lines of each raw object it places (docs/counters.md),
so counting costs nothing on the request path and one write per distinct
counter per object, not per event. Layout (one table, ``pk``/``sk`` strings):

- ``pk = <tenant>#<event_type>#<encoded key>``; ``sk = total`` (the running
  total) or ``sk = hour#YYYY-MM-DDTHH`` (the UTC hour of ``received_at``);
- encoded keys are injective: ``k:<key>`` for a key of at most 1,000 UTF-8
  bytes, ``h:<sha256 hex>`` for a longer one, ``*`` for every key of the type
  and ``o:`` for the keys over the cardinality limit (the overflow counter).
  Tenant and event type are validated identifiers without ``#``, and the
  encoded key is the last component, so no two counters share an item;
- at most ``max_keys`` distinct keys per tenant, event type and hour get a
  counter of their own (``<tenant>#<event_type>#keys`` / ``hour#...`` holds how
  many were admitted); later new keys count under ``o:``;
- hour items expire ``hourly_retention_days`` after their hour; a running
  total expires ``total_idle_days`` after its last update (renewed by every
  update), so nothing lives forever unless it is in use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

TOTAL_SORT_KEY = "total"
HOUR_PREFIX = "hour#"
ALL_KEYS = "*"
OVERFLOW = "o:"
REGISTRY = "keys"
MAX_RAW_KEY_BYTES = 1000
MAX_SERIES_HOURS = 31 * 24
DEFAULT_MAX_KEYS_PER_HOUR = 1000
DEFAULT_TOTAL_IDLE_DAYS = 400
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


def hour_sort_key(label: str) -> str:
    return HOUR_PREFIX + label


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
    pk: str
    sk: str
    amount: int
    expires_at: int


def increments(
    group: HourGroup,
    counted: dict[str, int],
    overflow: int,
    total: int,
    *,
    now: datetime,
    hourly_retention_days: int,
    total_idle_days: int = DEFAULT_TOTAL_IDLE_DAYS,
) -> list[CounterIncrement]:
    """An hour item and a running total for every admitted key, the overflow counter and the type's total."""
    hour_expiry = group.hour_ms // 1000 + 3600 + hourly_retention_days * 86400
    total_expiry = int(now.timestamp()) + total_idle_days * 86400
    amounts = {**counted}
    if overflow:
        amounts[OVERFLOW] = overflow
    amounts[ALL_KEYS] = total
    found = []
    for encoded, amount in amounts.items():
        pk = counter_pk(group.tenant, group.event_type, encoded)
        found.append(CounterIncrement(pk, hour_sort_key(group.label), amount, hour_expiry))
        found.append(CounterIncrement(pk, TOTAL_SORT_KEY, amount, total_expiry))
    return found


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
