"""The collector's real-time counting: writes per request, the known-keys cache, the limit, the time budget."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from event_collector.counts.layout import HourGroup
from event_collector.counts.realtime import (
    MIN_SECONDS,
    CountedEvent,
    CountingSkipped,
    CountingTimedOut,
    RequestCounter,
)
from event_collector.counts.record import CountingLimits, KnownKeys
from tests.fakes.counters import MemoryCounters

RECEIVED_AT = 1_780_000_000_000  # 2026-05-28T20:26:40Z
NEXT_HOUR = RECEIVED_AT + 3_600_000


class CountingReads(MemoryCounters):
    """The fake table, also counting its reads (BatchGetItem calls)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def known_keys(self, group: HourGroup, encoded: Sequence[str], deadline: float | None = None) -> set[str]:
        self.reads += 1
        return super().known_keys(group, encoded, deadline)


def events(*keys: str | None, event_type: str = "page_view", received_at: int = RECEIVED_AT) -> list[CountedEvent]:
    return [CountedEvent("acme", event_type, received_at, key) for key in keys]


def test_given_a_request_when_counted_then_one_write_per_distinct_key_and_one_per_type():
    store = CountingReads()
    counter = RequestCounter(store, CountingLimits())

    outcome = counter.count([*events("/a", "/a", "/b"), *events("buy", event_type="button_click")], seconds_left=10)

    assert outcome.writes == store.writes == (2 + 1) + (1 + 1)
    assert store.total("acme#page_view#k:/a") == 2
    assert store.total("acme#page_view#*") == 3
    assert store.total("acme#button_click#k:buy") == 1


def test_given_keys_counted_this_hour_by_this_container_then_the_next_request_reads_nothing():
    store = CountingReads()
    counter = RequestCounter(store, CountingLimits())

    counter.count(events("/a", "/b"), seconds_left=10)
    reads_after_first = store.reads
    second = counter.count(events("/a", "/b"), seconds_left=10)

    assert reads_after_first == 1
    assert store.reads == 1  # both keys known: no BatchGetItem
    assert second.writes == 3  # the two keys and the type's total, side by side
    assert store.total("acme#page_view#k:/a") == 2


def test_given_a_new_hour_then_the_cache_does_not_vouch_for_it():
    store = CountingReads()
    counter = RequestCounter(store, CountingLimits(max_keys_per_hour=1))

    counter.count(events("/a"), seconds_left=10)
    counter.count(events("/b", received_at=NEXT_HOUR), seconds_left=10)

    assert store.reads == 2
    assert store.total("acme#page_view#k:/b") == 1  # admitted: the limit is per hour


def test_given_more_new_keys_than_the_limit_across_requests_then_the_rest_count_as_overflow():
    store = MemoryCounters()
    first, second = (RequestCounter(store, CountingLimits(max_keys_per_hour=3)) for _ in range(2))  # two containers

    first.count(events("/a", "/b"), seconds_left=10)
    outcome = second.count(events("/a", "/c", "/d", "/e"), seconds_left=10)

    keys = {pk for pk, _ in store.items if pk.startswith("acme#page_view#k:")}
    assert keys == {"acme#page_view#k:/a", "acme#page_view#k:/b", "acme#page_view#k:/c"}
    assert outcome.overflowed == 2
    assert store.total("acme#page_view#o:") == 2
    assert store.total("acme#page_view#*") == 6


def test_given_a_type_without_a_counter_field_then_only_its_total_counts():
    store = MemoryCounters()

    outcome = RequestCounter(store, CountingLimits()).count(events(None, None, event_type="identify"), seconds_left=10)

    assert outcome.writes == 1
    assert store.total("acme#identify#*") == 2


def test_given_too_little_time_left_then_counting_is_skipped_and_says_so():
    store = MemoryCounters()

    with pytest.raises(CountingSkipped, match="left"):
        RequestCounter(store, CountingLimits()).count(events("/a"), seconds_left=MIN_SECONDS - 0.1)

    assert store.items == {}


def test_given_the_known_keys_cache_when_over_its_byte_budget_then_it_starts_again_instead_of_growing():
    known = KnownKeys(max_bytes=12)
    group = HourGroup("acme", "page_view", RECEIVED_AT // 3_600_000 * 3_600_000)

    known.remember(group, ["k:1", "k:2", "k:3"])  # 9 bytes
    known.remember(group, ["k:4", "k:5"])  # 6 more: over 12, so everything before is forgotten

    assert known.counted(group, ["k:1", "k:4", "k:5"]) == {"k:4", "k:5"}


def test_given_a_later_hour_when_remembered_then_hours_before_the_last_one_are_forgotten():
    known = KnownKeys()
    hours = [HourGroup("acme", "page_view", RECEIVED_AT // 3_600_000 * 3_600_000 + n * 3_600_000) for n in range(3)]

    for group in hours:
        known.remember(group, ["k:a"], ["k:b"])

    assert [bool(known.counted(group, ["k:a"])) for group in hours] == [False, True, True]
    assert [bool(known.refused(group, ["k:b"])) for group in hours] == [False, True, True]


def test_given_an_hour_whose_admissions_ran_out_then_its_refused_keys_are_not_read_again():
    store = CountingReads()
    counter = RequestCounter(store, CountingLimits(max_keys_per_hour=1))

    counter.count(events("/a"), seconds_left=10)  # admitted: the hour's one key
    counter.count(events("/b"), seconds_left=10)  # read, asked, refused
    reads = store.reads
    outcome = counter.count(events("/b", "/b"), seconds_left=10)

    assert reads == 2
    assert store.reads == reads  # /b is known refused for this hour: no BatchGetItem
    assert outcome.overflowed == 2
    assert store.total("acme#page_view#o:") == 3
    assert store.total("acme#page_view#*") == 4


class Blocked(MemoryCounters):
    """A table that never answers (a hung connection, a DNS lookup that never returns)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def known_keys(self, group: HourGroup, encoded: Sequence[str], deadline: float | None = None) -> set[str]:
        self.release.wait()
        return set()


def test_given_a_table_that_never_answers_then_the_request_waits_no_longer_than_it_has_and_says_so():
    store = Blocked()
    counter = RequestCounter(store, CountingLimits())
    try:
        with pytest.raises(CountingTimedOut, match="not confirmed"):
            counter.count(events("/a"), seconds_left=MIN_SECONDS)
        # The hung job still runs: the next request is not queued behind it.
        with pytest.raises(CountingSkipped, match="still running"):
            counter.count(events("/b"), seconds_left=10)
    finally:
        store.release.set()
