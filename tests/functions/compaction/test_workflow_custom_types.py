"""A tenant's own event type through the compaction state machine under moto (S3, Glue, DynamoDB): its
table typed by the schema registered in the Schemas table, evolved by a second version, partitions kept."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq

from event_collector.aws.schemas_table import SchemasTable
from event_collector.compaction.typed import typed_table
from event_collector.schemas.evolution import Accepted, Refused, SchemaVersion, decide
from event_collector.schemas.registry import RegisteredSchema
from tests.conftest import LAKE_BUCKET

DB = os.environ.get("GLUE_DATABASE_NAME", "test_db")
TIMESTAMP = pa.timestamp("ms", tz="UTC")


def closed(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


V1 = closed(
    {
        "order_id": {"type": "string"},
        "total": {"type": "integer", "minimum": 0},
        "placed_at": {"type": "string", "format": "date-time"},
        "shipping": closed({"city": {"type": "string"}}, "city"),
    },
    "order_id",
    "total",
)
V2 = closed(
    {
        **V1["properties"],
        "shipping": closed({"city": {"type": "string"}, "floor": {"type": "integer"}}, "city"),
        "coupon": {"type": "string"},
    },
    "order_id",
    "total",
)


def at(day: int, hour: int) -> int:
    return int(datetime(2026, 11, day, hour, tzinfo=UTC).timestamp() * 1000)


def order(event_id: str, received_at: int, version: int, **fields: str) -> dict[str, Any]:
    """A custom event's stored line (docs/schemas.md): core numbers, every other field text."""
    return {
        "event_id": event_id,
        "event_type": "order_completed",
        "tenant": "acme",
        "received_at": received_at,
        "timestamp": received_at,
        "schema_version": str(version),
        "user_id": "u-1",
        **fields,
    }


def register(document: dict[str, Any], version: int) -> None:
    schemas = SchemasTable(boto3.client("dynamodb"), os.environ["SCHEMAS_TABLE_NAME"])
    schemas.put_version(RegisteredSchema("acme", "type", "order_completed", version, document, registered_at=0))


def glue_types(workflow, table: str) -> dict[str, str]:
    found = workflow.glue.get_table(DatabaseName=DB, Name=table)["Table"]["StorageDescriptor"]["Columns"]
    return {column["Name"]: column["Type"] for column in found}


def partitions(workflow, table: str) -> list[list[str]]:
    found = workflow.glue.get_partitions(DatabaseName=DB, TableName=table)["Partitions"]
    return sorted(partition["Values"] for partition in found)


def parquet_files(workflow) -> dict[str, pa.Table]:
    """Each compacted file of the type by its day (``2026-11-20``)."""
    listing = workflow.lake_listing("compacted/order_completed/")
    files = {}
    for key in listing:
        day = "-".join(part.split("=")[1] for part in key.split("/") if part.split("=")[0] in ("year", "month", "day"))
        body = workflow.s3.get_object(Bucket=LAKE_BUCKET, Key=key)["Body"].read()
        files[day] = pq.ParquetFile(io.BytesIO(body)).read()
    return files


