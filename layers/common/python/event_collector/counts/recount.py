"""Recount: the counters of the hours a compaction run touched, set to what the compacted tables hold.

Real-time counts are fast but at-least-once: a client that resends after a lost answer is counted twice
(even in another hour, or under another type, when the resend's copy is the one compaction drops), and a
count DynamoDB refused is missing (docs/counters.md). The compacted tables hold each accepted event
exactly once, and the ledger lists each compacted event with its type, receive time and counter key. So
once a unit is compacted, every (type, hour) whose raw objects it consumed is recounted from that day's
ledger and its counters are **set** (not added to):

- the type's total (``*``): the hour's events, 0 when every one was a duplicate of an earlier copy;
- each key holding a counter for the hour (the table's ``by_day`` index lists a day's keys): its events,
  0 when it has none left (its only events were duplicates);
- a key without a counter (its request's counting failed, or the hour's limit was reached) asks for one as
  the real-time path does, while the hour's admissions last; at most the limit of such keys is tallied;
- the overflow counter (``o:``): the events of the keys left without one, when there are any or it
  already holds the hour.

An hour with ledger rows written before the ledger had counter keys gets only its total set: its keys'
events are not all known, so their counters are left as they are.

Memory holds the keys with a counter on the day (bounded by the cardinality limit), at most the limit of
candidates per hour, and the totals, never every distinct key of the ledger. A recount is a pure function
of the committed ledger and of which keys hold a counter, so running it again writes the same values.
Counts of an hour only change this way once the hour is closed (compaction's grace period): the
real-time path never writes an hour that has ended, so in scheduled runs a recount and a request never race.
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
    hour_label,
    total_increment,
)
from event_collector.counts.record import CountingLimits
from event_collector.event_types import COUNTER_FIELDS
from event_collector.identifiers import is_event_type, is_tenant_id


class RecountStore(Protocol):
    def day_keys(self, tenant: str, event_type: str, day: str, hours: Sequence[str]) -> dict[str, set[str]]:
        """Every encoded key with a counter item on ``day`` (and the overflow counter), each with which of
        ``hours`` (``hHH`` attributes) it holds."""
        ...

    def admit(self, totals: Sequence[CounterIncrement], deadline: float | None = None) -> list[dict[str, int]]:
        """Add the totals' new keys to their hours' admissions; the admission counts after each write."""
        ...

    def set_hours(self, settings: Sequence[CounterIncrement]) -> None:
        """Set each item's hours to the given values (one write per item); StorageError if any failed."""
        ...


@dataclass
class _Hour:
    total: int = 0
    counted: dict[str, int] = field(default_factory=dict)  # encoded key with a counter -> events
    overflow: int = 0  # events of keys without a counter
    candidates: dict[str, int] = field(default_factory=dict)  # keys without one, in first-seen order (capped)
    legacy: bool = False  # a row of a ledger file without counter keys


@dataclass(frozen=True)
class RecountOutcome:
    hours: int
    events: int
    writes: int


def recount_day(
    tenant: str,
    day: str,
    wanted: dict[str, set[int]],
    rows: Iterable[tuple[str, int, str | None, bool]],
    store: RecountStore,
    *,
    limits: CountingLimits,
    now: int,
) -> RecountOutcome:
    """Recount ``wanted`` (event type -> hour starts, epoch ms) of one tenant's ``day`` (``YYYY-MM-DD``)
    from its ledger ``rows`` (event type, received_at, counter key, whether its file had counter keys)."""
    if not is_tenant_id(tenant):
        raise ValueError("tenant must be a validated identifier")
    groups = {
        (event_type, hour): HourGroup(tenant, event_type, hour)
        for event_type, hours in wanted.items()
        if is_event_type(event_type)  # the ledger holds validated values only; never build a key from others
        for hour in hours
    }
    live = {key: group for key, group in groups.items() if day_expiry(group, limits.retention_days) > now}
    if not live:
        return RecountOutcome(hours=0, events=0, writes=0)
    with_counter = {
        event_type: store.day_keys(
            tenant,
            event_type,
            day,
            sorted(hour_attribute(group.label) for (t, _), group in live.items() if t == event_type),
        )
        for event_type in sorted({event_type for event_type, _ in live})
    }
    tallies = {key: _Hour() for key in live}
    cap = limits.max_keys_per_hour
    for event_type, received_at, key, keyed in rows:
        tally = tallies.get((event_type, received_at // HOUR_MS * HOUR_MS))
        if tally is None:
            continue
        tally.total += 1
        if not keyed and event_type in COUNTER_FIELDS:
            tally.legacy = True
        if key is None:
            continue
        encoded = encode_key(key)
        attribute = hour_attribute(hour_label(received_at))
        if attribute in with_counter[event_type].get(encoded, ()):
            tally.counted[encoded] = tally.counted.get(encoded, 0) + 1
            continue
        tally.overflow += 1
        if encoded in tally.candidates or len(tally.candidates) < cap:
            tally.candidates[encoded] = tally.candidates.get(encoded, 0) + 1
    settings: list[CounterIncrement] = []
    for (event_type, hour), group in sorted(live.items()):
        settings += _hour_settings(group, tallies[(event_type, hour)], with_counter[event_type], store, limits)
    merged = _one_per_item(settings)
    store.set_hours(merged)
    return RecountOutcome(hours=len(live), events=sum(t.total for t in tallies.values()), writes=len(merged))


def _hour_settings(
    group: HourGroup, tally: _Hour, with_counter: dict[str, set[str]], store: RecountStore, limits: CountingLimits
) -> list[CounterIncrement]:
    attribute, sort_key = hour_attribute(group.label), day_sort_key(group.label)
    values = {ALL_KEYS: tally.total}
    if not tally.legacy:
        if tally.candidates:
            asked = total_increment(group, 0, len(tally.candidates), retention_days=limits.retention_days)
            (after,) = store.admit([asked])
            granted = granted_keys(
                len(tally.candidates), after[admission_attribute(group.label)], limits.max_keys_per_hour
            )
            for encoded in list(tally.candidates)[:granted]:
                tally.counted[encoded] = tally.candidates[encoded]
                tally.overflow -= tally.candidates[encoded]
        holding = [key for key, hours in with_counter.items() if attribute in hours and key != OVERFLOW]
        values |= {key: tally.counted.get(key, 0) for key in holding}  # 0: its only events were duplicates
        values |= tally.counted
        if tally.overflow or attribute in with_counter.get(OVERFLOW, ()):
            values[OVERFLOW] = tally.overflow
    expires_at = day_expiry(group, limits.retention_days)
    return [
        CounterIncrement(counter_pk(group.tenant, group.event_type, key), sort_key, {attribute: value}, expires_at)
        for key, value in values.items()
    ]


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
