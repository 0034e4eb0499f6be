"""Recounts: an hour's counters set to the ledger's exact counts, whatever the real-time path left."""

from __future__ import annotations

from event_collector.counts.layout import HourGroup
from event_collector.counts.realtime import CountedEvent, RequestCounter
from event_collector.counts.record import CountingLimits
from event_collector.counts.recount import recount, tally_ledger
from tests.fakes.counters import MemoryCounters

HOUR = 1_780_000_000_000 // 3_600_000 * 3_600_000  # 2026-05-28T20
LABEL = "2026-05-28T20"
LIMITS = CountingLimits(max_keys_per_hour=1000, retention_days=3)


def realtime(store: MemoryCounters, *keys: str, at: int = HOUR + 1, limits: CountingLimits = LIMITS) -> None:
    events = [CountedEvent("acme", "page_view", at, key) for key in keys]
    RequestCounter(store, limits).count(events, seconds_left=10)


def ledger(*keys: str | None, at: int = HOUR + 5) -> list[tuple[str, int, str | None]]:
    return [("page_view", at, key) for key in keys]


def hour(store: MemoryCounters, key: str) -> int:
    return store.hourly(f"acme#page_view#{key}", LABEL, LABEL).get(LABEL, 0)


def test_given_real_time_counts_off_by_resends_and_losses_when_recounted_then_each_is_exact():
    store = MemoryCounters()
    realtime(store, "/a", "/a", "/a", "/b")  # /a resent once (3 for 2 events), /c's request failed to count

    recount(tally_ledger("acme", ledger("/a", "/a", "/b", "/c")), store, limits=LIMITS)

    assert (hour(store, "k:/a"), hour(store, "k:/b"), hour(store, "k:/c"), hour(store, "*")) == (2, 1, 1, 4)
    assert store.total("acme#page_view#*") == 4


def test_given_a_recount_when_run_again_then_it_writes_the_same_values():
    store = MemoryCounters()
    realtime(store, "/a", "/a")
    tally = tally_ledger("acme", ledger("/a"))

    recount(tally, store, limits=LIMITS)
    first = dict(store.items)
    recount(tally, store, limits=LIMITS)

    assert store.items == first
    assert hour(store, "k:/a") == 1


def test_given_keys_over_the_hours_limit_when_recounted_then_the_overflow_is_exact_and_no_key_is_added():
    store = MemoryCounters()
    limits = CountingLimits(max_keys_per_hour=2, retention_days=3)
    realtime(store, "/a", "/b", "/c", "/c", limits=limits)  # /c overflowed twice (one of them a resend)

    recount(tally_ledger("acme", ledger("/a", "/b", "/c", "/d")), store, limits=limits)

    keys = {pk for pk, _ in store.items if pk.startswith("acme#page_view#k:")}
    assert keys == {"acme#page_view#k:/a", "acme#page_view#k:/b"}
    assert hour(store, "o:") == 2  # /c and /d, once each
    assert hour(store, "*") == 4


def test_given_an_hour_whose_overflow_was_a_resend_when_recounted_then_the_overflow_goes_back_to_zero():
    store = MemoryCounters()
    limits = CountingLimits(max_keys_per_hour=1, retention_days=3)
    realtime(store, "/a", limits=limits)
    realtime(store, "/a", "/b", limits=limits)  # a resend of /a and /b's only event: /b overflows

    recount(tally_ledger("acme", ledger("/a")), store, limits=limits)  # /b was a duplicate of nothing: never compacted

    assert (hour(store, "k:/a"), hour(store, "o:"), hour(store, "*")) == (1, 0, 1)


def test_given_other_hours_when_one_hour_is_recounted_then_they_are_left_as_they_were():
    store = MemoryCounters()
    realtime(store, "/a", "/a", at=HOUR + 1)
    realtime(store, "/a", "/a", "/a", at=HOUR + 3_600_000 + 1)

    recount(tally_ledger("acme", ledger("/a")), store, limits=LIMITS)

    assert hour(store, "k:/a") == 1
    assert store.total("acme#page_view#k:/a") == 1 + 3


def test_given_a_type_without_a_counter_field_when_recounted_then_only_its_total_is_set():
    store = MemoryCounters()

    outcome = recount(tally_ledger("acme", [("identify", HOUR + 1, None)] * 3), store, limits=LIMITS)

    assert store.total("acme#identify#*") == 3
    assert outcome.writes == 1


def test_given_ledger_rows_of_two_hours_when_tallied_then_each_hour_has_its_own_counts():
    tally = tally_ledger("acme", [*ledger("/a", "/b"), *ledger("/a", at=HOUR + 3_600_000)])

    assert {group.hour_ms: counts.total for group, counts in tally.items()} == {HOUR: 2, HOUR + 3_600_000: 1}
    assert tally[HourGroup("acme", "page_view", HOUR)].keys == {"k:/a": 1, "k:/b": 1}