def test_given_a_registered_type_evolved_by_a_second_version_when_compacted_twice_then_the_lake_follows_it(workflow):
    register(V1, 1)
    workflow.put_raw(
        "raw/2026/11/20/10/a",
        [
            order("o1", at(20, 10), 1, order_id="A-1", total="9007199254740993", shipping='{"city":"Köln"}'),
            order("o2", at(20, 10), 1, order_id="A-2", total="0", placed_at="2026-11-20T10:00:00.5+01:00"),
        ],
    )

    first = workflow.run({"cutoff": "2100-01-01T00:00:00+00:00"})

    assert first["status"] == "SUCCEEDED", first
    types = glue_types(workflow, "order_completed")
    assert list(types)[:5] == ["event_id", "event_type", "received_at", "timestamp", "schema_version"]
    assert {name: types[name] for name in ("order_id", "total", "placed_at", "shipping", "extra")} == {
        "order_id": "string",
        "total": "bigint",
        "placed_at": "timestamp",
        "shipping": "struct<city:string>",
        "extra": "string",
    }
    assert glue_types(workflow, "order_completed_raw")["total"] == "string"  # the raw JSON, as stored
    day_20 = parquet_files(workflow)["2026-11-20"]
    assert day_20.schema.field("total").type == pa.int64()
    assert day_20.schema.field("placed_at").type == TIMESTAMP
    assert day_20.schema.field("order_id").nullable is False
    assert day_20.schema.field("shipping").type == pa.struct([pa.field("city", pa.string(), nullable=False)])
    rows = {row["event_id"]: row for row in day_20.to_pylist()}
    assert rows["o1"]["total"] == 9007199254740993
    assert rows["o1"]["shipping"] == {"city": "Köln"}
    assert rows["o2"]["placed_at"] == datetime(2026, 11, 20, 9, 0, 0, 500000, tzinfo=UTC)
    assert rows["o1"]["user_id"] == "u-1"

    assert isinstance(decide(V2, SchemaVersion(1, V1)), Accepted)
    register(V2, 2)
    workflow.put_raw(
        "raw/2026/11/21/10/b",
        [order("o3", at(21, 10), 2, order_id="A-3", total="5", coupon="SAVE", shipping='{"city":"Bonn","floor":3}')],
    )
    workflow.put_raw("raw/2026/11/21/11/c", [order("o4", at(21, 11), 1, order_id="A-4", total="6")])

    second = workflow.run({"cutoff": "2100-01-01T00:00:00+00:00"})

    assert second["status"] == "SUCCEEDED", second
    types = glue_types(workflow, "order_completed")
    assert types["shipping"] == "struct<city:string,floor:bigint>"
    assert types["coupon"] == "string"
    assert list(types)[-2:] == ["extra", "coupon"]  # appended: the columns older files have keep their places
    assert partitions(workflow, "order_completed") == [
        ["acme", "2026", "11", "20"],
        ["acme", "2026", "11", "21"],
    ]
    files = parquet_files(workflow)
    newest = typed_table(RegisteredSchema("acme", "type", "order_completed", 2, V2, 0)).arrow_schema
    assert files["2026-11-21"].schema.equals(newest)
    # Read by name, as Athena reads Parquet: the older file's rows have NULL in what version 2 added.
    read = [row for day in ("2026-11-20", "2026-11-21") for row in files[day].to_pylist()]
    by_id = {row["event_id"]: row for row in pa.Table.from_pylist(read, schema=newest).to_pylist()}
    assert by_id["o1"]["coupon"] is None
    assert by_id["o1"]["shipping"] == {"city": "Köln", "floor": None}
    assert by_id["o3"]["shipping"] == {"city": "Bonn", "floor": 3}
    assert (by_id["o3"]["coupon"], by_id["o3"]["schema_version"], by_id["o4"]["schema_version"]) == ("SAVE", 2, 1)


def test_given_a_retyped_field_when_proposed_then_evolution_refuses_it_before_the_lake_sees_it():
    retyped = closed({**V1["properties"], "total": {"type": "number"}}, "order_id", "total")

    decision = decide(retyped, SchemaVersion(1, V1))

    assert isinstance(decision, Refused)
    assert any("/total" in message for message in decision.messages)


def test_given_events_of_a_type_nobody_registered_when_compacted_then_the_run_fails_and_keeps_them(workflow):
    workflow.put_raw("raw/2026/11/20/10/a", [order("o1", at(20, 10), 1, order_id="A-1", total="1")])

    run = workflow.run({"cutoff": "2100-01-01T00:00:00+00:00"})

    assert run["status"] == "FAILED"
    assert workflow.lake_listing("compacted/order_completed/") == {}
    assert workflow.pending()  # still pending: compacted once it is registered
