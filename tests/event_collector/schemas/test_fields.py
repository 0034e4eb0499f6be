"""How each subschema becomes a field's kind: typed where every valid value fits the type, JSON text where
the schema leaves it open."""

from __future__ import annotations

from typing import Any

import pytest

from event_collector.schemas.fields import Field, InvalidSchema, Shape, event_fields
from tests.event_collector.schemas.helpers import ORDER, closed, event_schema

STRING = Shape("string")


def shape_of(field_schema: Any, *, definitions: dict[str, Any] | None = None) -> Shape:
    extra = {"$defs": definitions} if definitions else {}
    [field] = event_fields(event_schema({"a": field_schema}, "a", **extra))
    return field.shape


@pytest.mark.parametrize(
    ("field_schema", "expected"),
    [
        ({"type": "string"}, STRING),
        ({"type": "string", "format": "date-time"}, Shape("timestamp")),
        ({"type": "string", "format": "date"}, STRING),
        ({"type": "integer"}, Shape("bigint")),
        ({"type": "number"}, Shape("double")),
        ({"type": ["integer", "number"]}, Shape("double")),
        ({"type": "boolean"}, Shape("boolean")),
        ({"type": ["string", "null"]}, Shape("string", nullable=True)),
        ({"type": ["null", "string"], "format": "date-time"}, Shape("timestamp", nullable=True)),
        ({"type": "null"}, Shape("json", nullable=True)),
        ({"type": ["string", "integer"]}, Shape("json")),
        ({"type": ["string", "integer", "null"]}, Shape("json", nullable=True)),
        ({}, Shape("json", nullable=True)),
        (True, Shape("json", nullable=True)),
        ({"minLength": 1}, Shape("json", nullable=True)),
        ({"properties": {"b": {"type": "string"}}}, Shape("json", nullable=True)),
    ],
)
def test_given_a_typed_or_untyped_field_when_read_then_its_kind_follows_type_alone(field_schema, expected):
    assert shape_of(field_schema) == expected


@pytest.mark.parametrize(
    ("field_schema", "expected"),
    [
        ({"enum": ["card", "cash"]}, STRING),
        ({"enum": ["card", None]}, Shape("string", nullable=True)),
        ({"enum": [1, 2.0]}, Shape("bigint")),
        ({"enum": [1, 2.5]}, Shape("double")),
        ({"enum": ["1", 1]}, Shape("json")),
        ({"const": True}, Shape("boolean")),
        ({"const": {"a": 1}}, Shape("json")),
        ({"type": "string", "enum": ["a", 1]}, STRING),
    ],
)
def test_given_enum_or_const_without_type_when_read_then_their_values_types_decide(field_schema, expected):
    assert shape_of(field_schema) == expected


@pytest.mark.parametrize(
    ("field_schema", "expected"),
    [
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, Shape("string", nullable=True)),
        ({"oneOf": [{"type": "integer", "minimum": 1}, {"type": "integer", "maximum": -1}]}, Shape("bigint")),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, Shape("json")),
        ({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string"}]}, Shape("json")),
        ({"anyOf": [{"type": "string"}, False]}, STRING),
        ({"anyOf": [{"type": "null"}]}, Shape("json", nullable=True)),
        ({"type": "string", "anyOf": [{"format": "date-time"}, {"pattern": "^x"}]}, STRING),
        ({"allOf": [{"type": "string"}]}, Shape("json", nullable=True)),
    ],
)
def test_given_a_union_when_read_then_it_is_typed_only_if_every_branch_but_null_has_one_shape(field_schema, expected):
    assert shape_of(field_schema) == expected


def test_given_a_closed_object_when_read_then_it_is_a_struct_of_its_fields_in_schema_order():
    shape = shape_of(closed({"z": {"type": "string"}, "a": {"type": "integer"}}, "a"))

    assert shape.kind == "struct"
    assert [(field.name, field.shape.kind, field.required, field.nullable) for field in shape.fields] == [
        ("z", "string", False, True),
        ("a", "bigint", True, False),
    ]
    assert [field.pointer for field in shape.fields] == ["/a/z", "/a/a"]


