"""Daily counts (counts/daily.py) over the counters table's in-memory fake: compacted days from the rollups,
realtime days from the type's total counter, empty days; top keys from the compacted days; every bad
parameter a 400 naming it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from event_collector.counts.daily import read_daily
from event_collector.counts.layout import ALL_KEYS, CounterIncrement, counter_pk
from event_collector.counts.rollups import DayRollup, KeyCount, top_entry
from event_collector.errors import ClientInputError, StorageError
from tests.fakes.counters import MemoryCounters

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)  # today is 2026-03-10
LONG_KEY = "https://shop.example/" + "x" * 1200


def rollup(day: str, events: int, *top: KeyCount, tenant: str = "acme", event_type: str = "page_view") -> DayRollup:
    return DayRollup(tenant, event_type, day, events, sessions=events // 2, users=events // 3, keys=len(top), top=top)


def counted(counters: MemoryCounters, day: str, hours: dict[str, int], *, tenant: str = "acme") -> None:
    """The type's total counter's hours of ``day``, as the collector (or a recount) writes them."""
    pk = counter_pk(tenant, "page_view", ALL_KEYS)
    counters.add([CounterIncrement(pk, f"day#{day}", {f"h{hour}": n for hour, n in hours.items()}, 0)])


def daily(counters: MemoryCounters, **query: str | None) -> dict:
    arguments: dict = {"event_type": "page_view", "start": None, "end": None, "limit": None, **query}
    answer = read_daily(counters, counters, tenant="acme", now=NOW, **arguments)
    return answer.model_dump(mode="json")


def test_given_compacted_realtime_and_empty_days_when_read_then_each_day_says_where_it_came_from():
    counters = MemoryCounters()
    counters.put_rollups([rollup("2026-03-06", 12, top_entry("/a", 7, 3, 2)), rollup("2026-03-08", 5)])
    counted(counters, "2026-03-08", {"10": 99})  # the counters hold it too: the rollup wins (exact)
    counted(counters, "2026-03-09", {"00": 2, "23": 3})
    counted(counters, "2026-03-10", {"14": 4})

    answer = daily(counters, start="2026-03-05", end="2026-03-10")

    assert answer["days"] == [
        {"day": "2026-03-05", "events": 0, "sessions": None, "users": None, "source": None},
        {"day": "2026-03-06", "events": 12, "sessions": 6, "users": 4, "source": "compacted"},
        {"day": "2026-03-07", "events": 0, "sessions": None, "users": None, "source": None},
        {"day": "2026-03-08", "events": 5, "sessions": 2, "users": 1, "source": "compacted"},
        {"day": "2026-03-09", "events": 5, "sessions": None, "users": None, "source": "realtime"},
        {"day": "2026-03-10", "events": 4, "sessions": None, "users": None, "source": "realtime"},
    ]
    assert (answer["tenant"], answer["event_type"], answer["from"], answer["to"]) == (
        "acme",
        "page_view",
        "2026-03-05",
        "2026-03-10",
    )
    assert answer["total"] == 12 + 5 + 5 + 4
    assert answer["keys"] == [{"key": "/a", "kind": "key", "events": 7}]


def test_given_today_already_rolled_up_when_read_then_today_comes_from_the_counters():
    """A day not over yet is compacted an hour at a time: its rollup holds its first hours only."""
    counters = MemoryCounters()
    counters.put_rollups([rollup("2026-03-10", 3, top_entry("/early", 3, 1, 1))])
    counted(counters, "2026-03-10", {"01": 3, "14": 6})

    answer = daily(counters, start="2026-03-10", end="2026-03-10")

    assert answer["days"] == [{"day": "2026-03-10", "events": 9, "sessions": None, "users": None, "source": "realtime"}]
    assert answer["keys"] == []


def test_given_no_range_when_read_then_the_30_days_ending_today():
    counters = MemoryCounters()
    counters.put_rollups([rollup("2026-02-09", 1), rollup("2026-02-08", 100)])

    answer = daily(counters)

    assert (answer["from"], answer["to"], len(answer["days"])) == ("2026-02-09", "2026-03-10", 30)
    assert answer["days"][0]["source"] == "compacted"
    assert answer["total"] == 1  # 2026-02-08 is outside the range


@pytest.mark.parametrize(
    ("query", "first", "last"),
    [({"end": "2026-01-31"}, "2026-01-02", "2026-01-31"), ({"start": "2026-03-01"}, "2026-03-01", "2026-03-10")],
)
def test_given_one_end_of_the_range_when_read_then_the_other_defaults(query, first, last):
    answer = daily(MemoryCounters(), **query)

    assert (answer["from"], answer["to"]) == (first, last)


def test_given_keys_over_compacted_days_when_read_then_summed_most_first_then_by_key_hashed_apart():
    long = top_entry(LONG_KEY, 4, 1, 1)
    counters = MemoryCounters()
    counters.put_rollups(
        [
            rollup("2026-03-01", 20, top_entry("/b", 6, 1, 1), top_entry("/a", 5, 1, 1), long),
            rollup("2026-03-02", 9, top_entry("/a", 1, 1, 1), top_entry("/c", 2, 1, 1), long),
            # a plain key spelled like a hash is another key than the hashed one
            rollup("2026-03-03", 8, top_entry(long.key, 1, 1, 1)),
        ]
    )

    answer = daily(counters, start="2026-03-01", end="2026-03-09", limit="100")

    assert long.hashed
    assert answer["keys"] == [
        {"key": long.key, "kind": "hashed", "events": 8},
        {"key": "/a", "kind": "key", "events": 6},
        {"key": "/b", "kind": "key", "events": 6},
        {"key": "/c", "kind": "key", "events": 2},
        {"key": long.key, "kind": "key", "events": 1},
    ]


@pytest.mark.parametrize(("limit", "shown"), [("0", 0), ("2", 2), (None, 10), ("100", 12)])
def test_given_a_limit_when_read_then_at_most_that_many_keys(limit, shown):
    counters = MemoryCounters()
    counters.put_rollups([rollup("2026-03-01", 78, *(top_entry(f"/k{n:02}", n + 1, 1, 1) for n in range(12)))])

    answer = daily(counters, start="2026-03-01", end="2026-03-01", limit=limit)

    assert len(answer["keys"]) == shown
    assert answer["total"] == 78  # the limit never changes the days
    if shown:
        assert answer["keys"][0] == {"key": "/k11", "kind": "key", "events": 12}


def test_given_another_tenant_s_and_another_type_s_rollups_when_read_then_not_counted():
    counters = MemoryCounters()
    counters.put_rollups(
        [rollup("2026-03-01", 5, tenant="globex"), rollup("2026-03-01", 6, event_type="track"), rollup("2026-03-01", 7)]
    )
    counted(counters, "2026-03-02", {"05": 4}, tenant="globex")

    answer = daily(counters, start="2026-03-01", end="2026-03-02")

    assert [(day["events"], day["source"]) for day in answer["days"]] == [(7, "compacted"), (0, None)]


def test_given_a_tenant_s_own_type_when_read_then_answered_and_another_unknown_type_refused():
    counters = MemoryCounters()
    counters.put_rollups([rollup("2026-03-01", 3, event_type="order_completed")])
    owns = {"order_completed": object()}.get

    answer = read_daily(
        counters, counters, tenant="acme", event_type="order_completed", start="2026-03-01", end="2026-03-01",
        limit=None, now=NOW, owns=owns,
    )  # fmt: skip
    with pytest.raises(ClientInputError) as refused:
        read_daily(counters, counters, tenant="acme", event_type="signup", start=None, end=None, limit=None,
                   now=NOW, owns=owns)  # fmt: skip

    assert answer.total == 3
    assert "or a type registered for this tenant" in refused.value.message


def test_given_the_longest_range_when_read_then_366_days_and_one_day_more_is_refused():
    assert len(daily(MemoryCounters(), start="2025-03-10", end="2026-03-10")["days"]) == 366
    with pytest.raises(ClientInputError, match="at most 366 days"):
        daily(MemoryCounters(), start="2025-03-09", end="2026-03-10")


@pytest.mark.parametrize(
    ("query", "phrase"),
    [
        ({"event_type": "clicks"}, "'event_type' must be one of"),
        ({"event_type": ""}, "'event_type' must be one of"),
        ({"start": "yesterday"}, "'from' must be a UTC day YYYY-MM-DD"),
        ({"start": "2026-3-1"}, "'from' must be a UTC day"),
        ({"start": "20260301"}, "'from' must be a UTC day"),  # fromisoformat alone would take it
        ({"start": "2026-02-30"}, "'from' must be a UTC day"),
        ({"start": "2026-03-01T00:00:00Z"}, "'from' must be a UTC day"),
        ({"start": "\uff11\uff19\uff19\uff19-01-01"}, "'from' must be a UTC day"),
        ({"start": "1999-12-31"}, "between 2000-01-01 and 2099-12-31"),
        ({"end": "2100-01-01"}, "'to' must be a UTC day"),
        ({"end": ""}, "'to' must be a UTC day"),
        ({"end": "2026-03-01\n"}, "'to' must be a UTC day"),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "'from' must not be after 'to'"),
        ({"start": "2026-03-11"}, "'from' must not be after 'to'"),  # 'to' defaults to today
        ({"start": "2000-01-01", "end": "2099-12-31"}, "at most 366 days"),
        ({"limit": "101"}, "'limit' must be a whole number from 0 to 100"),
        ({"limit": "-1"}, "'limit'"),
        ({"limit": "ten"}, "'limit'"),
        ({"limit": ""}, "'limit'"),
        ({"limit": "1e2"}, "'limit'"),
        ({"limit": "\uff11"}, "'limit'"),
        ({"limit": "0" * 400 + "1"}, "'limit'"),
    ],
)
def test_given_a_bad_parameter_when_read_then_a_400_naming_it_and_nothing_read(query, phrase):
    class Unread(MemoryCounters):
        def rollups(self, *args):
            raise AssertionError("read before every parameter was checked")

        def hourly(self, *args):
            raise AssertionError("read before every parameter was checked")

    with pytest.raises(ClientInputError) as refused:
        daily(Unread(), **query)

    assert (refused.value.status, refused.value.code) == (400, "invalid_query")
    assert phrase in refused.value.message


def test_given_storage_failing_when_read_then_the_storage_error_reaches_the_caller():
    class Failing(MemoryCounters):
        def rollups(self, *args):
            raise StorageError("reading counters failed: ProvisionedThroughputExceededException")

    with pytest.raises(StorageError):
        daily(Failing())
