"""``GET /v1/schemas`` on the collector's resolver: the authorizer's tenant's own types and plans (latest
versions, documents as registered) and its policy, never another tenant's; 503 when the table fails."""

from __future__ import annotations

import dataclasses
from types import ModuleType
from typing import Any

import pytest

from event_collector.aws.schemas_table import SchemasTable
from event_collector.ingest.api import create_collector
from event_collector.schemas.registration import register
from tests.conftest import api_request, call, fail_calls
from tests.fakes.schemas import MemorySchemas

T0 = 1_790_000_000_000
ORDER: dict[str, Any] = {
    "type": "object",
    "properties": {"total": {"type": "integer", "minimum": 0}, "order_id": {"type": "string"}},
    "required": ["order_id"],
}
PLAN: dict[str, Any] = {"type": "object", "properties": {"orderId": {"type": "string"}}}


def serving(module: ModuleType, monkeypatch: pytest.MonkeyPatch, registry: Any) -> ModuleType:
    """The collector module answering from ``registry``, as its composition wires it."""
    services = dataclasses.replace(module.collector.services, schemas=registry)
    monkeypatch.setattr(module, "collector", create_collector(services))
    return module


def test_given_types_and_plans_when_a_tenant_asks_then_its_own_latest_versions_and_policy(
    collector, lambda_context, monkeypatch
):
    registry = MemorySchemas()
    register(registry, "acme", "type", "order_completed", ORDER, T0)
    evolved = {**ORDER, "properties": {**ORDER["properties"], "coupon": {"type": "string"}}}
    register(registry, "acme", "type", "order_completed", evolved, T0 + 5)
    register(registry, "acme", "track", "Order Completed", PLAN, T0 + 6)
    register(registry, "globex", "type", "signup", ORDER, T0 + 7)
    registry.set_unplanned("acme", "reject")
    module = serving(collector, monkeypatch, registry)

    status, headers, body = call(module, api_request("GET", "/v1/schemas"), lambda_context)

    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert body == {
        "types": {"order_completed": {"version": 2, "registered_at": T0 + 5, "document": evolved}},
        "tracks": {"Order Completed": {"version": 1, "registered_at": T0 + 6, "document": PLAN}},
        "unplanned": "reject",
    }
    assert list(body["types"]["order_completed"]["document"]["properties"]) == ["total", "order_id", "coupon"]


def test_given_a_tenant_without_schemas_when_it_asks_then_empty_with_the_default_policy(
    collector, lambda_context, monkeypatch
):
    module = serving(collector, monkeypatch, MemorySchemas())

    status, _, body = call(module, api_request("GET", "/v1/schemas", tenant="globex"), lambda_context)

    assert (status, body) == (200, {"types": {}, "tracks": {}, "unplanned": "accept"})


def test_given_no_authorizer_context_when_asked_then_401_and_nothing_read(collector, lambda_context, monkeypatch):
    registry = MemorySchemas()
    module = serving(collector, monkeypatch, registry)

    status, _, body = call(module, api_request("GET", "/v1/schemas", tenant=None), lambda_context)

    assert (status, body["error"]) == (401, "unauthorized")
    assert registry.reads == 0


def test_given_the_schemas_table_failing_when_asked_then_503_with_retry_after(
    aws, collector, lambda_context, monkeypatch
):
    module = serving(collector, monkeypatch, SchemasTable(aws.dynamodb, "test-schemas"))
    fail_calls(aws.dynamodb, "Query", "InternalServerError")

    status, headers, body = call(module, api_request("GET", "/v1/schemas"), lambda_context)

    assert (status, body["error"], headers["Retry-After"]) == (503, "schemas_unavailable", "1")


def test_given_the_table_when_schemas_are_registered_then_the_route_reads_them_from_dynamodb(
    aws, collector, lambda_context, monkeypatch
):
    table = SchemasTable(aws.dynamodb, "test-schemas")
    register(table, "acme", "type", "order_completed", ORDER, T0)
    module = serving(collector, monkeypatch, table)

    status, _, body = call(module, api_request("GET", "/v1/schemas"), lambda_context)

    assert status == 200
    assert body["types"]["order_completed"]["document"] == ORDER
