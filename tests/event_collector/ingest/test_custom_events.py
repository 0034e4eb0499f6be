"""Tenants' own event types and track plans at the edge: the envelope checked as every type's, the rest
against the tenant's latest schema, the stored line as compaction reads it (docs/schemas.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_collector.ingest.custom import stored_json_text
from event_collector.ingest.segment import validate_messages
from event_collector.ingest.validation import MAX_EVENT_BYTES, validate_batch
from event_collector.json_values import canonical_json, loads_strict
from event_collector.schemas.cache import SchemaCache
from event_collector.schemas.registry import RegisteredSchema
from event_collector.schemas.validator import forget_compiled
from tests.event_collector.schemas.helpers import ORDER, event_schema
from tests.fakes.schemas import MemorySchemas

RECEIVED = 1_780_000_000_000
PLAN = event_schema({"orderId": {"type": "string"}, "revenue": {"type": "number", "minimum": 0}}, "orderId")
OPEN = event_schema({"sku": {"type": "string"}, "note": {}, "qty": {"type": "integer"}})


@pytest.fixture(autouse=True)
def _fresh_compiled():
    forget_compiled()
    yield
    forget_compiled()


@pytest.fixture
def registry() -> MemorySchemas:
    registry = MemorySchemas()
    registry.put_version(RegisteredSchema("acme", "type", "order_completed", 1, ORDER, 0))
    registry.put_version(RegisteredSchema("acme", "type", "item_viewed", 3, OPEN, 0))
    registry.put_version(RegisteredSchema("acme", "track", "Order Completed", 1, PLAN, 0))
    registry.put_version(RegisteredSchema("globex", "type", "invoice_paid", 1, OPEN, 0))
    return registry


def validated(registry: MemorySchemas, *events: Any, tenant: str = "acme") -> Any:
    cache = SchemaCache(registry, 60, clock=lambda: 0.0)
    return validate_batch(
        list(events), tenant=tenant, received_at=RECEIVED, request_id="r", schemas=cache.for_request(tenant)
    )


def stored(registry: MemorySchemas, event: dict[str, Any]) -> dict[str, Any]:
    batch = validated(registry, event)
    assert batch.rejected == []
    line: dict[str, Any] = json.loads(batch.accepted[0].line)
    return line


def errors(registry: MemorySchemas, event: Any, tenant: str = "acme") -> list[str]:
    batch = validated(registry, event, tenant=tenant)
    assert batch.accepted == []
    return list(batch.rejected[0].errors)


def test_given_a_valid_custom_event_when_stored_then_the_line_follows_the_contract_with_compaction(registry):
    event = {
        "event_type": "order_completed",
        "event_id": "e-1",
        "timestamp": "2026-05-28T00:00:00Z",
        "user_id": "u-1",
        "context": {"page": {"url": "https://x"}},
        "order_id": "o-1",
        "total": 30.0,
        "placed_at": "2026-01-31T12:00:00.250+01:00",
        "lines": [{"sku": "a", "price": 9.5}],
        "shipping": {"city": "Lyon"},
        "attributes": {"b": 1, "a": "x"},
        "coupon": None,
    }

    line = stored(registry, event)

    assert line == {
        "event_id": "e-1",
        "event_type": "order_completed",
        "tenant": "acme",
        "received_at": RECEIVED,
        "timestamp": 1_779_926_400_000,
        "user_id": "u-1",
        "context": canonical_json(event["context"]),
        "schema_version": "1",
        "order_id": "o-1",
        "total": "30",  # an integer spelled 30.0 is the integer
        "placed_at": "2026-01-31T12:00:00.250+01:00",  # as sent: compaction converts it
        "lines": '[{"price":9.5,"sku":"a"}]',
        "shipping": '{"city":"Lyon"}',
        "attributes": '{"a":"x","b":1}',
    }  # coupon, sent as null, is left out


def test_given_an_open_schema_when_undeclared_fields_are_sent_then_they_are_kept_whole_in_extra(registry):
    line = stored(registry, {"event_type": "item_viewed", "sku": "s", "note": "1", "colour": None, "size": [1]})

    assert line["schema_version"] == "3"
    assert line["note"] == '"1"'  # JSON text: the string stays apart from the number 1
    assert json.loads(line["extra"]) == {"colour": None, "size": [1]}
    assert "extra" not in stored(registry, {"event_type": "item_viewed", "sku": "s"})


def test_given_custom_events_invalid_in_each_named_way_when_validated_then_each_is_rejected_on_its_own(registry):
    valid = {"event_type": "order_completed", "order_id": "o-1", "total": 3}
    batch = validated(
        registry,
        {**valid, "total": "3"},
        {"event_type": "order_completed", "total": 3},
        {**valid, "coupon_code": "X"},
        {**valid, "total": -1},
        valid,
    )

    assert [event.event_type for event in batch.accepted] == ["order_completed"]
    assert [(rejected.index, rejected.errors) for rejected in batch.rejected] == [
        (0, ["/total: expected integer, got string"]),
        (1, ["/order_id: required field is missing"]),
        (2, ["/coupon_code: not declared by the schema (additionalProperties is false)"]),
        (3, ["/total: must be >= 0, got -1"]),
    ]


def test_given_another_tenants_type_when_sent_then_it_is_unknown_as_any_type_never_registered(registry):
    message = "event_type: must be one of button_click, page_view, track or a type registered for this tenant"

    assert errors(registry, {"event_type": "invoice_paid", "sku": "s"}) == [message]
    assert errors(registry, {"event_type": "never_registered"}) == [message]
    assert errors(registry, {"event_type": "screen", "name": "Home"}) == [message]  # Segment's only
    owner = validated(registry, {"event_type": "invoice_paid", "sku": "s"}, tenant="globex")
    assert [json.loads(event.line)["tenant"] for event in owner.accepted] == ["globex"]


@pytest.mark.parametrize(
    ("envelope", "message"),
    [
        ({"tenant": "globex"}, "'tenant' is set by the server and must not be sent"),
        ({"received_at": 1}, "'received_at' is set by the server and must not be sent"),
        ({"schema_version": "9"}, "'schema_version' is set by the server and must not be sent"),
        ({"timestamp": "yesterday"}, "timestamp: must be an ISO 8601 date-time"),
        ({"user_id": ""}, "user_id: Value should have at least 1 item after validation, not 0"),
        ({"context": {"": 1}}, "context: value: property names must be 1-128 valid characters"),
    ],
)
def test_given_a_bad_envelope_when_a_custom_event_is_validated_then_the_rules_of_every_type_refuse_it(
    registry, envelope, message
):
    assert errors(registry, {"event_type": "item_viewed", "sku": "s", **envelope}) == [message]


def test_given_an_event_over_the_size_limit_when_custom_then_refused_as_any_event(registry):
    [message] = errors(registry, {"event_type": "item_viewed", "sku": "s" * MAX_EVENT_BYTES})

    assert message.startswith("event is ")


def test_given_a_batch_of_built_in_types_but_track_when_validated_then_the_schemas_are_never_read(registry):
    batch = validated(registry, {"event_type": "page_view", "url": "u", "session_id": "s"})

    assert len(batch.accepted) == 1
    assert registry.reads == 0


def test_given_a_batch_of_many_custom_events_when_validated_then_the_schemas_are_read_once(registry):
    batch = validated(registry, *[{"event_type": "item_viewed", "sku": str(index)} for index in range(50)])

    assert len(batch.accepted) == 50
    assert registry.reads == 1


def test_given_a_track_event_with_a_plan_when_validated_then_its_properties_are_checked_under_properties(registry):
    planned = {"event_type": "track", "name": "Order Completed"}

    assert errors(registry, {**planned, "properties": {"orderId": "1", "revenue": -1}}) == [
        "/properties/revenue: must be >= 0, got -1"
    ]
    assert errors(registry, planned) == ["/properties/orderId: required field is missing"]
    line = stored(registry, {**planned, "properties": {"orderId": "1", "revenue": 2.5}})
    assert line["properties"] == '{"orderId":"1","revenue":2.5}'  # JSON text, as every track's


def test_given_an_unplanned_track_name_when_the_tenant_accepts_or_rejects_them_then_it_follows_its_policy(registry):
    unplanned = {"event_type": "track", "name": "Signed Up", "properties": {"any": "thing"}}
    assert stored(registry, unplanned)["name"] == "Signed Up"

    registry.set_unplanned("acme", "reject")

    assert errors(registry, unplanned) == [
        'name: no tracking plan for "Signed Up" and this tenant rejects unplanned events'
    ]


def test_given_segment_track_messages_when_planned_or_not_then_checked_as_our_own_track(registry):
    registry.set_unplanned("acme", "reject")
    cache = SchemaCache(registry, 60, clock=lambda: 0.0)
    messages = [
        {"type": "track", "userId": "u", "event": "Order Completed", "properties": {"orderId": 1}},
        {"type": "track", "userId": "u", "event": "Signed Up"},
        {"type": "track", "userId": "u", "event": "Order Completed", "properties": {"orderId": "1"}},
        {"type": "identify", "userId": "u", "traits": {"any": 1}},
    ]

    batch = validate_messages(messages, tenant="acme", received_at=RECEIVED, schemas=cache.for_request("acme"))

    assert [(rejected.index, rejected.errors) for rejected in batch.rejected] == [
        (0, ["/properties/orderId: expected string, got integer"]),
        (1, ['event: no tracking plan for "Signed Up" and this tenant rejects unplanned events']),
    ]
    assert [event.event_type for event in batch.accepted] == ["track", "identify"]


def test_given_a_stored_schema_the_validator_cannot_compile_when_its_events_come_then_refused_naming_it(registry):
    broken = event_schema({"code": {"type": "string", "pattern": "a\\Z"}})
    registry.put_version(RegisteredSchema("acme", "type", "code_entered", 1, broken, 0))

    [message] = errors(registry, {"event_type": "code_entered", "code": "a"})

    assert message.startswith("event_type: version 1 of 'code_entered' cannot be used: the schema does not compile")


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False))
def test_given_any_number_when_stored_asstored_json_text_then_it_is_exactly_its_canonical_json(number):
    assert stored_json_text(number) == canonical_json(number)


def test_given_a_cached_version_when_an_event_needs_the_version_registered_since_then_a_recheck_accepts_it(registry):
    clock = [0.0]
    cache = SchemaCache(registry, 60, clock=lambda: clock[0])

    def send(event: dict[str, Any]) -> Any:
        lookup = cache.for_request("acme")
        return validate_batch([event], tenant="acme", received_at=RECEIVED, request_id="r", schemas=lookup)

    assert len(send({"event_type": "order_completed", "order_id": "A-1", "total": 1}).accepted) == 1
    evolved = json.loads(json.dumps(ORDER))
    evolved["properties"]["gift"] = {"type": "boolean"}
    registry.put_version(RegisteredSchema("acme", "type", "order_completed", 2, evolved, 0))
    gift = {"event_type": "order_completed", "order_id": "A-2", "total": 1, "gift": True}

    refused = send(gift)  # version 1, read a moment ago, refuses the field; no read again yet
    assert any(message.startswith("/gift:") for message in refused.rejected[0].errors)
    clock[0] += 5.0
    taken = send(gift)

    assert json.loads(taken.accepted[0].line)["schema_version"] == "2"
    assert json.loads(taken.accepted[0].line)["gift"] == "true"


@pytest.mark.parametrize(
    "spelled",
    ["9007199254740993.0", "12345678901234567.0", "4503599627370496.5", "9.007199254740993e15", "-9007199254740993.0"],
)
def test_given_an_integer_field_when_a_large_integer_is_spelled_with_a_fraction_or_exponent_then_refused_not_rounded(
    registry, spelled
):
    # The parser reads such a spelling as a double, which beyond 2^52 has no fraction digits: 9007199254740993.0
    # becomes 9007199254740992 and 4503599627370496.5 an integer, so what was sent is not what would be stored.
    event = loads_strict(f'{{"event_type": "item_viewed", "qty": {spelled}}}')

    [message] = errors(registry, event)

    assert message.startswith("/qty: ")
    assert "fraction or an exponent" in message


def test_given_an_integer_field_when_an_integer_below_2_52_is_spelled_as_a_float_then_stored_exactly(registry):
    event = loads_strict('{"event_type": "order_completed", "order_id": "o-1", "total": 4503599627370495.0}')

    assert stored(registry, event)["total"] == "4503599627370495"
