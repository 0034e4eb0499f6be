"""Recounts: an hour's counters set to the ledger's exact counts, whatever the real-time path left."""

from __future__ import annotations

from collections.abc import Iterable

from event_collector.counts.realtime import CountedEvent, RequestCounter
from event_collector.counts.record import CountingLimits
from event_collector.counts.recount import RecountOutcome, recount_day
from tests.fakes.counters import MemoryCounters

HOUR = 1_780_000_000_000 // 3_600_000 * 3_600_000  # 2026-05-28T20
NEXT = HOUR + 3_600_000
DAY = "2026-05-28"
NOW = HOUR // 1000 + 7200
LIMITS = CountingLimits(max_keys_per_hour=1000, retention_days=3)


def realtime(store: MemoryCounters, *keys: str | None, at: int = HOUR + 1, event_type: str = "page_view", **kw) -> None:
    events = [CountedEvent("acme", event_type, at, key) for key in keys]
    RequestCounter(store, kw.get("limits", LIMITS)).count(events, seconds_left=10)


def ledger(*keys: str | None, at: int = HOUR + 5, event_type: str = "page_view", keyed: bool = True) -> list:
    return [(event_type, at, key, keyed) for key in keys]


def recount(
    store: MemoryCounters,
    rows: Iterable,
    wanted: dict[str, set[int]] | None = None,
    limits: CountingLimits = LIMITS,
    now: int = NOW,
) -> RecountOutcome:
    return recount_day("acme", DAY, wanted or {"page_view": {HOUR}}, rows, store, limits=limits, now=now)


def hour(store: MemoryCounters, key: str, event_type: str = "page_view", at: int = HOUR) -> int:
    label = "2026-05-28T" + ("20" if at == HOUR else "21")
    return store.hourly(f"acme#{event_type}#{key}", label, label).get(label, 0)


def test_given_real_time_counts_off_by_resends_and_losses_when_recounted_then_each_is_exact():
    store = MemoryCounters()
    realtime(store, "/a", "/a", "/a", "/b")  # /a resent once (3 for 2 events), /c's request failed to count

    recount(store, ledger("/a", "/a", "/b", "/c"))

    assert (hour(store, "k:/a"), hour(store, "k:/b"), hour(store, "k:/c"), hour(store, "*")) == (2, 1, 1, 4)
    assert store.total("acme#page_view#*") == 4


def test_given_a_recount_when_run_again_then_it_writes_the_same_values():
    store = MemoryCounters()
    realtime(store, "/a", "/a")
    rows = ledger("/a")

    recount(store, rows)
    first = {key: dict(item) for key, item in store.items.items()}
    recount(store, rows)

    assert store.items == first
    assert hour(store, "k:/a") == 1


def test_given_a_resend_counted_in_the_next_hour_when_both_hours_are_recounted_then_it_counts_once():
    # Sent at 20:59:59, resent at 21:00:01 with the same id: compaction keeps the first, so the 21:00 hour
    # has no row of it; its real-time count there must go back to zero, the key's and the type's.
    store = MemoryCounters()
    realtime(store, "/a", at=HOUR + 3_599_999)
    realtime(store, "/a", at=NEXT + 1)

    recount(store, ledger("/a", at=HOUR + 3_599_999), wanted={"page_view": {HOUR, NEXT}})

    assert (hour(store, "k:/a"), hour(store, "k:/a", at=NEXT)) == (1, 0)
    assert (hour(store, "*"), hour(store, "*", at=NEXT)) == (1, 0)
    assert store.total("acme#page_view#k:/a") == 1


def test_given_one_id_under_two_types_when_recounted_then_the_dropped_types_counts_go_to_zero():
    store = MemoryCounters()
    realtime(store, "Signed Up", event_type="track")
    realtime(store, None, event_type="identify")

    recount(store, ledger("Signed Up", event_type="track"), wanted={"track": {HOUR}, "identify": {HOUR}})

    assert (hour(store, "*", "track"), hour(store, "k:Signed Up", "track")) == (1, 1)
    assert hour(store, "*", "identify") == 0


