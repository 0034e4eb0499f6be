"""Apply one raw object's counts to the counters table, at most once per object (docs/counters.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from event_collector.counts.layout import (
    DEFAULT_MAX_KEYS_PER_HOUR,
    DEFAULT_RETENTION_DAYS,
    REGISTRY_RETENTION_SECONDS,
    CounterIncrement,
    CounterTally,
    HourGroup,
    increments,
    split_admitted,
)

APPLIED_MARKER_SECONDS = 30 * 86400  # longer than any redelivery or redrive of the same object


class CounterStore(Protocol):
    def first_application(self, source_id: str, expires_at: int) -> bool:
        """Record that this object's counts are being applied; False if that was recorded before."""
        ...

    def known_keys(self, group: HourGroup, encoded: Sequence[str]) -> set[str]:
        """Which of these keys already have a counter for the group's hour."""
        ...

    def admit(self, group: HourGroup, wanted: int, limit: int, expires_at: int) -> int:
        """Reserve up to ``wanted`` new keys for the hour, never past ``limit``; how many were granted."""
        ...

    def add(self, increments: Sequence[CounterIncrement]) -> None: ...


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


def record_counts(
    tally: CounterTally, store: CounterStore, *, source_id: str, now: datetime, limits: CountingLimits
) -> CountingOutcome:
    """The marker is written first, so a retried or duplicated delivery never counts twice; a failure
    after it leaves the object undercounted (reported by the caller), never overcounted."""
    if not tally.groups:
        return CountingOutcome(applied=True, events=0, writes=0, overflowed=0)
    if not store.first_application(source_id, int(now.timestamp()) + APPLIED_MARKER_SECONDS):
        return CountingOutcome(applied=False, events=tally.events, writes=0, overflowed=0)
    planned: list[CounterIncrement] = []
    overflowed = 0
    for group, counts in sorted(tally.groups.items()):
        candidates = list(counts.keys)
        known = store.known_keys(group, candidates) if candidates else set()
        wanted = sum(1 for key in candidates if key not in known)
        expiry = group.hour_ms // 1000 + REGISTRY_RETENTION_SECONDS
        granted = store.admit(group, wanted, limits.max_keys_per_hour, expiry) if wanted else 0
        counted, overflow = split_admitted(counts.keys, known, granted)
        overflow += counts.overflow
        overflowed += overflow
        planned += increments(group, counted, overflow, counts.total, retention_days=limits.retention_days)
    writes = coalesce(planned)
    store.add(writes)
    return CountingOutcome(applied=True, events=tally.events, writes=len(writes), overflowed=overflowed)


def coalesce(planned: Sequence[CounterIncrement]) -> list[CounterIncrement]:
    """One write per item: a key's day item touched by several hours of one object is written once."""
    merged: dict[tuple[str, str], CounterIncrement] = {}
    for increment in planned:
        seen = merged.get((increment.pk, increment.sk))
        if seen:
            hours = dict(seen.hours)
            for attribute, amount in increment.hours.items():
                hours[attribute] = hours.get(attribute, 0) + amount
            increment = CounterIncrement(increment.pk, increment.sk, hours, max(seen.expires_at, increment.expires_at))
        merged[(increment.pk, increment.sk)] = increment
    return list(merged.values())
