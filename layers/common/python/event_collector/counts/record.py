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
    HourGroup,
    admission_attribute,
    granted_keys,
    key_increments,
    split_admitted,
    total_increment,
)

APPLIED_MARKER_SECONDS = 30 * 86400  # longer than any redelivery or redrive of the same object
KNOWN_KEYS_BYTES = 4 * 1024 * 1024  # of encoded keys a container remembers (the current and the last hour)


class CounterStore(Protocol):
    def known_keys(self, group: HourGroup, encoded: Sequence[str], deadline: float | None = None) -> set[str]:
        """Which of these keys already have a counter for the group's hour; StorageError when it cannot tell
        (or ``deadline``, ``time.monotonic()`` seconds, passed)."""
        ...

    def admit(self, totals: Sequence[CounterIncrement], deadline: float | None = None) -> list[dict[str, int]]:
        """Write each type's total together with its hours' new keys (``admitting``); return, for each,
        the admission counts (``aHH``) after the write. StorageError if any failed or the deadline passed."""
        ...

    def add(self, increments: Sequence[CounterIncrement], deadline: float | None = None) -> None:
        """One write per increment, side by side; raises StorageError if any failed or the deadline
        (``time.monotonic()`` seconds) passed first."""
        ...


class ObjectCounterStore(CounterStore, Protocol):
    def counted(self, source_id: str) -> bool:
        """Whether this object's counts were all applied (its marker exists)."""
        ...

    def mark_counted(self, source_id: str, expires_at: int) -> None:
        """Record that every count of this object was applied."""
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
    """What a container learnt of an hour's keys: those with a counter (a key counted in hour H keeps its
    counter for the rest of H) and those refused one (the hour's admissions were used up: they stay refused
    for the rest of H), so the next request need not ask DynamoDB again. Only the current and the previous
    hour are kept, within a byte budget (over it, everything is forgotten and learnt again)."""

    def __init__(self, max_bytes: int = KNOWN_KEYS_BYTES) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._counted: dict[HourGroup, set[str]] = {}
        self._refused: dict[HourGroup, set[str]] = {}

    def counted(self, group: HourGroup, encoded: Sequence[str]) -> set[str]:
        seen = self._counted.get(group)
        return {key for key in encoded if key in seen} if seen else set()

    def refused(self, group: HourGroup, encoded: Sequence[str]) -> set[str]:
        seen = self._refused.get(group)
        return {key for key in encoded if key in seen} if seen else set()

    def remember(self, group: HourGroup, counted: Sequence[str], refused: Sequence[str] = ()) -> None:
        latest = max([group.hour_ms, *(known.hour_ms for known in self._counted)])
        for table in (self._counted, self._refused):
            for old in [g for g in table if g.hour_ms < latest - 3_600_000]:
                self._bytes -= sum(len(key) for key in table.pop(old))
        added = sum(len(key) for key in (*counted, *refused))
        if self._bytes + added > self._max_bytes:
            self._counted, self._refused, self._bytes = {}, {}, 0
        for table, keys in ((self._counted, counted), (self._refused, refused)):
            known = table.setdefault(group, set())
            fresh = set(keys) - known
            self._bytes += sum(len(key) for key in fresh)
            known |= fresh


@dataclass
class _GroupPlan:
    group: HourGroup
    keys: dict[str, int]  # encoded key -> events, refused keys left out (their events count as overflow)
    overflow: int
    total: int
    known: set[str]
    new: int


def record_counts(
    tally: CounterTally, store: ObjectCounterStore, *, source_id: str, now: datetime, limits: CountingLimits
) -> CountingOutcome:
    """The fan-out's counting of one delivered object (``CountingMode=delivered``): all or retried.

    The marker is written last, once every count of the object was applied: a redelivered or duplicated
    S3 event finds it and counts nothing; a failure before it raises StorageError, so the invocation fails
    and Lambda retries the object (then its dead-letter queue, and a redrive). A retry may count again
    what the failed attempt had written (at-least-once, like real-time counts); once the object's hours are
    compacted, the recount sets them to their exact values (counts/recount.py)."""
    if not tally.groups:
        return CountingOutcome(applied=True, events=0, writes=0, overflowed=0)
    if store.counted(source_id):
        return CountingOutcome(applied=False, events=tally.events, writes=0, overflowed=0)
    outcome = apply_counts(tally, store, limits)
    store.mark_counted(source_id, int(now.timestamp()) + APPLIED_MARKER_SECONDS)
    return outcome


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
        cached = known.counted(group, candidates) if known else set()
        refused = known.refused(group, candidates) if known else set()
        unknown = [key for key in candidates if key not in cached and key not in refused]
        found = store.known_keys(group, unknown, deadline) if unknown else set()
        seen = cached | found
        keys = {key: amount for key, amount in counts.keys.items() if key not in refused}
        overflow = counts.overflow + sum(counts.keys[key] for key in refused)
        new = sum(1 for key in keys if key not in seen)
        plans.append(_GroupPlan(group, keys, overflow, counts.total, seen, new))
    totals = coalesce(
        [total_increment(plan.group, plan.total, plan.new, retention_days=limits.retention_days) for plan in plans]
    )
    admitting = [total for total in totals if total.admitting]
    admitted = dict(zip((_item(total) for total in admitting), store.admit(admitting, deadline), strict=True))
    planned: list[CounterIncrement] = [total for total in totals if not total.admitting]
    learnt: list[tuple[HourGroup, list[str], list[str]]] = []
    overflowed = 0
    for plan in plans:
        granted = 0
        if plan.new:
            total = total_increment(plan.group, 0, plan.new, retention_days=limits.retention_days)
            attribute = admission_attribute(plan.group.label)
            granted = granted_keys(plan.new, admitted[_item(total)][attribute], limits.max_keys_per_hour)
        counted, overflow = split_admitted(plan.keys, plan.known, granted)
        overflow += plan.overflow
        overflowed += overflow
        planned += key_increments(plan.group, counted, overflow, retention_days=limits.retention_days)
        # Keys refused now stay refused this hour: its admissions only grow.
        now_refused = [key for key in plan.keys if key not in counted] if granted < plan.new else []
        learnt.append((plan.group, list(counted), now_refused))
    writes = coalesce(planned)
    store.add(writes, deadline)
    if known is not None:  # only once written: a key remembered as counted has its counter this hour
        for group, counted_keys, refused_keys in learnt:
            known.remember(group, counted_keys, refused_keys)
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