def test_given_keys_over_the_hours_limit_when_recounted_then_the_overflow_is_exact_and_no_key_is_added():
    store = MemoryCounters()
    limits = CountingLimits(max_keys_per_hour=2, retention_days=3)
    realtime(store, "/a", "/b", "/c", "/c", limits=limits)  # /c overflowed twice (one of them a resend)

    recount(store, ledger("/a", "/b", "/c", "/d"), limits=limits)

    keys = {pk for pk, _ in store.items if pk.startswith("acme#page_view#k:")}
    assert keys == {"acme#page_view#k:/a", "acme#page_view#k:/b"}
    assert hour(store, "o:") == 2  # /c and /d, once each
    assert hour(store, "*") == 4


def test_given_an_hour_whose_overflow_was_a_resend_when_recounted_then_the_overflow_goes_back_to_zero():
    store = MemoryCounters()
    limits = CountingLimits(max_keys_per_hour=1, retention_days=3)
    realtime(store, "/a", limits=limits)
    realtime(store, "/a", "/b", limits=limits)  # a resend of /a and /b's only event: /b overflows

    recount(store, ledger("/a"), limits=limits)  # /b's copy was the one dropped

    assert (hour(store, "k:/a"), hour(store, "o:"), hour(store, "*")) == (1, 0, 1)


def test_given_a_key_whose_request_failed_to_count_when_recounted_then_it_gets_its_counter_within_the_limit():
    store = MemoryCounters()
    limits = CountingLimits(max_keys_per_hour=2, retention_days=3)

    recount(store, ledger("/a", "/b", "/c"), limits=limits)

    assert (hour(store, "k:/a"), hour(store, "k:/b"), hour(store, "o:")) == (1, 1, 1)


def test_given_ledger_files_from_before_counter_keys_when_recounted_then_only_the_total_is_set():
    store = MemoryCounters()
    realtime(store, "/a", "/a", "/a")  # three events, acknowledged before the upgrade

    recount(store, [*ledger(None, None, keyed=False), *ledger("/a")])  # two in an old file, one since

    assert hour(store, "*") == 3
    assert hour(store, "k:/a") == 3  # left alone: its events are not all known


def test_given_other_hours_when_one_hour_is_recounted_then_they_are_left_as_they_were():
    store = MemoryCounters()
    realtime(store, "/a", "/a", at=HOUR + 1)
    realtime(store, "/a", "/a", "/a", at=NEXT + 1)

    recount(store, [*ledger("/a"), *ledger("/a", at=NEXT + 5)])  # the ledger has both hours; one is recounted

    assert (hour(store, "k:/a"), hour(store, "k:/a", at=NEXT)) == (1, 3)


def test_given_a_day_past_its_retention_when_recounted_then_nothing_is_written():
    store = MemoryCounters()

    outcome = recount(store, ledger("/a"), now=NOW + 10 * 86_400)

    assert outcome.writes == 0
    assert store.items == {}


def test_given_a_type_without_a_counter_field_when_recounted_then_only_its_total_is_set():
    store = MemoryCounters()

    outcome = recount(store, [("identify", HOUR + 1, None, True)] * 3, wanted={"identify": {HOUR}})

    assert store.total("acme#identify#*") == 3
    assert outcome.writes == 1


def test_given_many_distinct_keys_when_recounted_then_only_the_limits_worth_are_tallied_one_by_one():
    store = MemoryCounters()
    limits = CountingLimits(max_keys_per_hour=10, retention_days=3)

    outcome = recount(store, ledger(*(f"/{n}" for n in range(5_000))), limits=limits)

    keys = {pk for pk, _ in store.items if pk.startswith("acme#page_view#k:")}
    assert len(keys) == 10
    assert hour(store, "o:") == 4_990
    assert outcome.writes == 10 + 2  # the keys, the total and the overflow
