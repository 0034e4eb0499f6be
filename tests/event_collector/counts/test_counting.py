"""Counter keys, the per-object tally, admission under the cardinality limit, and expiry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_collector.counts.layout import (
    ALL_KEYS,
    OVERFLOW,
    CounterTally,
    HourGroup,
    counter_pk,
    encode_key,
    hours_between,
)
from event_collector.counts.record import CountingLimits, record_counts

RECEIVED_AT = 1_780_000_000_000  # 2026-05-28T20:26:40Z
HOUR = RECEIVED_AT // 3_600_000 * 3_600_000
NOW = datetime(2026, 5, 28, 21, 0, tzinfo=UTC)


class MemoryCounters:
    """The counters table's behaviour, in memory (one item per (pk, sk))."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, int]] = {}
        self.applied: set[str] = set()

    def first_application(self, source_id, expires_at):
        if source_id in self.applied:
            return False
        self.applied.add(source_id)
        return True

    def known_keys(self, group, encoded):
        prefix = counter_pk(group.tenant, group.event_type, "")
        return {key for key in encoded if (prefix + key, f"hour#{group.label}") in self.items}

    def admit(self, group, wanted, limit, expires_at):
        item = self.items.setdefault((counter_pk(group.tenant, group.event_type, "keys"), f"hour#{group.label}"), {})
        granted = max(0, min(wanted, limit - item.get("admitted", 0)))
        item["admitted"] = item.get("admitted", 0) + granted
        return granted

    def add(self, increments):
        for increment in increments:
            item = self.items.setdefault((increment.pk, increment.sk), {})
            item["count"] = item.get("count", 0) + increment.amount
            item["expires_at"] = increment.expires_at

    def count(self, pk: str, sk: str) -> int:
        return self.items.get((pk, sk), {}).get("count", 0)


def tally_of(events, max_keys=1000) -> CounterTally:
    tally = CounterTally(max_keys)
    for event_type, key in events:
        tally.add("acme", event_type, RECEIVED_AT, key)
    return tally


def test_given_events_when_counted_then_one_write_per_distinct_counter_and_item_kind():
    store = MemoryCounters()
    events = [("page_view", "/a"), ("page_view", "/a"), ("page_view", "/b"), ("button_click", "buy")]

    outcome = record_counts(tally_of(events), store, source_id="s1", now=NOW, limits=CountingLimits())

    hour = "hour#2026-05-28T20"
    assert store.count("acme#page_view#k:/a", hour) == store.count("acme#page_view#k:/a", "total") == 2
    assert store.count("acme#page_view#k:/b", "total") == 1
    assert store.count("acme#page_view#*", hour) == store.count("acme#page_view#*", "total") == 3
    assert store.count("acme#button_click#k:buy", hour) == 1
    # two items (hour and total) per distinct key and per type: never one write per event
    assert outcome.writes == 2 * (2 + 1) + 2 * (1 + 1)


def test_given_the_same_object_delivered_twice_when_counted_then_it_counts_once():
    store = MemoryCounters()
    tally = tally_of([("page_view", "/a")])

    first = record_counts(tally, store, source_id="s1", now=NOW, limits=CountingLimits())
    again = record_counts(tally, store, source_id="s1", now=NOW, limits=CountingLimits())

    assert (first.applied, again.applied) == (True, False)
    assert store.count("acme#page_view#k:/a", "total") == 1


def test_given_more_keys_than_the_limit_when_counted_then_the_rest_go_to_overflow_and_totals_stay_exact():
    store = MemoryCounters()
    limits = CountingLimits(max_keys_per_hour=3)
    record_counts(tally_of([("track", f"k{n}") for n in range(2)]), store, source_id="s1", now=NOW, limits=limits)

    # Two keys known; of the next object's five new keys one more is admitted, four overflow.
    second = tally_of([("track", "k0"), *(("track", f"new{n}") for n in range(5))])
    outcome = record_counts(second, store, source_id="s2", now=NOW, limits=limits)

    hour = "hour#2026-05-28T20"
    keys = {pk for pk, _ in store.items if pk.startswith("acme#track#k:")}
    assert keys == {"acme#track#k:k0", "acme#track#k:k1", "acme#track#k:new0"}
    assert store.count(f"acme#track#{OVERFLOW}", hour) == outcome.overflowed == 4
    assert store.count(f"acme#track#{ALL_KEYS}", "total") == 2 + 6  # every event still counts in the total
    assert store.count("acme#track#k:k0", "total") == 2  # a known key keeps counting past the limit


def test_given_a_huge_object_when_tallied_then_memory_holds_at_most_the_limit_of_keys_per_hour():
    tally = tally_of([("track", f"k{n}") for n in range(10_000)], max_keys=50)

    (group,) = tally.groups.values()
    assert len(group.keys) == 50
    assert (group.overflow, group.total) == (9_950, 10_000)


def test_given_increments_when_written_then_hours_expire_after_retention_and_totals_after_idleness():
    store = MemoryCounters()
    limits = CountingLimits(hourly_retention_days=2, total_idle_days=10)

    record_counts(tally_of([("page_view", "/a")]), store, source_id="s1", now=NOW, limits=limits)

    hour_end = HOUR // 1000 + 3600
    assert store.items[("acme#page_view#k:/a", "hour#2026-05-28T20")]["expires_at"] == hour_end + 2 * 86400
    assert store.items[("acme#page_view#k:/a", "total")]["expires_at"] == int(NOW.timestamp()) + 10 * 86400


@given(st.text(max_size=1200), st.text(max_size=1200))
def test_given_two_different_keys_when_encoded_then_they_never_share_a_counter(first, second):
    if first != second:
        assert encode_key(first) != encode_key(second)
    assert encode_key(first) not in (ALL_KEYS, OVERFLOW)
    assert counter_pk("acme", "track", encode_key(first)) != counter_pk("acme", "track", ALL_KEYS)


@pytest.mark.parametrize(
    "key",
    ["*", "o:", "k:x", "h:" + "0" * 64, "keys", "a#b", "x" * 5000, "é" * 600],
)
def test_given_keys_that_look_like_reserved_names_when_encoded_then_they_stay_distinct(key):
    encoded = encode_key(key)

    assert encoded not in (ALL_KEYS, OVERFLOW, "keys")
    assert encoded.startswith(("k:", "h:"))
    assert len(encoded.encode()) <= 1002
    assert encode_key("h:" + "0" * 64) != encode_key("0" * 2000)


def test_given_a_range_when_listing_hours_then_both_ends_are_included():
    start = datetime(2026, 1, 1, 22, 30, tzinfo=UTC)
    end = datetime(2026, 1, 2, 1, 5, tzinfo=UTC)

    assert hours_between(start, end) == ["2026-01-01T22", "2026-01-01T23", "2026-01-02T00", "2026-01-02T01"]


def test_given_an_hour_group_when_labelled_then_it_is_the_utc_hour():
    assert HourGroup("acme", "track", HOUR).label == "2026-05-28T20"
