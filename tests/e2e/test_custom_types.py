"""Issue 23 end to end, over HTTP against the local mode (``make local``'s stack).

An operator registers a tenant's own event type with the admin CLI (``event-collector-admin --local
put-schema``); the tenant sends valid and invalid events of it; each invalid one is rejected on its own,
naming its field by JSON pointer; another tenant can neither send the type nor register it; compaction
writes the type's own table, whose Parquet columns and Glue columns carry the schema's types, and every
accepted value comes back exactly. Then the schema evolves: an added optional field becomes a column,
a retyped field is refused.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from event_collector_cli.compacted import read_compacted
from tests.e2e.test_exact_data_http import get, post, settle
from tests.local.conftest import RunningStack, start_stack, stop_stack

RUN = uuid.uuid4().hex[:8]
TYPE = f"order_completed_{RUN}"
OWNER, OTHER = 0, 1  # demo tenants of the local stack

ORDER_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "order_id": {"type": "string", "minLength": 1},
        "total": {"type": "integer", "minimum": 0},
        "score": {"type": "number"},
        "paid": {"type": "boolean"},
        "placed_at": {"type": "string", "format": "date-time"},
        "shipping": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "express": {"type": "boolean"}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}},
                "required": ["sku", "quantity"],
                "additionalProperties": False,
            },
        },
        "attributes": {"type": "object"},
    },
    "required": ["order_id", "total"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    # Every request reads the tenant's schemas: version 2 applies at once (the cache's own tests cover the TTL).
    running = start_stack(tmp_path_factory.mktemp("custom-types"), {"LOCAL_SCHEMA_CACHE_SECONDS": "0"})
    yield running
    stop_stack(running)


def admin(stack: RunningStack, *arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``event-collector-admin --local ...``, the installed command, against this stack's state."""
    command = [str(Path(sys.executable).parent / "event-collector-admin"), "--local", *arguments]
    environment = {**os.environ, "LOCAL_STATE_DIR": str(stack.stack_file.parent)}
    return subprocess.run(command, input=stdin, capture_output=True, text=True, env=environment, timeout=60)


def put_schema(stack: RunningStack, tenant_index: int, document: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    tenant = stack.demo_auth(tenant_index)[0]
    return admin(stack, "put-schema", tenant, TYPE, "-", stdin=json.dumps(document))


def send(stack: RunningStack, events: list[dict[str, Any]], tenant_index: int = OWNER) -> dict[str, Any]:
    status, answer = post(stack, "/v1/events", json.dumps({"events": events}).encode(), tenant_index)
    assert status == 200, answer
    return dict(answer)


def order(event_id: str, **fields: Any) -> dict[str, Any]:
    return {"event_type": TYPE, "event_id": event_id, **fields}


def compacted_files(stack: RunningStack) -> list[pa.Table]:
    s3, bucket = stack.aws("s3"), stack.info["lake_bucket"]
    tables = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"compacted/{TYPE}/"):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            tables.append(pq.ParquetFile(io.BytesIO(body)).read())
    return tables


def glue_columns(stack: RunningStack) -> dict[str, str]:
    table = stack.aws("glue").get_table(DatabaseName=stack.info["glue_database"], Name=TYPE)["Table"]
    return {column["Name"]: column["Type"] for column in table["StorageDescriptor"]["Columns"]}


def rejected_errors(answer: dict[str, Any]) -> dict[str, list[str]]:
    return {item["event_id"]: item["errors"] for item in answer["rejected"]}


