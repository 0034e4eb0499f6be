"""A new version may only add optional fields; every other change to the fields is refused, naming each
field and saying why."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from event_collector.schemas.columns import added_columns, widened_columns
from event_collector.schemas.evolution import Accepted, Refused, SchemaVersion, decide
from event_collector.schemas.fields import Field, event_fields
from tests.event_collector.schemas.helpers import ORDER, at, closed, event_schema, event_schemas, order

STORED = SchemaVersion(version=3, schema=ORDER)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NEW_TYPE = "add a new optional field instead, or register a new event type"


def refusals(proposed: Any, latest: SchemaVersion | None = STORED) -> list[str]:
    decision = decide(proposed, latest)
    assert isinstance(decision, Refused), decision
    return decision.messages


def test_given_no_version_yet_when_a_schema_is_proposed_then_it_is_version_1_adding_every_field():
    assert decide(ORDER, None) == Accepted(
        version=1,
        unchanged=False,
        added=(
            "/order_id",
            "/total",
            "/placed_at",
            "/lines",
            "/lines/-/sku",
            "/lines/-/price",
            "/shipping",
            "/shipping/city",
            "/shipping/express",
            "/attributes",
            "/coupon",
        ),
    )


def test_given_the_latest_version_proposed_again_when_decided_then_it_is_that_version_unchanged():
    assert decide(copy.deepcopy(ORDER), STORED) == Accepted(version=3, unchanged=True, added=())


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Order completed (v4)"},
        {"description": "What the checkout sends"},
        {"additionalProperties": True},
        {"required": ["total", "order_id"]},
    ],
)
def test_given_a_change_to_annotations_or_top_level_openness_when_decided_then_it_is_the_next_version(change):
    assert decide({**ORDER, **change}, STORED) == Accepted(version=4, unchanged=False, added=())


@pytest.mark.parametrize(
    "field_schema",
    [
        {"type": "integer", "minimum": 10},
        {"type": "integer", "maximum": 10**6, "multipleOf": 5},
        {"type": "integer", "enum": [1, 2, 3]},
        {"type": ["integer", "null"]},
    ],
)
def test_given_constraints_tightened_or_loosened_when_decided_then_it_is_accepted_the_columns_stay(field_schema):
    assert decide(order(total=field_schema), STORED) == Accepted(version=4, unchanged=False, added=())


def test_given_a_required_field_made_optional_when_decided_then_it_is_accepted():
    assert decide({**ORDER, "required": ["order_id"]}, STORED) == Accepted(version=4, unchanged=False, added=())


def test_given_optional_fields_added_at_every_depth_when_decided_then_each_is_added_by_its_pointer():
    proposed = order(
        channel={"type": "string"},
        shipping=closed({"city": {"type": "string"}, "express": {"type": "boolean"}, "zip": {}}, "city"),
    )
    proposed["$defs"]["line"]["properties"]["qty"] = {"type": "integer"}

    assert decide(proposed, STORED) == Accepted(
        version=4, unchanged=False, added=("/lines/-/qty", "/shipping/zip", "/channel")
    )


def test_given_a_field_removed_when_decided_then_it_is_refused_naming_it():
    assert refusals(order(coupon=None)) == [
        "/coupon: removed: the events already stored have it; keep it (it may become optional), or register a new "
        "event type"
    ]


def test_given_a_field_removed_from_a_definition_when_decided_then_it_is_refused_naming_it_where_it_is_used():
    proposed = copy.deepcopy(ORDER)
    del proposed["$defs"]["line"]["properties"]["price"]

    decision = decide(proposed, STORED)

    assert isinstance(decision, Refused)
    [problem] = decision.problems
    assert (problem.field, problem.location) == ("/lines/-/price", "/$defs/line/properties/price")


@pytest.mark.parametrize(
    ("name", "field_schema", "was", "now"),
    [
        ("order_id", {"type": "integer"}, "string", "integer (bigint)"),
        ("total", {"type": "string"}, "integer (bigint)", "string"),
        ("order_id", {"type": "string", "format": "date-time"}, "string", "date-time string (timestamp)"),
        ("placed_at", {"type": "string"}, "date-time string (timestamp)", "string"),
        ("attributes", closed({"a": {"type": "string"}}), "JSON text", "closed object (struct)"),
        ("shipping", {"type": "object", "properties": {"city": {}}}, "closed object (struct)", "JSON text"),
        ("coupon", {}, "string", "JSON text"),
        ("lines", {"type": "string"}, "an array of closed object (struct)", "string"),
    ],
)
def test_given_a_field_retyped_when_decided_then_it_is_refused_saying_what_it_was_and_is(name, field_schema, was, now):
    assert refusals(order(**{name: field_schema})) == [
        f"/{name}: was {was}, now {now}: a field's type never changes, since the events already stored hold the "
        f"old one; {NEW_TYPE}"
    ]


def test_given_an_integer_widened_to_a_number_when_decided_then_it_is_refused_saying_why_widening_is_too():
    assert refusals(order(total={"type": "number"})) == [
        "/total: was integer (bigint), now number (double): widening integer to number is refused too (the lake "
        f"keeps stored integers as bigint, which Athena does not read as double); {NEW_TYPE}"
    ]


def test_given_a_number_narrowed_to_an_integer_when_decided_then_it_is_refused():
    proposed = copy.deepcopy(ORDER)
    proposed["$defs"]["line"]["properties"]["price"] = {"type": "integer"}

    assert refusals(proposed) == [
        "/lines/-/price: was number (double), now integer (bigint): a field's type never changes, since the events "
        f"already stored hold the old one; {NEW_TYPE}"
    ]


def test_given_an_arrays_items_retyped_when_decided_then_it_is_refused_naming_every_item():
    stored = SchemaVersion(1, event_schema({"tags": {"type": "array", "items": {"type": "string"}}}))
    proposed = event_schema({"tags": {"type": "array", "items": {"type": "integer"}}})

    assert refusals(proposed, stored) == [
        "/tags/-: was string, now integer (bigint): a field's type never changes, since the events "
        f"already stored hold the old one; {NEW_TYPE}"
    ]


def test_given_an_optional_field_made_required_when_decided_then_it_is_refused_once_naming_it():
    assert refusals({**ORDER, "required": [*ORDER["required"], "coupon"]}) == [
        f"/coupon: was optional, now required: events already stored may lack it; {NEW_TYPE}"
    ]


def test_given_a_nested_optional_field_made_required_when_decided_then_it_is_refused_naming_it():
    proposed = order(shipping=closed({"city": {"type": "string"}, "express": {"type": "boolean"}}, "city", "express"))

    assert refusals(proposed) == [
        f"/shipping/express: was optional, now required: events already stored may lack it; {NEW_TYPE}"
    ]


@pytest.mark.parametrize("where", ["top", "struct", "array"])
def test_given_a_required_field_added_when_decided_then_it_is_refused_naming_it(where):
    proposed = copy.deepcopy(ORDER)
    parent = {"top": proposed, "struct": proposed["properties"]["shipping"], "array": proposed["$defs"]["line"]}[where]
    parent["properties"]["added"] = {"type": "string"}
    parent["required"].append("added")
    pointer = {"top": "/added", "struct": "/shipping/added", "array": "/lines/-/added"}[where]

    assert refusals(proposed) == [
        f"{pointer}: a new field must be optional, since the events already stored lack it: leave it out of "
        "required, or register a new event type"
    ]


def test_given_a_required_field_that_took_null_refusing_it_when_decided_then_it_is_refused():
    stored = SchemaVersion(1, event_schema({"note": {"type": ["string", "null"]}}, "note"))

    assert refusals(event_schema({"note": {"type": "string"}}, "note"), stored) == [
        f"/note: took null, now refuses it: events already stored hold null; {NEW_TYPE}"
    ]


def test_given_array_items_that_took_null_refusing_it_when_decided_then_it_is_refused_naming_the_items():
    stored = SchemaVersion(1, event_schema({"tags": {"type": "array", "items": {"type": ["string", "null"]}}}))
    proposed = event_schema({"tags": {"type": "array", "items": {"type": "string"}}})

    assert refusals(proposed, stored) == [
        f"/tags/-: took null, now refuses it: events already stored hold null; {NEW_TYPE}"
    ]


def test_given_a_required_field_that_now_takes_null_when_decided_then_it_is_accepted():
    stored = SchemaVersion(1, event_schema({"note": {"type": "string"}}, "note"))

    assert decide(event_schema({"note": {"type": ["string", "null"]}}, "note"), stored) == Accepted(2, False, ())


def test_given_several_changes_when_decided_then_every_field_is_named():
    proposed = order(total={"type": "number"}, coupon=None, channel={"type": "string"})
    proposed["required"].append("channel")

    assert [message.split(":")[0] for message in refusals(proposed)] == ["/total", "/coupon", "/channel"]


def test_given_a_proposal_breaking_the_documents_rules_when_decided_then_those_problems_are_the_refusal():
    assert refusals(order(tenant={"type": "string"}), None) == [
        "/tenant: 'tenant' is reserved: every event already has it, or the server or the lake sets it"
    ]


def test_given_a_stored_version_the_rules_refuse_when_decided_then_it_raises_as_a_bug_not_a_refusal():
    with pytest.raises(ValueError, match="tenant"):
        decide(ORDER, SchemaVersion(1, event_schema({"tenant": {"type": "string"}})))
    with pytest.raises(ValueError, match="1 or more"):
        decide(ORDER, SchemaVersion(0, ORDER))


# Properties: over generated schemas, with and without a change at a random field.

SCHEMA_AND_FIELD = event_schemas.filter(lambda schema: bool(schema["properties"])).flatmap(
    lambda schema: st.tuples(st.just(schema), st.sampled_from(every_field(event_fields(schema))))
)


def every_field(fields: tuple[Field, ...]) -> list[Field]:
    found = []
    for field in fields:
        found.append(field)
        shape = field.shape
        while shape.item is not None:
            shape = shape.item
        found += every_field(shape.fields)
    return found


@SETTINGS
@given(event_schemas)
def test_given_any_schema_when_proposed_first_and_again_then_it_is_version_1_then_unchanged(schema):
    first = decide(schema, None)

    assert isinstance(first, Accepted)
    assert first.version == 1
    assert set(first.added) == {field.pointer for field in every_field(event_fields(schema))}
    assert decide(copy.deepcopy(schema), SchemaVersion(1, schema)) == Accepted(1, True, ())


@SETTINGS
@given(SCHEMA_AND_FIELD, st.sampled_from(["removed", "retyped"]))
def test_given_any_field_removed_or_retyped_when_decided_then_it_is_refused_naming_that_field(drawn, change):
    schema, field = drawn
    proposed = copy.deepcopy(schema)
    parent_location, _, name = field.location.rpartition("/")
    parent = at(proposed, parent_location)
    if change == "removed":  # from properties and from required, as a tenant would
        del parent[name]
        owner = at(proposed, parent_location.rpartition("/")[0])
        owner["required"] = [required for required in owner["required"] if required != name]
    else:
        parent[name] = {"type": "boolean"} if field.shape.kind != "boolean" else {"type": "string"}

    decision = decide(proposed, SchemaVersion(1, schema))

    assert isinstance(decision, Refused)
    named = field.pointer
    if change == "removed" and not parent and parent_location != "/properties":
        # A struct without fields is JSON text (Parquet has no empty struct), and so is an array of them:
        # removing a struct's last field retypes the struct, or the array holding it.
        named = field.pointer.rpartition("/")[0]
        while named.endswith("/-"):
            named = named.removesuffix("/-")
    assert [problem.field for problem in decision.problems] == [named]


@SETTINGS
@given(SCHEMA_AND_FIELD)
def test_given_an_optional_field_added_beside_any_field_when_decided_then_it_is_accepted_and_its_column_grows(drawn):
    schema, beside = drawn
    proposed = copy.deepcopy(schema)
    parent_location, _, _ = beside.location.rpartition("/")
    siblings = at(proposed, parent_location)
    name = next(f"added_{index}" for index in range(10) if f"added_{index}" not in siblings)
    siblings[name] = {"type": "string"}
    pointer = beside.pointer.rpartition("/")[0] + "/" + name

    decision = decide(proposed, SchemaVersion(1, schema))

    assert decision == Accepted(version=2, unchanged=False, added=(pointer,))
    top = pointer.split("/")[1]
    changed = added_columns(schema, proposed) + widened_columns(schema, proposed)
    assert [column.name for column in changed] == [top]
