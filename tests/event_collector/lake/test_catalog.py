"""The catalog's description of a tenant's own event type, and which Glue type changes a typed column takes."""

from __future__ import annotations

import pytest

from event_collector.lake.catalog import (
    CORE_COLUMNS,
    compacted_table,
    glue_type_change,
    parse_glue_type,
    raw_table,
)

LAKE = "lake-bucket"
LEADING = [*CORE_COLUMNS, ("schema_version", "bigint"), ("anonymous_id", "string"), ("context", "string")]


def test_given_a_custom_type_when_its_tables_are_described_then_raw_is_text_and_compacted_is_typed():
    own = (("total", "bigint"), ("shipping", "struct<city:string>"), ("extra", "string"))

    compacted = compacted_table("order_completed", LAKE, typed_columns=own)
    raw = raw_table("order_completed", LAKE, [name for name, _ in own])

    assert list(compacted.columns) == [*LEADING, ("user_id", "string"), *own]
    assert compacted.typed is True
    assert compacted.location == f"s3://{LAKE}/compacted/order_completed/"
    assert raw.name == "order_completed_raw"
    assert raw.location == f"s3://{LAKE}/events/order_completed/"
    assert dict(raw.columns) == {
        **dict(CORE_COLUMNS),
        "schema_version": "string",
        "anonymous_id": "string",
        "context": "string",
        "user_id": "string",
        "total": "string",
        "shipping": "string",
        "extra": "string",
    }
    assert raw.typed is False


def test_given_a_built_in_type_when_described_then_its_tables_are_as_before():
    assert compacted_table("track", LAKE).typed is False
    assert [name for name, _ in raw_table("track", LAKE).columns][:4] == [name for name, _ in CORE_COLUMNS]


def test_given_nested_glue_types_when_parsed_then_structs_and_arrays_nest():
    assert parse_glue_type("array<struct<sku:string,tags:array<string>>>") == (
        "array",
        ("struct", {"sku": "string", "tags": ("array", "string")}),
    )
    with pytest.raises(ValueError, match="not a Glue type"):
        parse_glue_type("struct<a:string")


@pytest.mark.parametrize(
    ("old", "new", "change"),
    [
        ("bigint", "bigint", "same"),
        ("struct<a:string,b:bigint>", "struct<b:bigint,a:string>", "same"),
        ("struct<a:string>", "struct<a:string,b:bigint>", "widened"),
        ("struct<a:struct<x:bigint>>", "struct<a:struct<x:bigint,y:string>>", "widened"),
        ("array<struct<a:string>>", "array<struct<b:bigint,a:string>>", "widened"),
        ("bigint", "double", "refused"),
        ("struct<a:string,b:bigint>", "struct<a:string>", "refused"),
        ("struct<a:string>", "struct<a:bigint,b:string>", "refused"),
        ("array<string>", "string", "refused"),
        ("array<bigint>", "array<struct<a:bigint>>", "refused"),
    ],
)
def test_given_two_glue_types_when_compared_then_only_structs_gaining_fields_widen(old, new, change):
    assert glue_type_change(old, new) == change


def test_given_a_version_that_adds_struct_fields_when_compared_in_glue_then_the_catalog_agrees_with_columns_py():
    import copy

    from event_collector.schemas.columns import columns, widened_columns
    from tests.event_collector.schemas.helpers import ORDER

    newer = copy.deepcopy(ORDER)
    newer["$defs"]["line"]["properties"]["qty"] = {"type": "integer"}  # inside an array's struct
    newer["properties"]["shipping"]["properties"]["floor"] = {"type": "integer"}
    newer["properties"]["gift"] = {"type": "boolean"}
    before = {column.name: column.glue_type for column in columns(ORDER)}

    changes = {
        column.name: glue_type_change(before[column.name], column.glue_type)
        for column in columns(newer)
        if column.name in before
    }

    assert sorted(name for name, change in changes.items() if change == "widened") == sorted(
        column.name for column in widened_columns(ORDER, newer)
    )
    assert set(changes.values()) == {"same", "widened"}
