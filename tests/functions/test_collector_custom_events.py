"""Tenants' own event types through the deployed collector's composition (functions/collector/app.py), the
schemas table, Firehose and the counters under moto: register, send, see each invalid event named, another
tenant refused, count."""

from __future__ import annotations

import os
from typing import Any

import pytest

from event_collector.aws.schemas_table import SchemasTable
from event_collector.schemas.registry import RegisteredSchema
from tests.conftest import api_request, call, fail_calls
from tests.event_collector.schemas.helpers import ORDER
from tests.functions.test_deployed_privacy import published

PLAN = {"type": "object", "properties": {"orderId": {"type": "string"}}, "required": ["orderId"]}
VALID = {"event_type": "order_completed", "order_id": "o-1", "total": 30, "placed_at": "2026-01-31T12:00:00Z"}


@pytest.fixture
def schemas(aws) -> SchemasTable:
    table = SchemasTable(aws.dynamodb, os.environ["SCHEMAS_TABLE_NAME"])
    table.put_version(RegisteredSchema("acme", "type", "order_completed", 1, ORDER, 0))
    table.put_version(RegisteredSchema("acme", "track", "Order Completed", 1, PLAN, 0))
    return table


def post(collector, context, path: str, body: Any, tenant: str = "acme") -> tuple[int, Any]:
    status, _, answer = call(collector, api_request("POST", path, body=body, tenant=tenant), context)
    return status, answer


def test_given_a_registered_type_when_valid_and_invalid_events_are_posted_then_each_invalid_one_names_its_field(
    collector, aws, schemas, lambda_context
):
    events = [
        VALID,
        {**VALID, "total": "30"},
        {"event_type": "order_completed", "total": 30},
        {**VALID, "coupon_code": "X"},
        {**VALID, "total": -1},
    ]

    status, answer = post(collector, lambda_context, "/v1/events", {"events": events})

    assert status == 200
    assert answer["accepted"] == 1
    assert [(rejected["index"], rejected["errors"]) for rejected in answer["rejected"]] == [
        (1, ["/total: expected integer, got string"]),
        (2, ["/order_id: required field is missing"]),
        (3, ["/coupon_code: not declared by the schema (additionalProperties is false)"]),
        (4, ["/total: must be >= 0, got -1"]),
    ]
    [line] = aws.raw_lines()
    assert {name: line[name] for name in ("event_type", "tenant", "schema_version", "total", "placed_at")} == {
        "event_type": "order_completed",
        "tenant": "acme",
        "schema_version": "1",
        "total": "30",
        "placed_at": "2026-01-31T12:00:00Z",
    }


def test_given_another_tenants_type_when_posted_then_refused_as_unknown_and_nothing_stored(
    collector, aws, schemas, lambda_context
):
    status, answer = post(collector, lambda_context, "/v1/events", {"events": [VALID]}, tenant="globex")

    assert (status, answer["error"]) == (400, "no_valid_events")
    assert answer["details"][0]["errors"] == [
        "event_type: must be one of button_click, page_view, track or a type registered for this tenant"
    ]
    aws.assert_nothing_stored_or_counted()


def test_given_custom_events_accepted_when_counted_then_the_type_has_a_real_time_total_and_no_keys(
    collector, aws, schemas, lambda_context
):
    post(collector, lambda_context, "/v1/events", {"events": [VALID, VALID]})

    def counts(tenant: str = "acme", **query: str) -> tuple[int, Any]:
        request = api_request("GET", "/v1/counts", query=list(query.items()), tenant=tenant)
        status, _, answer = call(collector, request, lambda_context)
        return status, answer

    status, answer = counts(event_type="order_completed")
    assert (status, answer["total"], answer["key"]) == (200, 2, None)
    status, answer = counts(event_type="order_completed", key="o-1")
    assert status == 400
    assert "counted in its total only" in answer["message"]
    status, answer = counts(tenant="globex", event_type="order_completed")
    assert status == 400
    assert "a type registered for this tenant" in answer["message"]


def test_given_a_track_plan_when_segment_and_our_own_track_events_come_then_their_properties_are_checked(
    collector, aws, schemas, lambda_context
):
    status, answer = post(
        collector, lambda_context, "/v1/track", {"userId": "u", "event": "Order Completed", "properties": {}}
    )
    assert (status, answer["details"][0]["errors"]) == (400, ["/properties/orderId: required field is missing"])

    track = {"event_type": "track", "name": "Order Completed", "properties": {"orderId": "1"}}
    status, answer = post(collector, lambda_context, "/v1/events", {"events": [track]})
    assert (status, answer["accepted"]) == (200, 1)


def test_given_the_schemas_table_failing_and_nothing_cached_when_custom_events_come_then_503_and_metered(
    collector, aws, schemas, lambda_context, capsys
):
    fail_calls(aws.dynamodb, "Query", "ProvisionedThroughputExceededException")

    status, answer = post(collector, lambda_context, "/v1/events", {"events": [VALID]})

    assert (status, answer["error"]) == (503, "schemas_unavailable")
    aws.assert_nothing_stored_or_counted()
    assert published(capsys.readouterr().out, "SchemaLoadFailures") == [1.0]


def test_given_the_schemas_table_failing_when_only_built_in_events_come_then_they_are_stored_as_ever(
    collector, aws, schemas, lambda_context
):
    fail_calls(aws.dynamodb, "Query", "ProvisionedThroughputExceededException")
    page_view = {"event_type": "page_view", "url": "https://example.com/", "session_id": "s"}

    status, answer = post(collector, lambda_context, "/v1/events", {"events": [page_view]})

    assert (status, answer["accepted"]) == (200, 1)
    assert [line["event_type"] for line in aws.raw_lines()] == ["page_view"]
