"""Issue 23's "done when", the collector's part, through ``make local``'s stack over HTTP: a type registered
with the admin CLI, valid and invalid events sent, each invalid one rejected naming its field, another tenant
refused, the stored line carrying the schema's version, the type counted."""

from __future__ import annotations

import gzip
import json

from tests.local.conftest import RunningStack
from tests.local.test_schemas_local import admin

ORDER = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "total": {"type": "integer", "minimum": 0},
        "placed_at": {"type": "string", "format": "date-time"},
    },
    "required": ["order_id", "total"],
    "additionalProperties": False,
}
VALID = {"event_type": "shop_order", "order_id": "o-1", "total": 30, "placed_at": "2026-01-31T12:00:00Z"}


def test_given_a_type_registered_locally_when_events_are_sent_then_each_invalid_one_names_its_field(
    local_stack: RunningStack,
):
    first, second = local_stack.demo_auth(0), local_stack.demo_auth(1)
    registered = admin(local_stack, "put-schema", first[0], "shop_order", "-", stdin=json.dumps(ORDER))
    assert registered.returncode == 0, registered.stderr
    events = [
        {**VALID, "event_id": "local-order-1"},
        {**VALID, "total": "30"},
        {"event_type": "shop_order", "total": 30},
        {**VALID, "coupon": "X"},
        {**VALID, "total": -1},
    ]

    sent = local_stack.request("POST", "/v1/events", body={"events": events}, auth=first)
    refused = local_stack.request("POST", "/v1/events", body={"events": [VALID]}, auth=second)
    local_stack.drain()
    counted = local_stack.request("GET", "/v1/counts?event_type=shop_order", auth=first)

    assert sent.status == 200
    assert sent.json()["accepted"] == 1
    assert [(rejected["index"], rejected["errors"]) for rejected in sent.json()["rejected"]] == [
        (1, ["/total: expected integer, got string"]),
        (2, ["/order_id: required field is missing"]),
        (3, ["/coupon: not declared by the schema (additionalProperties is false)"]),
        (4, ["/total: must be >= 0, got -1"]),
    ]
    assert refused.status == 400
    assert refused.json()["details"][0]["errors"] == [
        "event_type: must be one of button_click, page_view, track or a type registered for this tenant"
    ]
    assert (counted.status, counted.json()["total"]) == (200, 1)
    lake = local_stack.aws("s3")
    bucket = local_stack.info["lake_bucket"]
    keys = [
        item["Key"] for item in lake.list_objects_v2(Bucket=bucket, Prefix="events/shop_order/").get("Contents", [])
    ]
    assert all(f"/tenant={first[0]}/" in key for key in keys)
    [line] = [
        json.loads(text)
        for key in keys
        for text in gzip.decompress(lake.get_object(Bucket=bucket, Key=key)["Body"].read()).splitlines()
    ]
    assert {name: line[name] for name in ("event_id", "schema_version", "order_id", "total", "placed_at")} == {
        "event_id": "local-order-1",
        "schema_version": "1",
        "order_id": "o-1",
        "total": "30",
        "placed_at": "2026-01-31T12:00:00Z",
    }
