"""A custom type's stored text into its typed columns: every kind, exact values, and loud failures."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_collector.compaction.typed import ConversionError, convert, read_types, typed_table
from event_collector.json_values import canonical_json
from event_collector.schemas.registry import RegisteredSchema
from tests.event_collector.schemas.helpers import ORDER, closed, event_schema

TIMESTAMP = pa.timestamp("ms", tz="UTC")


def registered(document: dict[str, Any], version: int = 1, name: str = "order_completed") -> RegisteredSchema:
    return RegisteredSchema("acme", "type", name, version, document, registered_at=0)


def rows(*records: dict[str, Any]) -> pa.Table:
    """Rows as compaction reads them: the epoch numbers typed, every other column text."""
    base = {"event_id": "e", "event_type": "order_completed", "received_at": 1, "timestamp": 1, "schema_version": "1"}
    full = [{**base, **record} for record in records]
    names = sorted({name for record in full for name in record} - {"received_at", "timestamp"})
    schema = pa.schema([("received_at", pa.int64()), ("timestamp", pa.int64()), *((n, pa.string()) for n in names)])
    return pa.Table.from_pylist(full, schema=schema)


def test_given_the_order_schema_when_typed_then_columns_lead_with_core_version_and_envelope_then_fields():
    table = typed_table(registered(ORDER))

    assert table.arrow_schema.names == [
        "event_id",
        "event_type",
        "received_at",
        "timestamp",
        "schema_version",
        "anonymous_id",
        "context",
        "user_id",
        "order_id",
        "total",
        "placed_at",
        "lines",
        "shipping",
        "attributes",
        "coupon",
        "extra",
    ]
    assert table.arrow_schema.field("order_id").nullable is False
    assert table.arrow_schema.field("schema_version").nullable is False
    assert dict(table.glue_columns)["lines"] == "array<struct<sku:string,price:double>>"


def test_given_every_kind_as_stored_when_converted_then_each_column_holds_its_type():
    stored = {
        "order_id": "o-1",
        "total": "9223372036854775807",
        "placed_at": "2026-11-20T10:00:00.123456+01:00",
        "lines": '[{"price":1e308,"sku":"a"},{"price":-0.0,"sku":"ü"}]',
        "shipping": '{"city":"Zürich","express":null}',
        "attributes": '{"gift":true,"note":"1"}',
        "coupon": '"SAVE"',
        "extra": '{"undeclared":1}',
        "user_id": "u-1",
        "context": '{"ip":"1.2.3.4"}',
    }

    [row] = convert(rows(stored), typed_table(registered(ORDER))).to_pylist()

    assert row["schema_version"] == 1
    assert row["total"] == 2**63 - 1
    assert row["placed_at"].isoformat() == "2026-11-20T09:00:00.123000+00:00"
    assert row["lines"] == [{"sku": "a", "price": 1e308}, {"sku": "ü", "price": -0.0}]
    assert math.copysign(1, row["lines"][1]["price"]) == -1
    assert row["shipping"] == {"city": "Zürich", "express": None}
    assert row["attributes"] == '{"gift":true,"note":"1"}'
    assert row["coupon"] == '"SAVE"'
    assert (row["extra"], row["user_id"], row["context"]) == ('{"undeclared":1}', "u-1", '{"ip":"1.2.3.4"}')


def test_given_nested_timestamps_and_open_objects_when_converted_then_parsed_and_canonical():
    schema = event_schema(
        {
            "visits": {
                "type": "array",
                "items": closed({"at": {"type": "string", "format": "date-time"}, "meta": {"type": "object"}}, "at"),
            }
        }
    )

    [row] = convert(
        rows({"visits": '[{"at":"1970-01-01T00:00:01Z","meta":{"b":[1,null],"a":2}}]'}),
        typed_table(registered(schema)),
    ).to_pylist()

    assert row["visits"][0]["at"].timestamp() == 1.0
    assert row["visits"][0]["meta"] == '{"a":2,"b":[1,null]}'


@given(
    st.one_of(
        st.integers(-(2**63), 2**63 - 1),
        st.sampled_from([2**53, 2**53 + 1, -(2**53) - 1, 0, -1]),
    )
)
def test_given_any_int64_when_converted_then_it_is_kept_exactly(value):
    schema = event_schema({"n": {"type": "integer"}, "m": {"type": "array", "items": {"type": "integer"}}})

    [row] = convert(rows({"n": str(value), "m": f"[{value}]"}), typed_table(registered(schema))).to_pylist()

    assert row["n"] == value
    assert row["m"] == [value]


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_given_any_double_as_stored_when_converted_then_it_is_the_same_double(value):
    schema = event_schema({"x": {"type": "number"}})

    [row] = convert(rows({"x": canonical_json(value)}), typed_table(registered(schema))).to_pylist()

    assert row["x"] == value
    assert math.copysign(1, row["x"]) == math.copysign(1, value)


@given(st.text())
def test_given_any_unicode_string_when_converted_then_it_comes_back_as_sent(value):
    schema = event_schema({"s": {"type": "string"}, "t": closed({"s": {"type": "string"}})})

    [row] = convert(rows({"s": value, "t": canonical_json({"s": value})}), typed_table(registered(schema))).to_pylist()

    assert (row["s"], row["t"]) == (value, {"s": value})


@pytest.mark.parametrize(
    ("stored", "problem"),
    [
        ({"total": "1.5"}, "'total'.*not a 64-bit integer"),
        ({"total": "9223372036854775808"}, "'total'.*not a 64-bit integer"),
        ({"total": '"7"'}, "'total'"),
        ({"placed_at": "2026-11-20 10:00"}, "'placed_at'.*not a date-time"),
        ({"shipping": '{"city":"x","floor":3}'}, "'shipping'.*'floor'"),
        ({"shipping": '{"express":true}'}, "'shipping'.*/city is missing"),
        ({"lines": '[{"sku":"a","price":"1"}]'}, "'lines'.*/-/price"),
        ({"order_id": None}, "'order_id'.*missing"),
        ({"surprise": "1"}, "'surprise'.*not a field"),
        ({"schema_version": "2"}, "'schema_version'.*newer than the latest read"),
        ({"schema_version": None}, "'schema_version'.*missing"),
    ],
)
def test_given_a_value_that_does_not_fit_when_converted_then_the_error_names_type_field_and_event(stored, problem):
    valid = {"order_id": "o", "total": "1"}

    with pytest.raises(ConversionError, match=f"'order_completed', field {problem}") as raised:
        convert(rows({**valid, **stored, "event_id": "ev-9"}), typed_table(registered(ORDER)))

    assert "'ev-9'" in str(raised.value)


def test_given_a_type_nobody_registered_when_types_are_read_then_compaction_refuses_it():
    with pytest.raises(ConversionError, match="'mystery' is neither built in nor registered"):
        read_types(_Lookup({}), ["mystery"])


def test_given_a_registered_type_when_types_are_read_then_its_latest_version_is_used():
    found = read_types(_Lookup({"order_completed": registered(ORDER, version=3)}), ["order_completed"])

    assert found["order_completed"].version == 3


class _Lookup:
    def __init__(self, schemas: dict[str, RegisteredSchema]) -> None:
        self.schemas = schemas

    def type_schema(self, event_type: str) -> RegisteredSchema | None:
        return self.schemas.get(event_type)
