"""A schema's lake columns: each kind's Arrow and Glue type, the schema's order, nullability, and what a new
version adds to a table."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from awswrangler import _data_types as wrangler_types  # how awswrangler names an Arrow type in Glue
from hypothesis import HealthCheck, given, settings

from event_collector.schemas.columns import (
    EXTRA_COLUMN,
    TIMESTAMP,
    Column,
    added_columns,
    arrow_schema,
    columns,
    widened_columns,
)
from event_collector.schemas.fields import InvalidSchema
from tests.event_collector.schemas.helpers import ORDER, closed, event_schema, event_schemas, order

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_given_the_worked_example_when_mapped_then_each_field_is_a_typed_column_in_schema_order_then_extra():
    line = pa.struct([pa.field("sku", pa.string(), nullable=False), pa.field("price", pa.float64())])
    shipping = pa.struct([pa.field("city", pa.string(), nullable=False), pa.field("express", pa.bool_())])

    assert columns(ORDER) == (
        Column("order_id", pa.string(), "string", nullable=False),
        Column("total", pa.int64(), "bigint", nullable=False),
        Column("placed_at", TIMESTAMP, "timestamp", nullable=True),
        Column(
            "lines", pa.list_(pa.field("item", line, nullable=False)), "array<struct<sku:string,price:double>>", True
        ),
        Column("shipping", shipping, "struct<city:string,express:boolean>", nullable=True),
        Column("attributes", pa.string(), "string", nullable=True),
        Column("coupon", pa.string(), "string", nullable=True),
        EXTRA_COLUMN,
    )
    assert pa.timestamp("ms", tz="UTC") == TIMESTAMP


@pytest.mark.parametrize("additional", [False, True])
def test_given_an_open_or_closed_top_level_when_mapped_then_extra_is_the_last_column_either_way(additional):
    schema = event_schema({"b": {"type": "string"}, "a": {"type": "string"}}, additionalProperties=additional)

    assert [column.name for column in columns(schema)] == ["b", "a", "extra"]
    assert columns(schema)[-1] == Column("extra", pa.string(), "string", nullable=True)


def test_given_an_array_of_nullable_items_when_mapped_then_its_arrow_items_are_nullable():
    [tags, _] = columns(event_schema({"tags": {"type": "array", "items": {"type": ["string", "null"]}}}, "tags"))

    assert tags.arrow_type == pa.list_(pa.field("item", pa.string(), nullable=True))
    assert (tags.glue_type, tags.nullable) == ("array<string>", False)


def test_given_columns_when_written_to_parquet_then_the_file_carries_their_types_and_nullability(tmp_path):
    found = columns(ORDER)
    row = {
        "order_id": "o-1",
        "total": 4200,
        "placed_at": datetime(2026, 1, 31, 12, tzinfo=UTC),
        "lines": [{"sku": "s-1", "price": 19.99}],
        "shipping": {"city": "Lyon", "express": None},
        "attributes": '{"gift":true}',
        "coupon": None,
        "extra": None,
    }
    sparse = dict.fromkeys(row) | {"order_id": "o-2", "total": 0}
    pq.write_table(pa.Table.from_pylist([row, sparse], schema=arrow_schema(found)), tmp_path / "part.parquet")

    read = pq.read_table(tmp_path / "part.parquet")

    assert read.schema == arrow_schema(found)
    assert read.to_pylist() == [row, sparse]


def test_given_a_required_column_when_a_null_is_written_then_the_writer_fails_instead_of_storing_it(tmp_path):
    table = pa.Table.from_pylist([{"order_id": None, "total": 1}], schema=arrow_schema(columns(ORDER)))

    with pytest.raises(pa.ArrowInvalid, match="'order_id' is declared non-nullable but contains nulls"):
        pq.write_table(table, tmp_path / "part.parquet")


@SETTINGS
@given(event_schemas)
def test_given_any_schema_when_mapped_then_awswrangler_names_each_arrow_type_with_our_glue_type(schema):
    for column in columns(schema):
        assert wrangler_types.pyarrow2athena(column.arrow_type) == column.glue_type


def test_given_an_optional_field_added_when_compared_then_it_is_the_column_added_in_the_newer_order():
    newer = copy.deepcopy(ORDER)
    newer["properties"] = {"channel": {"type": "string"}, **newer["properties"], "note": {"type": "string"}}

    assert added_columns(ORDER, newer) == (
        Column("channel", pa.string(), "string", nullable=True),
        Column("note", pa.string(), "string", nullable=True),
    )
    assert widened_columns(ORDER, newer) == ()


def test_given_a_struct_that_gained_a_field_when_compared_then_its_column_is_widened_not_added():
    newer = order(shipping=closed({"city": {"type": "string"}, "express": {"type": "boolean"}, "zip": {}}, "city"))
    newer["$defs"]["line"]["properties"]["qty"] = {"type": "integer"}

    assert added_columns(ORDER, newer) == ()
    assert [(column.name, column.glue_type) for column in widened_columns(ORDER, newer)] == [
        ("lines", "array<struct<sku:string,price:double,qty:bigint>>"),
        ("shipping", "struct<city:string,express:boolean,zip:string>"),
    ]


def test_given_a_struct_whose_fields_were_only_reordered_when_compared_then_nothing_is_widened():
    newer = order(shipping=closed({"express": {"type": "boolean"}, "city": {"type": "string"}}, "city"))

    assert (added_columns(ORDER, newer), widened_columns(ORDER, newer)) == ((), ())


def test_given_the_same_schema_when_compared_then_nothing_is_added_or_widened():
    assert (added_columns(ORDER, ORDER), widened_columns(ORDER, ORDER)) == ((), ())


@pytest.mark.parametrize("compare", [added_columns, widened_columns])
def test_given_a_newer_schema_that_may_not_follow_when_compared_then_invalid_schema_names_the_field(compare):
    with pytest.raises(InvalidSchema) as raised:
        compare(ORDER, order(total={"type": "number"}))

    assert [problem.field for problem in raised.value.problems] == ["/total"]


def test_given_a_refused_schema_when_mapped_then_invalid_schema_names_the_field():
    with pytest.raises(InvalidSchema, match="/Total: 'Total' is not a column name"):
        columns(event_schema({"Total": {"type": "integer"}}))
