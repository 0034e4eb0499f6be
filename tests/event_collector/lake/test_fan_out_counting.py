"""The fan-out counts what it places: once per delivered object, bounded keys, failures reported."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from event_collector.aws.counters_table import CountersTable
from event_collector.aws.s3 import S3ObjectStore
from event_collector.counts.layout import HourGroup, granted_keys, key_increments, total_increment
from event_collector.counts.record import CountingLimits
from event_collector.errors import StorageError
from event_collector.lake.fan_out import Counting, FanOut
from tests.conftest import LAKE_BUCKET, RAW_BUCKET, fail_calls
from tests.event_collector.lake.test_fan_out import HOUR_12, HOUR_13, event, lines, put_raw

NOW = datetime(2026, 5, 28, 22, 0, tzinfo=UTC)


@pytest.fixture
def counters(aws) -> CountersTable:
    return CountersTable(aws.dynamodb, os.environ["COUNTERS_TABLE_NAME"])


def counting_fan_out(aws, counters, max_keys: int = 1000) -> FanOut:
    limits = CountingLimits(max_keys_per_hour=max_keys, retention_days=3)
    return FanOut(S3ObjectStore(aws.s3), LAKE_BUCKET, counting=Counting(counters, limits, clock=lambda: NOW))


def test_given_a_raw_object_when_fanned_out_then_its_events_are_counted_per_key_and_hour(aws, counters):
    body = lines(
        event("acme", "page_view", HOUR_12, url="/a"),
        event("acme", "page_view", HOUR_12 + 1, url="/a"),
        event("acme", "page_view", HOUR_13, url="/b"),
        event("acme", "button_click", HOUR_12, button_id="buy"),
        event("globex", "page_view", HOUR_12, url="/a"),
    )

    report = counting_fan_out(aws, counters).process(RAW_BUCKET, put_raw(aws, body))

    assert counters.total("acme#page_view#k:/a") == 2
    assert counters.total("acme#page_view#*") == 3
    assert counters.hourly("acme#page_view#*", "2026-05-28T20", "2026-05-28T21") == {
        "2026-05-28T20": 2,
        "2026-05-28T21": 1,
    }
    assert counters.total("acme#button_click#k:buy") == 1
    assert counters.total("globex#page_view#k:/a") == 1  # tenants never share a counter
    # One write per key and day (its hours in one item): acme/page_view /a, /b and all
    # (two hours, one write), acme/button_click buy and all, globex/page_view /a and all.
    assert report.counter_writes == 7


def test_given_a_duplicated_s3_event_when_fanned_out_twice_then_counts_do_not_double(aws, counters):
    key = put_raw(aws, lines(event("acme", "page_view", HOUR_12, url="/a")))
    fan_out = counting_fan_out(aws, counters)

    fan_out.process(RAW_BUCKET, key)
    again = fan_out.process(RAW_BUCKET, key)

    assert counters.total("acme#page_view#k:/a") == 1
    assert again.counted_before is True


@pytest.mark.parametrize(
    ("operation", "counted"),
    [
        ("UpdateItem", 1),  # the first counter write fails: nothing applied, the retry counts once
        ("PutItem", 2),  # the marker fails after every count was applied: the retry counts again
    ],
)
def test_given_dynamodb_failing_when_an_object_is_counted_then_it_fails_and_its_retry_counts_it(
    aws, counters, operation, counted
):
    # All or retried: the object fails (Lambda retries it, then dead-letters it); its "counted" marker is
    # written only once every count was applied, so the retry counts it (issue 21: no count lost for good).
    # A retry may count twice what the failed attempt had written: the recount sets the hour right.
    failing = fail_calls(aws.dynamodb, operation, "InternalServerError", times=1)
    key = put_raw(aws, lines(event("acme", "page_view", HOUR_12, url="/a")))
    fan_out = counting_fan_out(aws, counters)

    with pytest.raises(StorageError, match="InternalServerError"):
        fan_out.process(RAW_BUCKET, key)
    retried = fan_out.process(RAW_BUCKET, key)
    again = fan_out.process(RAW_BUCKET, key)

    assert failing == [1]
    assert (retried.lines_out, retried.counted_before) == (1, False)
    assert again.counted_before is True  # counted once complete: a redelivery counts nothing
    assert counters.total("acme#page_view#*") == counted
    assert counters.total("acme#page_view#k:/a") == counted


def test_given_more_keys_than_the_limit_across_objects_when_counted_then_the_limit_holds(aws, counters):
    fan_out = counting_fan_out(aws, counters, max_keys=5)
    for batch in range(3):
        body = lines(*(event("acme", "track", HOUR_12 + n, name=f"k{batch}-{n}") for n in range(4)))
        fan_out.process(RAW_BUCKET, put_raw(aws, body, key=f"raw/2026/05/28/20/object-{batch}"))

    keys = {item["pk"]["S"] for item in aws.counter_items() if item["pk"]["S"].startswith("acme#track#k:")}
    assert len(keys) == 5
    assert counters.total("acme#track#o:") == 12 - 5
    assert counters.total("acme#track#*") == 12


def test_given_the_counters_table_when_admitting_side_by_side_then_grants_never_pass_the_limit(aws, counters):
    group = HourGroup("acme", "track", HOUR_12 // 3_600_000 * 3_600_000)
    asks = [total_increment(group, 1, 4, retention_days=1) for _ in range(4)]

    after = [answer["a20"] for answer in counters.admit(asks)]  # four writes on the pool, in any order
    grants = sorted(granted_keys(4, admitted, limit=10) for admitted in after)

    assert sorted(after) == [4, 8, 12, 16]
    assert grants == [0, 2, 4, 4]
    assert counters.total("acme#track#*") == 4  # the same writes added the events to the type's total


def test_given_more_than_a_hundred_keys_when_looked_up_then_every_known_key_is_found(aws, counters):
    group = HourGroup("acme", "track", HOUR_12 // 3_600_000 * 3_600_000)
    known = [f"k:key-{n}" for n in range(150)]
    counters.add(key_increments(group, dict.fromkeys(known, 1), 0, retention_days=1))

    found = counters.known_keys(group, [*known, "k:never-seen"])

    assert found == set(known)
