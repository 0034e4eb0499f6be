from __future__ import annotations

from datetime import UTC, datetime

from event_collector.counters import counter_increments, counter_pk, hours_between

RECEIVED_AT = 1_780_000_000_000  # 2026-05-28T20:26:40Z


def test_given_events_when_incremented_then_one_increment_per_distinct_counter_and_bucket():
    events = [("page_view", "/a"), ("page_view", "/a"), ("page_view", "/b"), ("button_click", "buy")]

    increments = counter_increments(events, tenant="acme", received_at=RECEIVED_AT, hourly_retention_days=2)

    by_key = {(i.pk, i.sk): i.amount for i in increments}
    assert by_key == {
        ("acme#page_view#key#/a", "total"): 2,
        ("acme#page_view#key#/a", "hour#2026-05-28T20"): 2,
        ("acme#page_view#key#/b", "total"): 1,
        ("acme#page_view#key#/b", "hour#2026-05-28T20"): 1,
        ("acme#page_view#all", "total"): 3,
        ("acme#page_view#all", "hour#2026-05-28T20"): 3,
        ("acme#button_click#key#buy", "total"): 1,
        ("acme#button_click#key#buy", "hour#2026-05-28T20"): 1,
        ("acme#button_click#all", "total"): 1,
        ("acme#button_click#all", "hour#2026-05-28T20"): 1,
    }
    hourly = [i for i in increments if i.sk.startswith("hour#")]
    assert {i.expires_at for i in hourly} == {RECEIVED_AT // 1000 + 2 * 86400}
    assert all(i.expires_at is None for i in increments if i.sk == "total")


def test_given_a_key_named_like_the_all_counter_when_keyed_then_it_does_not_collide():
    assert counter_pk("acme", "track", "all") != counter_pk("acme", "track", None)
    assert counter_pk("acme", "track", "*") != counter_pk("acme", "track", None)


def test_given_a_very_long_key_when_keyed_then_it_is_hashed_to_fit_dynamodb():
    pk = counter_pk("acme", "page_view", "https://x/" + "a" * 5000)

    assert pk.startswith("acme#page_view#key#sha256:")
    assert len(pk.encode()) < 200
    assert pk == counter_pk("acme", "page_view", "https://x/" + "a" * 5000)


def test_given_a_range_when_listing_hours_then_both_ends_are_included():
    start = datetime(2026, 1, 1, 22, 30, tzinfo=UTC)
    end = datetime(2026, 1, 2, 1, 5, tzinfo=UTC)

    assert hours_between(start, end) == ["2026-01-01T22", "2026-01-01T23", "2026-01-02T00", "2026-01-02T01"]
