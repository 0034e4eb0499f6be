"""Recount: the counters of the hours a compaction run touched, set to what the compacted tables hold.

Real-time counts are fast but at-least-once: a client that resends after a lost answer is counted twice,
and a count DynamoDB refused is missing (docs/counters.md). The compacted tables hold each accepted event
exactly once, and the ledger lists each compacted event with its type, receive time and counter key. So
once a unit is compacted, every hour it touched is recounted from that day's ledger and its counters
are **set** (not added to):

- the type's total (``*``): every event of the hour;
- each key that has a counter of its own this hour: its events. A key without one (its request's counting
  failed, or the hour's limit was reached) asks for one as the real-time path does, while the hour's
  admissions last;
- the overflow counter (``o:``): the events of the keys left without one, when there are any or it
  already had a value.

A recount is a pure function of the committed ledger and of which keys hold a counter, so running it
again (a retried Compact, a second run) writes the same values: nothing to mark, nothing to lose.
Counts of an hour only change this way once the hour is closed (compaction's grace period): the
real-time path never writes an hour that has ended, so a recount and a request never race.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from event_collector.counts.layout import (
    ALL_KEYS,
    HOUR_MS,
    OVERFLOW,
    CounterIncrement,
    HourGroup,
    admission_attribute,
    counter_pk,
    day_expiry,
    day_sort_key,
    encode_key,
    granted_keys,
    hour_attribute,
    total_increment,
)
from event_collector.counts.record import CountingLimits
from event_collector.identifiers import is_event_type, is_tenant_id


class RecountStore(Protocol):
    def known_keys(self, group: HourGroup, encoded: Sequence[str], deadline: float | None = None) -> set[str]:
        """Which of these keys hold a counter for the group's hour."""
        ...

    def admit(self, totals: Sequence[CounterIncrement], deadline: float | None = None) -> list[dict[str, int]]:
        """Add the totals' new keys to their hours' admissions; the admission counts after each write."""
        ...

    def set_hours(self, settings: Sequence[CounterIncrement]) -> None:
        """Set each item's hours to the given values (one write per item); StorageError if any failed."""
        ...


@dataclass
class HourCounts:
    total: int = 0
    keys: dict[str, int] = field(default_factory=dict)  # encoded key -> events


@dataclass(frozen=True)
class RecountOutcome:
    hours: int
    events: int
    writes: int


def tally_ledger(tenant: str, rows: Iterable[tuple[str, int, str | None]]) -> dict[HourGroup, HourCounts]:
    """Ledger rows (event type, received_at, counter key) of one tenant, per type and hour."""
    hours: dict[HourGroup, HourCounts] = {}
    for event_type, received_at, key in rows:
        group = HourGroup(tenant, event_type, received_at // HOUR_MS * HOUR_MS)
        counts = hours.setdefault(group, HourCounts())
        counts.total += 1
        if key is not None:
            encoded = encode_key(key)
            counts.keys[encoded] = counts.keys.get(encoded, 0) + 1
    return hours


def recount(hours: dict[HourGroup, HourCounts], store: RecountStore, *, limits: CountingLimits) -> RecountOutcome:
    """Set the counters of ``hours`` (each hour's complete tally from the ledger) to their exact values."""
    settings: list[CounterIncrement] = []
    retention_days = limits.retention_days
    for group, counts in sorted(hours.items()):
        if not (is_tenant_id(group.tenant) and is_event_type(group.event_type)):
            continue  # the ledger only ever holds validated values; never build a key from anything else
        with_counter = store.known_keys(group, [*counts.keys, OVERFLOW])
        without = [key for key in counts.keys if key not in with_counter]
        if without:
            asked = total_increment(group, 0, len(without), retention_days=retention_days)
            (after,) = store.admit([asked])
            granted = granted_keys(len(without), after[admission_attribute(group.label)], limits.max_keys_per_hour)
            with_counter |= set(without[:granted])
        overflow = sum(amount for key, amount in counts.keys.items() if key not in with_counter)
        values = {key: amount for key, amount in counts.keys.items() if key in with_counter}
        values[ALL_KEYS] = counts.total
        if overflow or OVERFLOW in with_counter:
            values[OVERFLOW] = overflow
        attribute, sort_key = hour_attribute(group.label), day_sort_key(group.label)
        expires_at = day_expiry(group, retention_days)
        settings += [
            CounterIncrement(counter_pk(group.tenant, group.event_type, key), sort_key, {attribute: value}, expires_at)
            for key, value in values.items()
        ]
    merged = _one_per_item(settings)
    store.set_hours(merged)
    return RecountOutcome(hours=len(hours), events=sum(c.total for c in hours.values()), writes=len(merged))


def _one_per_item(settings: Sequence[CounterIncrement]) -> list[CounterIncrement]:
    """The hours of one day item set by one write."""
    merged: dict[tuple[str, str], CounterIncrement] = {}
    for setting in settings:
        seen = merged.get((setting.pk, setting.sk))
        if seen is not None:
            setting = CounterIncrement(
                setting.pk, setting.sk, {**seen.hours, **setting.hours}, max(seen.expires_at, setting.expires_at)
            )
        merged[(setting.pk, setting.sk)] = setting
    return list(merged.values())
