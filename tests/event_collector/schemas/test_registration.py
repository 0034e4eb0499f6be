"""Registering a type or a tracking plan: names, ownership, the document's rules, evolution, races."""

from __future__ import annotations

from typing import Any

import pytest

from event_collector.errors import StorageError
from event_collector.schemas.registration import Refused, Registered, register
from event_collector.schemas.registry import RegisteredSchema, VersionTaken
from event_collector.schemas.validator import compiled, forget_compiled
from tests.event_collector.schemas.helpers import event_schema
from tests.fakes.schemas import MemorySchemas

T0 = 1_790_000_000_000
ORDER = event_schema({"order_id": {"type": "string"}, "total": {"type": "integer", "minimum": 0}}, "order_id")
WITH_COUPON = event_schema({**ORDER["properties"], "coupon": {"type": "string"}}, "order_id")


def test_given_a_new_type_when_registered_then_version_1_is_stored_with_every_field_added():
    registry = MemorySchemas()

    result = register(registry, "acme", "type", "order_completed", ORDER, T0)

    assert result == Registered("type", "order_completed", 1, False, ("/order_id", "/total"))
    assert registry.versions("acme", "type", "order_completed") == [
        RegisteredSchema("acme", "type", "order_completed", 1, ORDER, T0)
    ]
    assert registry.owner_of("order_completed") == "acme"


def test_given_an_added_optional_field_when_registered_then_version_2_names_it():
    registry = MemorySchemas()
    register(registry, "acme", "type", "order_completed", ORDER, T0)

    result = register(registry, "acme", "type", "order_completed", WITH_COUPON, T0 + 1)

    assert result == Registered("type", "order_completed", 2, False, ("/coupon",))
    latest = registry.type_schema("order_completed")
    assert latest is not None
    assert latest.document == WITH_COUPON


def test_given_the_same_schema_again_when_registered_then_unchanged_and_nothing_stored():
    registry = MemorySchemas()
    register(registry, "acme", "type", "order_completed", ORDER, T0)

    result = register(registry, "acme", "type", "order_completed", dict(reversed(ORDER.items())), T0 + 1)

    assert result == Registered("type", "order_completed", 1, True, ())
    assert len(registry.versions("acme", "type", "order_completed")) == 1


def test_given_a_retyped_and_a_removed_field_when_registered_then_refused_naming_each_and_nothing_stored():
    registry = MemorySchemas()
    register(registry, "acme", "type", "order_completed", ORDER, T0)
    retyped = event_schema({"order_id": {"type": "integer"}}, "order_id")

    result = register(registry, "acme", "type", "order_completed", retyped, T0 + 1)

    assert isinstance(result, Refused)
    assert [message.split(":")[0] for message in result.messages] == ["/order_id", "/total"]
    assert "was string, now integer (bigint)" in result.messages[0]
    assert "removed" in result.messages[1]
    assert len(registry.versions("acme", "type", "order_completed")) == 1


def test_given_another_tenants_type_when_registered_then_refused_without_naming_the_owner():
    registry = MemorySchemas()
    register(registry, "acme", "type", "order_completed", ORDER, T0)

    result = register(registry, "globex", "type", "order_completed", ORDER, T0 + 1)

    assert result == Refused(("this event type is registered by another tenant: choose another name",))
    assert registry.tenant_schemas("globex").types == {}


@pytest.mark.parametrize(
    ("tenant", "name", "expected"),
    [
        ("acme", "OrderCompleted", "is not an event type name"),
        ("acme", "page_view", "is a built-in event type"),
        ("acme", "orders_raw", "would name a table the lake already has"),
        ("Acme!", "order_completed", "is not a tenant id"),
    ],
)
def test_given_a_name_that_cannot_be_registered_when_registered_then_refused_saying_why(tenant, name, expected):
    registry = MemorySchemas()

    result = register(registry, tenant, "type", name, ORDER, T0)

    assert isinstance(result, Refused)
    assert expected in result.messages[0]
    assert registry.stored == {}


def test_given_a_type_document_breaking_the_lake_names_when_registered_then_refused_naming_the_field():
    result = register(MemorySchemas(), "acme", "type", "order_completed", event_schema({"orderId": {}}), T0)

    assert isinstance(result, Refused)
    assert result.messages[0].startswith("/orderId: 'orderId' is not a column name")


