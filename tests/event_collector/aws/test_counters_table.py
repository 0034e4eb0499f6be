"""The counters table adapter against moto: admissions carried by the types' totals, and the time budget."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from event_collector.aws.counters_table import CountersTable
from event_collector.counts.layout import HourGroup, key_increments, total_increment
from event_collector.counts.rollups import DayRollup, top_entry
from event_collector.errors import StorageError

HOUR = 1_780_000_000_000 // 3_600_000 * 3_600_000  # 2026-05-28T20
GROUP = HourGroup("acme", "page_view", HOUR)


@pytest.fixture
def counters(aws) -> CountersTable:
    return CountersTable(aws.dynamodb, os.environ["COUNTERS_TABLE_NAME"])


def test_given_totals_with_new_keys_when_admitted_then_each_answer_is_the_hours_admissions_so_far(counters):
    first = counters.admit([total_increment(GROUP, 3, 2, retention_days=1)])
    second = counters.admit([total_increment(GROUP, 1, 5, retention_days=1)])

    assert (first, second) == ([{"a20": 2}], [{"a20": 7}])
    assert counters.total("acme#page_view#*") == 4
    assert counters.hourly("acme#page_view#*", "2026-05-28T20", "2026-05-28T20") == {"2026-05-28T20": 4}


@pytest.mark.parametrize("keys", [1, 5])
def test_given_a_deadline_already_passed_when_adding_then_it_fails_and_no_write_starts(aws, counters, keys):
    increments = key_increments(GROUP, {f"k:{n}": 1 for n in range(keys)}, 0, retention_days=1)

    with pytest.raises(StorageError, match="deadline"):
        counters.add(increments, deadline=time.monotonic() - 1)

    assert aws.counter_items() == []


def test_given_a_deadline_already_passed_when_looking_up_keys_then_it_fails_without_a_read(aws, counters):
    with pytest.raises(StorageError, match="deadline"):
        counters.known_keys(GROUP, ["k:a"], deadline=time.monotonic() - 1)


def test_given_counter_writes_when_a_day_is_read_for_a_recount_then_its_keys_and_their_hours_are_listed(counters):
    next_hour = HourGroup("acme", "page_view", HOUR + 3_600_000)
    counters.add(key_increments(GROUP, {"k:/a": 2, "k:/b": 1}, 1, retention_days=1))  # /a, /b and the overflow
    counters.add(key_increments(next_hour, {"k:/c": 1}, 0, retention_days=1))
    counters.admit([total_increment(GROUP, 4, 2, retention_days=1)])  # the type's total: not a key

    found = counters.day_keys("acme", "page_view", "2026-05-28", ["h20", "h21"])

    assert found == {"k:/a": {"h20"}, "k:/b": {"h20"}, "k:/c": {"h21"}, "o:": {"h20"}}


def test_given_more_than_a_hundred_keys_on_a_day_when_read_then_every_one_is_listed(counters):
    counters.add(key_increments(GROUP, {f"k:{n}": 1 for n in range(150)}, 0, retention_days=1))

    found = counters.day_keys("acme", "page_view", "2026-05-28", ["h20"])

    assert set(found) == {f"k:{n}" for n in range(150)}


def test_given_a_counter_over_several_days_when_deleted_then_every_day_item_goes_and_nothing_else(aws, counters):
    tomorrow = HourGroup("acme", "page_view", HOUR + 86_400_000)
    for group in (GROUP, tomorrow):
        counters.add(key_increments(group, {"k:u-1": 2, "k:/home": 1}, 0, retention_days=1))
    counters.admit([total_increment(GROUP, 3, 2, retention_days=1)])
    for index in range(30):  # more items than one BatchWriteItem
        counters.add(
            key_increments(HourGroup("acme", "page_view", HOUR + index * 86_400_000), {"k:u-2": 1}, 0, retention_days=1)
        )

    deleted = (counters.delete_counter("acme#page_view#k:u-1"), counters.delete_counter("acme#page_view#k:u-2"))

    pks = {item["pk"]["S"] for item in aws.counter_items()}
    assert deleted == (2, 30)
    assert pks == {"acme#page_view#k:/home", "acme#page_view#*"}
    assert counters.total("acme#page_view#*") == 3


def _rollup(event_type: str, day: str, events: int, top: tuple = ()) -> DayRollup:
    return DayRollup("acme", event_type, day, events, sessions=2, users=1, keys=len(top), top=top)


def test_given_rollups_of_thirty_types_when_written_and_read_then_each_type_reads_its_days_as_written(counters):
    long_key = "/" + "x" * 1200
    top = (top_entry("/a", 5, 2, 1), top_entry(long_key, 1, 1, 1))
    rollups = [_rollup(f"type_{n}", day, n, top) for n in range(30) for day in ("2026-05-27", "2026-05-28")]
    counters.put_rollups(rollups)  # 60 items: more than one BatchWriteItem

    read = counters.rollups("acme", "type_7", "2026-05-28", "2026-06-30")

    assert read == [_rollup("type_7", "2026-05-28", 7, top)]
    assert read[0].top[1].hashed
    assert read[0].top[1].key == hashlib.sha256(long_key.encode()).hexdigest()
    assert counters.total("acme#type_7#*") == 0  # a rollup is no counter


def test_given_a_type_gone_from_a_day_when_its_rollup_is_deleted_then_only_that_day_of_that_type_goes(counters):
    counters.put_rollups([_rollup("track", "2026-05-27", 3), _rollup("track", "2026-05-28", 4)])
    counters.put_rollups([_rollup("page_view", "2026-05-28", 9)])

    counters.delete_rollups("acme", "2026-05-28", ["track"])

    assert [r.day for r in counters.rollups("acme", "track", "2026-05-01", "2026-05-31")] == ["2026-05-27"]
    assert [r.events for r in counters.rollups("acme", "page_view", "2026-05-28", "2026-05-28")] == [9]