@pytest.mark.parametrize(
    "field_schema",
    [
        {"type": "object"},
        {"type": "object", "properties": {"b": {"type": "string"}}},
        {"type": "object", "properties": {"b": {"type": "string"}}, "additionalProperties": True},
        {"type": "object", "properties": {"b": {"type": "string"}}, "additionalProperties": {"type": "string"}},
        {
            "type": "object",
            "properties": {"b": {"type": "string"}},
            "additionalProperties": False,
            "patternProperties": {"^x_": {"type": "string"}},
        },
        closed({}),
    ],
)
def test_given_an_object_left_open_or_empty_when_read_then_it_is_json_text(field_schema):
    assert shape_of(field_schema) == Shape("json")


@pytest.mark.parametrize(
    ("field_schema", "expected"),
    [
        ({"type": "array", "items": {"type": "string"}}, Shape("array", item=STRING)),
        (
            {"type": "array", "items": {"type": ["integer", "null"]}},
            Shape("array", item=Shape("bigint", nullable=True)),
        ),
        (
            {"type": "array", "items": {"type": "array", "items": {"type": "boolean"}}},
            Shape("array", item=Shape("array", item=Shape("boolean"))),
        ),
        ({"type": "array"}, Shape("json")),
        ({"type": "array", "items": {}}, Shape("json")),
        ({"type": "array", "items": True}, Shape("json")),
        ({"type": "array", "items": False}, Shape("json")),
        ({"type": "array", "items": {"type": "object"}}, Shape("json")),
        ({"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "string"}}, Shape("json")),
    ],
)
def test_given_an_array_when_read_then_it_is_an_array_only_of_a_typed_item(field_schema, expected):
    assert shape_of(field_schema) == expected


def test_given_a_ref_when_read_then_the_definition_alone_decides_the_kind():
    money = closed({"amount": {"type": "integer"}}, "amount")

    assert shape_of({"$ref": "#/$defs/money"}, definitions={"money": money}) == shape_of(money)
    assert shape_of({"$ref": "#/$defs/text", "type": "string"}, definitions={"text": {}}) == Shape("json", True)


def test_given_required_and_null_when_read_then_a_field_is_nullable_unless_required_and_refusing_null():
    fields = event_fields(
        event_schema(
            {"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": ["string", "null"]}, "d": {}}, "a", "c"
        )
    )

    assert [(field.name, field.required, field.nullable) for field in fields] == [
        ("a", True, False),
        ("b", False, True),
        ("c", True, True),
        ("d", False, True),
    ]


def test_given_the_worked_example_when_read_then_each_field_has_its_kind_pointer_and_place():
    fields = event_fields(ORDER)

    assert [(field.name, field.shape.describe()) for field in fields] == [
        ("order_id", "string"),
        ("total", "integer (bigint)"),
        ("placed_at", "date-time string (timestamp)"),
        ("lines", "an array of closed object (struct)"),
        ("shipping", "closed object (struct)"),
        ("attributes", "JSON text"),
        ("coupon", "string"),
    ]
    lines = fields[3].shape.item
    assert lines is not None
    assert [(field.pointer, field.location) for field in lines.fields] == [
        ("/lines/-/sku", "/$defs/line/properties/sku"),
        ("/lines/-/price", "/$defs/line/properties/price"),
    ]


def test_given_fields_when_compared_then_where_they_were_declared_does_not_matter():
    here = Field("a", STRING, True, "/a", "/properties/a")

    assert here == Field("a", STRING, True, "/b/a", "/$defs/b/properties/a")


def test_given_a_refused_schema_when_its_fields_are_asked_for_then_invalid_schema_carries_each_problem():
    with pytest.raises(InvalidSchema) as raised:
        event_fields(event_schema({"tenant": {"type": "string"}}))

    assert isinstance(raised.value, ValueError)
    assert [problem.field for problem in raised.value.problems] == ["/tenant"]