def test_given_a_camel_case_track_plan_when_registered_then_accepted_and_any_valid_plan_may_follow():
    registry = MemorySchemas()
    plan = event_schema({"orderId": {"type": "string"}, "revenue": {"type": "number"}}, "orderId")
    retyped = event_schema({"orderId": {"type": "integer"}, "currency": {"type": "string"}}, "orderId")

    first = register(registry, "acme", "track", "Order Completed", plan, T0)
    second = register(registry, "acme", "track", "Order Completed", retyped, T0 + 1)
    again = register(registry, "acme", "track", "Order Completed", retyped, T0 + 2)

    assert first == Registered("track", "Order Completed", 1, False, ("/orderId", "/revenue"))
    assert second == Registered("track", "Order Completed", 2, False, ("/currency",))
    assert again == Registered("track", "Order Completed", 2, True, ())
    assert registry.owner_of("Order Completed") is None  # plans are the tenant's alone


@pytest.mark.parametrize(
    ("name", "document", "expected"),
    [
        ("Order\tCompleted", event_schema({}), "printable text"),
        ("x" * 129, event_schema({}), "1-128 characters"),
        ("Order Completed", {"type": "array"}, '#/type: must be "object"'),
        ("Order Completed", event_schema({"orderId": {"type": "strng"}}), "/orderId:"),
        ("Order Completed", event_schema({"name": {"const": "\ud800"}}), "valid Unicode"),
    ],
)
def test_given_a_track_plan_that_cannot_be_registered_when_registered_then_refused_saying_why(name, document, expected):
    registry = MemorySchemas()

    result = register(registry, "acme", "track", name, document, T0)

    assert isinstance(result, Refused)
    assert expected in result.messages[0]
    assert registry.stored == {}


class Racing(MemorySchemas):
    """Another registration stores the same version number first, ``times`` times."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.times = times

    def put_version(self, schema: RegisteredSchema) -> None:
        if self.times:
            self.times -= 1
            super().put_version(RegisteredSchema(**{**schema.__dict__, "document": ORDER}))
            raise VersionTaken("taken")
        super().put_version(schema)


def test_given_a_concurrent_registration_when_it_wins_the_version_then_read_again_and_stored_next():
    registry = Racing(times=1)

    result = register(registry, "acme", "type", "order_completed", WITH_COUPON, T0)

    assert result == Registered("type", "order_completed", 2, False, ("/coupon",))
    assert [s.document for s in registry.versions("acme", "type", "order_completed")] == [ORDER, WITH_COUPON]


def test_given_concurrent_registrations_winning_twice_when_registered_then_storage_error():
    registry: Any = Racing(times=2)

    with pytest.raises(StorageError, match="kept winning"):
        register(registry, "acme", "type", "order_completed", WITH_COUPON, T0)


@pytest.mark.parametrize("kind", ["type", "track"])
@pytest.mark.parametrize(
    ("pattern", "matching", "other"),
    [
        ("^\\p{Lu}+$", "ÉTÉ", "été"),  # a Unicode property: Python's re has no \p
        ("^(?<year>\\d{4})-\\d{2}$", "2026-12", "26-12"),  # a named group as ECMA-262 spells it
        ("^\\cA$", "\x01", "A"),  # a control escape
        ("^\\u{1F600}$", "\U0001f600", "u"),  # a code point escape
    ],
)
def test_given_an_ecma_262_pattern_pythons_re_refuses_when_registered_then_taken_and_events_are_checked_by_it(
    kind, pattern, matching, other
):
    # Draft 2020-12 patterns are ECMA-262's, which the collector's validator reads: one it compiles is a valid
    # schema, whatever Python's re makes of it.
    registry = MemorySchemas()
    document = event_schema({"code": {"type": "string", "pattern": pattern}})

    registered = register(registry, "acme", kind, "code_entered", document, T0)

    assert isinstance(registered, Registered)
    [stored] = registry.versions("acme", kind, "code_entered")
    forget_compiled()  # compiled schemas are kept by tenant, kind, name and version: the same for each case
    checker = compiled(stored)
    assert checker.check({"code": matching}) == {"code": matching}
    assert isinstance(checker.check({"code": other}), list)


@pytest.mark.parametrize(("pattern", "shown"), [("(", '"("'), ("[", '"["')])
def test_given_a_pattern_no_engine_compiles_when_registered_then_refused_naming_it(pattern, shown):
    for document in (
        event_schema({"code": {"type": "string", "pattern": pattern}}),
        event_schema({"codes": {"type": "object", "patternProperties": {pattern: {}}}}),
    ):
        refused = register(MemorySchemas(), "acme", "type", "code_entered", document, T0)

        assert isinstance(refused, Refused)
        assert refused.messages[0].startswith("the schema does not compile: ")
        assert shown in refused.messages[0]
