"""The local stack compacts a tenant's own event type the way the cloud does: its schema from the Schemas
table, its raw lines through the fan-out (an S3 notification), a typed Parquet table and its Glue types."""

from __future__ import annotations

import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq

from event_collector.aws.schemas_table import SchemasTable
from event_collector.schemas.registry import RegisteredSchema
from tests.local.conftest import RunningStack

SCHEMA = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "total": {"type": "integer", "minimum": 0},
        "placed_at": {"type": "string", "format": "date-time"},
        "shipping": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
    "required": ["order_id", "total"],
    "additionalProperties": False,
}
RECEIVED_AT = 1_795_168_800_000  # 2026-11-20T10:00:00Z: an hour long closed


def test_given_a_registered_type_and_its_stored_lines_when_compacted_locally_then_the_table_is_typed(
    local_stack: RunningStack,
):
    tenant = local_stack.info["tenant"]
    dynamodb = local_stack.aws("dynamodb")
    (table_name,) = [name for name in dynamodb.list_tables()["TableNames"] if "Schemas" in name]
    SchemasTable(dynamodb, table_name).put_version(
        RegisteredSchema(tenant, "type", "local_order", 1, SCHEMA, registered_at=RECEIVED_AT)
    )
    lines = [
        {
            "event_id": f"lo-{i}",
            "event_type": "local_order",
            "tenant": tenant,
            "received_at": RECEIVED_AT + i,
            "timestamp": RECEIVED_AT + i,
            "schema_version": "1",
            "order_id": f"A-{i}",
            "total": str(2**53 + i),
            "placed_at": "2026-11-20T11:00:00.250+01:00",
            "shipping": json.dumps({"city": "Köln"}, ensure_ascii=False, separators=(",", ":")),
        }
        for i in range(3)
    ]
    body = gzip.compress(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    s3, lake = local_stack.aws("s3"), local_stack.info["lake_bucket"]
    s3.put_object(Bucket=local_stack.info["raw_bucket"], Key="raw/2026/11/20/10/local-order-1", Body=body)
    local_stack.drain()

    run = local_stack.request("POST", "/__local/compact", body={}).json()

    assert run["status"] == "SUCCEEDED", run
    listing = s3.list_objects_v2(Bucket=lake, Prefix=f"compacted/local_order/tenant={tenant}/")["Contents"]
    (key,) = [item["Key"] for item in listing]
    parquet = pq.read_table(io.BytesIO(s3.get_object(Bucket=lake, Key=key)["Body"].read()))
    assert parquet.schema.field("total").type == pa.int64()
    assert parquet.schema.field("placed_at").type == pa.timestamp("ms", tz="UTC")
    assert parquet.schema.field("shipping").type == pa.struct([pa.field("city", pa.string(), nullable=False)])
    assert sorted(parquet["total"].to_pylist()) == [2**53, 2**53 + 1, 2**53 + 2]
    glue = local_stack.aws("glue")
    columns = glue.get_table(DatabaseName=local_stack.info["glue_database"], Name="local_order")["Table"]
    types = {column["Name"]: column["Type"] for column in columns["StorageDescriptor"]["Columns"]}
    assert (types["total"], types["placed_at"], types["shipping"]) == ("bigint", "timestamp", "struct<city:string>")
    assert glue.get_table(DatabaseName=local_stack.info["glue_database"], Name="local_order_raw")
