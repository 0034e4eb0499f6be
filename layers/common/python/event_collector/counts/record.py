"""Apply counts to the counters table: a request's events (the collector, real time) or a delivered raw
object's (the fan-out, at most once per object). docs/counters.md.

Writes, whoever counts: one per distinct counter key (and UTC day), plus one per event type for its
total, which also carries the hour's key admissions; never one per event, never read-then-write.
Reads: one ``BatchGetItem`` per hundred keys not already known to have a counter this hour, and none
for a key a :class:`KnownKeys` cache has seen this hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from event_collector.counts.layout import (
    DEFAULT_MAX_KEYS_PER_HOUR,
    DEFAULT_RETENTION_DAYS,
    CounterIncrement,
    CounterTally,
    GroupTally,
    HourGroup,
    admission_attribute,
    granted_keys,
    key_increments,
    split_admitted,
    total_increment,
)

APPLIED_MARKER_SECONDS = 30 * 86400  # longer than any redelivery or redrive of the same object
KNOWN_KEYS_LIMIT = 50_000  # keys a container remembers (the current and the last hour): a few MB at most


class CounterStore(Protocol):
    def known_keys(self, group: HourGroup, encoded: Sequence[str], deadline: float | None = None) -> set[str]:
        """Which of these keys already have a counter for the group's hour; StorageError when it cannot tell
        (or ``deadline``, ``time.monotonic()`` seconds, passed)."""
        ...

    def admit(self, totals: Sequence[CounterIncrement]) -> list[dict[str, int]]:
        """Write each type's total together with its hours' new keys (``admitting``); return, for each,
        the admission counts (``aHH``) after the write."""
        ...

    def add(self, increments: Sequence[CounterIncrement], deadline: float | None = None) -> None:
        """One write per increment, side by side; raises StorageError if any failed or the deadline
        (``time.monotonic()`` seconds) passed first."""
        ...


class ObjectCounterStore(CounterStore, Protocol):
    def first_application(self, source_id: str, expires_at: int) -> bool:
        """Record that this object's counts are being applied; False if that was recorded before."""
        ...


@dataclass(frozen=True)
class CountingLimits:
    max_keys_per_hour: int = DEFAULT_MAX_KEYS_PER_HOUR
    retention_days: int = DEFAULT_RETENTION_DAYS


@dataclass(frozen=True)
class CountingOutcome:
    applied: bool  # False: this object's counts were applied before (a redelivered S3 event)
    events: int
    writes: int
    overflowed: int


class KnownKeys:
    """The keys a container has seen counted in an hour: a key with a counter in hour H keeps it for the
    rest of H, so the next request need not ask DynamoDB again. Bounded; older hours are forgotten."""

    def __init__(self, limit: int = KNOWN_KEYS_LIMIT) -> None:
        self._limit = limit
        self._hours: dict[HourGroup, set[str]] = {}

    def known(self, group: HourGroup, encoded: Sequence[str]) -> set[str]:
        seen = self._hours.get(group)
        return {key for key in encoded if key in seen} if seen else set()

    def remember(self, group: HourGroup, encoded: Sequence[str]) -> None:
        if group not in self._hours:
            latest = max([group.hour_ms, *(known.hour_ms for known in self._hours)])
            self._hours = {g: keys for g, keys in self._hours.items() if g.hour_ms >= latest - 3_600_000}
        if sum(len(seen) for seen in self._hours.values()) + len(encoded) > self._limit:
            self._hours = {}
        self._hours.setdefault(group, set()).update(encoded)


@dataclass
class _GroupPlan:
    group: HourGroup
    counts: GroupTally
    known: set[str]
    new: int


def record_counts(
    tally: CounterTally, store: ObjectCounterStore, *, source_id: str, now: datetime, limits: CountingLimits
) -> CountingOutcome:
    """The fan-out's counting of one delivered object. The marker is written first, so a retried or
    duplicated delivery never counts twice; a failure after it leaves the object undercounted (reported
    by the caller), never overcounted."""
    if not tally.groups:
        return CountingOutcome(applied=True, events=0, writes=0, overflowed=0)
    if not store.first_application(source_id, int(now.timestamp()) + APPLIED_MARKER_SECONDS):
        return CountingOutcome(applied=False, events=tally.events, writes=0, overflowed=0)
    return apply_counts(tally, store, limits)


def apply_counts(
    tally: CounterTally,
    store: CounterStore,
    limits: CountingLimits,
    *,
    known: KnownKeys | None = None,
    deadline: float | None = None,
) -> CountingOutcome:
    """Add the tally's events to their counters. New keys of an hour are admitted by the write that adds
    the type's total (then the keys are written side by side); when every key is known, all writes go
    side by side at once."""
    if not tally.groups:
        return CountingOutcome(applied=True, events=0, writes=0, overflowed=0)
    plans = []
    for group, counts in sorted(tally.groups.items()):
        candidates = list(counts.keys)
        cached = known.known(group, candidates) if known else set()
        unknown = [key for key in candidates if key not in cached]
        found = store.known_keys(group, unknown, deadline) if unknown else set()
        seen = cached | found
        plans.append(_GroupPlan(group, counts, seen, sum(1 for key in candidates if key not in seen)))
    totals = coalesce(
        [
            total_increment(plan.group, plan.counts.total, plan.new, retention_days=limits.retention_days)
            for plan in plans
        ]
    )
    admitting = [total for total in totals if total.admitting]
    admitted = dict(zip((_item(total) for total in admitting), store.admit(admitting), strict=True))
    planned: list[CounterIncrement] = [total for total in totals if not total.admitting]
    with_counters: list[tuple[HourGroup, list[str]]] = []
    overflowed = 0
    for plan in plans:
        granted = 0
        if plan.new:
            total = total_increment(plan.group, 0, plan.new, retention_days=limits.retention_days)
            attribute = admission_attribute(plan.group.label)
            granted = granted_keys(plan.new, admitted[_item(total)][attribute], limits.max_keys_per_hour)
        counted, overflow = split_admitted(plan.counts.keys, plan.known, granted)
        overflow += plan.counts.overflow
        overflowed += overflow
        planned += key_increments(plan.group, counted, overflow, retention_days=limits.retention_days)
        with_counters.append((plan.group, list(counted)))
    writes = coalesce(planned)
    store.add(writes, deadline)
    if known is not None:  # only once written: a key remembered has its counter this hour
        for group, keys in with_counters:
            known.remember(group, keys)
    return CountingOutcome(
        applied=True, events=tally.events, writes=len(writes) + len(admitting), overflowed=overflowed
    )


def _item(increment: CounterIncrement) -> tuple[str, str]:
    return increment.pk, increment.sk


def coalesce(planned: Sequence[CounterIncrement]) -> list[CounterIncrement]:
    """One write per item: a key's day item touched by several hours of one object is written once."""
    merged: dict[tuple[str, str], CounterIncrement] = {}
    for increment in planned:
        seen = merged.get(_item(increment))
        if seen:
            hours, admitting = dict(seen.hours), dict(seen.admitting)
            for attribute, amount in increment.hours.items():
                hours[attribute] = hours.get(attribute, 0) + amount
            for attribute, amount in increment.admitting.items():
                admitting[attribute] = admitting.get(attribute, 0) + amount
            increment = CounterIncrement(
                increment.pk, increment.sk, hours, max(seen.expires_at, increment.expires_at), admitting
            )
        merged[_item(increment)] = increment
    return list(merged.values())
