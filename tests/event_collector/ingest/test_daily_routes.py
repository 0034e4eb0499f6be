"""``GET /v1/counts/daily`` on the collector's resolver, wired to moto's counters table as the deployed
composition wires it: the authorizer's tenant's days from its rollups and counters, the query checked as
every count route's, 503 when the table fails."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime
from types import ModuleType

import pytest

from event_collector.aws.counters_table import CountersTable
from event_collector.counts.layout import ALL_KEYS, CounterIncrement, counter_pk
from event_collector.counts.rollups import DayRollup, top_entry
from event_collector.ingest.api import create_collector
from tests.conftest import api_request, call, fail_calls

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


@pytest.fixture
def daily(aws, collector, monkeypatch) -> ModuleType:
    """The collector module with its clock at NOW (today is 2026-03-10)."""
    services = dataclasses.replace(collector.collector.services, clock=NOW.timestamp)
    monkeypatch.setattr(collector, "collector", create_collector(services))
    return collector


@pytest.fixture
def table(aws) -> CountersTable:
    return CountersTable(aws.dynamodb, os.environ["COUNTERS_TABLE_NAME"])


def test_given_rollups_and_counters_when_asked_then_the_tenant_s_days_and_keys(daily, table, lambda_context):
    table.put_rollups(
        [
            DayRollup("acme", "track", "2026-03-08", 7, 3, 2, 2, (top_entry("Signed Up", 5, 3, 2),)),
            DayRollup("globex", "track", "2026-03-08", 99, 1, 1, 0),
        ]
    )
    table.add([CounterIncrement(counter_pk("acme", "track", ALL_KEYS), "day#2026-03-10", {"h11": 4}, 0)])
    query = [("event_type", "track"), ("from", "2026-03-08"), ("to", "2026-03-10"), ("limit", "1")]

    status, headers, body = call(daily, api_request("GET", "/v1/counts/daily", query=query), lambda_context)

    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert body == {
        "tenant": "acme",
        "event_type": "track",
        "from": "2026-03-08",
        "to": "2026-03-10",
        "days": [
            {"day": "2026-03-08", "events": 7, "sessions": 3, "users": 2, "source": "compacted"},
            {"day": "2026-03-09", "events": 0, "sessions": None, "users": None, "source": None},
            {"day": "2026-03-10", "events": 4, "sessions": None, "users": None, "source": "realtime"},
        ],
        "total": 11,
        "keys": [{"key": "Signed Up", "kind": "key", "events": 5}],
    }


def test_given_no_range_when_asked_then_the_30_days_ending_today_by_the_collector_s_clock(daily, lambda_context):
    status, _, body = call(
        daily, api_request("GET", "/v1/counts/daily", query=[("event_type", "page_view")]), lambda_context
    )

    assert status == 200
    assert (body["from"], body["to"], len(body["days"]), body["total"], body["keys"]) == (
        "2026-02-09",
        "2026-03-10",
        30,
        0,
        [],
    )


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ([], "'event_type' is required"),
        ([("event_type", "track"), ("from", "2026-03-01"), ("from", "2026-03-02")], "'from'"),
        ([("event_type", "track"), ("key", "x")], "'key'"),  # no key here: the top keys answer for every key
        ([("event_type", "track"), ("from", "1741564800000")], "'from' must be a UTC day"),
        ([("event_type", "track"), ("to", "2026-03-10T00:00:00Z")], "'to' must be a UTC day"),
        ([("event_type", "track"), ("limit", "1000")], "'limit' must be a whole number from 0 to 100"),
        ([("event_type", "track"), ("from", "2024-01-01")], "at most 366 days"),
        ([("event_type", "order_completed")], "'event_type' must be one of"),
    ],
)
def test_given_a_bad_query_when_asked_then_400_naming_it(daily, lambda_context, query, named):
    status, _, body = call(daily, api_request("GET", "/v1/counts/daily", query=query), lambda_context)

    assert (status, body["error"]) == (400, "invalid_query")
    assert named in body["message"]


def test_given_no_authorizer_context_when_asked_then_401(daily, lambda_context):
    event = api_request("GET", "/v1/counts/daily", query=[("event_type", "track")], tenant=None)

    status, _, body = call(daily, event, lambda_context)

    assert (status, body["error"]) == (401, "unauthorized")


def test_given_the_counters_table_failing_when_asked_then_503_with_retry_after(daily, aws, lambda_context):
    fail_calls(aws.dynamodb, "Query", "InternalServerError")

    status, headers, body = call(
        daily, api_request("GET", "/v1/counts/daily", query=[("event_type", "track")]), lambda_context
    )

    assert (status, body["error"], headers["Retry-After"]) == (503, "counters_unavailable", "1")
