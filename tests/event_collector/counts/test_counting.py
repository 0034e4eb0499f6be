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
from tests.fakes.counters import MemoryCounters

RECEIVED_AT = 1_780_000_000_000  # 2026-05-28T20:26:40Z
HOUR = RECEIVED_AT // 3_600_000 * 3_600_000
NOW = datetime(2026, 5, 28, 21, 0, tzinfo=UTC)


LABEL = "2026-05-28T20"


def hour_count(store: MemoryCounters, pk: str) -> int:
    return store.hourly(pk, LABEL, LABEL).get(LABEL, 0)


def tally_of(events, max_keys=1000) -> CounterTally:
    tally = CounterTally(max_keys)
    for event_type, key in events:
        tally.add("acme", event_type, RECEIVED_AT, key)
    return tally


def test_given_events_when_counted_then_one_write_per_distinct_counter_and_item_kind():
    store = MemoryCounters()
    events = [("page_view", "/a"), ("page_view", "/a"), ("page_view", "/b"), ("button_click", "buy")]

    outcome = record_counts(tally_of(events), store, source_id="s1", now=NOW, limits=CountingLimits())

    assert hour_count(store, "acme#page_view#k:/a") == store.total("acme#page_view#k:/a") == 2
    assert store.total("acme#page_view#k:/b") == 1
    assert hour_count(store, "acme#page_view#*") == store.total("acme#page_view#*") == 3
    assert hour_count(store, "acme#button_click#k:buy") == 1
    # one item (the key's day: its hour and its total together) per distinct key and per type
    assert outcome.writes == store.writes == (2 + 1) + (1 + 1)


def test_given_an_object_spanning_two_hours_of_a_day_when_counted_then_still_one_write_per_key():
    store = MemoryCounters()
    tally = CounterTally()
    for received_at in (HOUR + 1, HOUR + 3_600_000 + 1):
        tally.add("acme", "page_view", received_at, "/a")

    outcome = record_counts(tally, store, source_id="s1", now=NOW, limits=CountingLimits())

    assert outcome.writes == 2  # the key's day item and the type's, each once
    assert store.hourly("acme#page_view#k:/a", "2026-05-28T20", "2026-05-28T21") == {
        "2026-05-28T20": 1,
        "2026-05-28T21": 1,
    }
    assert store.total("acme#page_view#k:/a") == 2


def test_given_the_same_object_delivered_twice_when_counted_then_it_counts_once():
    store = MemoryCounters()
    tally = tally_of([("page_view", "/a")])

    first = record_counts(tally, store, source_id="s1", now=NOW, limits=CountingLimits())
    again = record_counts(tally, store, source_id="s1", now=NOW, limits=CountingLimits())

    assert (first.applied, again.applied) == (True, False)
    assert store.total("acme#page_view#k:/a") == 1


def test_given_more_keys_than_the_limit_when_counted_then_the_rest_go_to_overflow_and_totals_stay_exact():
    store = MemoryCounters()
    limits = CountingLimits(max_keys_per_hour=3)
    record_counts(tally_of([("track", f"k{n}") for n in range(2)]), store, source_id="s1", now=NOW, limits=limits)

    # Two keys known; of the next object's five new keys one more is admitted, four overflow.
    second = tally_of([("track", "k0"), *(("track", f"new{n}") for n in range(5))])
    outcome = record_counts(second, store, source_id="s2", now=NOW, limits=limits)

    keys = {pk for pk, _ in store.items if pk.startswith("acme#track#k:")}
    assert keys == {"acme#track#k:k0", "acme#track#k:k1", "acme#track#k:new0"}
    assert hour_count(store, f"acme#track#{OVERFLOW}") == outcome.overflowed == 4
    assert store.total(f"acme#track#{ALL_KEYS}") == 2 + 6  # every event still counts in the total
    assert store.total("acme#track#k:k0") == 2  # a known key keeps counting past the limit


def test_given_a_huge_object_when_tallied_then_memory_holds_at_most_the_limit_of_keys_per_hour():
    tally = tally_of([("track", f"k{n}") for n in range(10_000)], max_keys=50)

    (group,) = tally.groups.values()
    assert len(group.keys) == 50
    assert (group.overflow, group.total) == (9_950, 10_000)


def test_given_increments_when_written_then_a_day_expires_retention_days_after_it_ended():
    store = MemoryCounters()
    limits = CountingLimits(retention_days=2)

    record_counts(tally_of([("page_view", "/a")]), store, source_id="s1", now=NOW, limits=limits)

    day_end = int(datetime(2026, 5, 29, tzinfo=UTC).timestamp())
    assert store.items[("acme#page_view#k:/a", "day#2026-05-28")]["expires_at"] == day_end + 2 * 86400


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