def test_given_a_registered_type_when_sent_compacted_and_evolved_then_the_lake_is_typed_and_the_edge_names_fields(
    stack,
):
    # Registering: the owner's first version; the other tenant cannot take the name.
    registered = put_schema(stack, OWNER, ORDER_SCHEMA)
    assert registered.returncode == 0, registered.stderr
    assert "version 1" in registered.stdout
    taken = put_schema(stack, OTHER, ORDER_SCHEMA)
    assert taken.returncode != 0
    printed = (taken.stdout + taken.stderr).replace(stack.demo_auth(OTHER)[0], "")
    assert stack.demo_auth(OWNER)[0] not in printed  # the owner is never named
    listed = admin(stack, "schemas", stack.demo_auth(OWNER)[0], "--json")
    assert listed.returncode == 0, listed.stderr
    assert TYPE in listed.stdout

    # GET /v1/schemas: the owner sees its type, the other tenant does not.
    assert TYPE in json.dumps(get(stack, "/v1/schemas", OWNER))
    assert TYPE not in json.dumps(get(stack, "/v1/schemas", OTHER))

    # Sending: two valid events beside four invalid ones, each rejected on its own, naming its field.
    first = order(
        f"ok-1-{RUN}",
        order_id="A-1",
        total=9_007_199_254_740_993,  # above 2^53: an integer column keeps it exactly
        score=0.1,
        paid=True,
        placed_at="2026-12-07T10:11:12.345678+01:00",
        shipping={"city": "Zürich", "express": False},
        lines=[{"sku": "sku-1", "quantity": 2}, {"sku": "sku-2", "quantity": 1}],
        attributes={"gift_wrap": "yes", "n": 1},
        user_id="user-1",
    )
    second = order(f"ok-2-{RUN}", order_id="A-2", total=0)
    answer = send(
        stack,
        [
            first,
            order(f"bad-type-{RUN}", order_id="B-1", total="12"),
            order(f"bad-missing-{RUN}", total=3),
            order(f"bad-unknown-{RUN}", order_id="B-3", total=3, coupon="FREE"),
            order(f"bad-minimum-{RUN}", order_id="B-4", total=-1),
            second,
        ],
    )
    assert answer["accepted"] == 2, answer
    errors = rejected_errors(answer)
    assert set(errors) == {f"bad-type-{RUN}", f"bad-missing-{RUN}", f"bad-unknown-{RUN}", f"bad-minimum-{RUN}"}
    assert any(message.startswith("/total:") and "integer" in message for message in errors[f"bad-type-{RUN}"])
    assert any(message.startswith("/order_id:") for message in errors[f"bad-missing-{RUN}"])
    assert any(message.startswith("/coupon:") for message in errors[f"bad-unknown-{RUN}"])
    assert any(message.startswith("/total:") and "0" in message for message in errors[f"bad-minimum-{RUN}"])

    # Another tenant cannot send the type: to it, the type does not exist.
    status, refused = post(
        stack, "/v1/events", json.dumps({"events": [order(f"other-{RUN}", order_id="C-1", total=1)]}).encode(), OTHER
    )
    assert (status, refused["error"]) == (400, "no_valid_events"), refused
    assert any(message.startswith("event_type:") for message in refused["details"][0]["errors"])

    # Compaction: the type's own table, typed in Parquet and in Glue.
    settle(stack)
    files = compacted_files(stack)
    assert files, "no compacted file for the custom type"
    schema = files[0].schema
    assert schema.field("total").type == pa.int64()
    assert schema.field("score").type == pa.float64()
    assert schema.field("paid").type == pa.bool_()
    assert schema.field("placed_at").type == pa.timestamp("ms", tz="UTC")
    assert pa.types.is_struct(schema.field("shipping").type)
    assert pa.types.is_list(schema.field("lines").type)
    assert schema.field("attributes").type == pa.string()
    assert schema.field("schema_version").type == pa.int64()
    columns = glue_columns(stack)
    assert columns["total"] == "bigint"
    assert columns["score"] == "double"
    assert columns["placed_at"] == "timestamp"
    assert columns["shipping"].replace(" ", "") == "struct<city:string,express:boolean>"
    assert columns["lines"].replace(" ", "") == "array<struct<sku:string,quantity:bigint>>"

    rows = {row["event_id"]: row for row in pa.concat_tables(files).to_pylist()}
    assert set(rows) == {first["event_id"], second["event_id"]}
    stored = rows[first["event_id"]]
    assert stored["total"] == 9_007_199_254_740_993
    assert stored["score"] == 0.1
    assert stored["paid"] is True
    assert stored["placed_at"] == datetime(2026, 12, 7, 9, 11, 12, 345000, tzinfo=UTC)
    assert stored["shipping"] == {"city": "Zürich", "express": False}
    assert stored["lines"] == [{"sku": "sku-1", "quantity": 2}, {"sku": "sku-2", "quantity": 1}]
    assert json.loads(stored["attributes"]) == {"gift_wrap": "yes", "n": 1}
    assert stored["schema_version"] == 1
    assert rows[second["event_id"]]["shipping"] is None

    # Evolution: an added optional field becomes a column; a retyped field is refused.
    evolved = json.loads(json.dumps(ORDER_SCHEMA))
    evolved["properties"]["gift"] = {"type": "boolean"}
    accepted = put_schema(stack, OWNER, evolved)
    assert accepted.returncode == 0, accepted.stderr
    assert "version 2" in accepted.stdout
    retyped = json.loads(json.dumps(evolved))
    retyped["properties"]["total"] = {"type": "string"}
    refused_version = put_schema(stack, OWNER, retyped)
    assert refused_version.returncode != 0
    assert "/total" in refused_version.stdout + refused_version.stderr

    third = order(f"ok-3-{RUN}", order_id="A-3", total=5, gift=True)
    assert send(stack, [third])["accepted"] == 1
    settle(stack)
    assert glue_columns(stack)["gift"] == "boolean"
    rows = {
        row["event_id"]: row for row in read_compacted(stack.aws("s3"), stack.info["lake_bucket"], f"compacted/{TYPE}/")
    }
    assert rows[third["event_id"]]["gift"] is True
    assert rows[third["event_id"]]["schema_version"] == 2
    assert rows[first["event_id"]].get("gift") is None  # stored before the field existed
