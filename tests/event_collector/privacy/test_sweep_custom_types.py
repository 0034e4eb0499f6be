"""A deletion sweep over a tenant's own event type: its typed compacted files lose the user's rows and keep
their Arrow schema (structs, timestamps, non-null columns), as the Lambda engine wrote them."""

from __future__ import annotations

import io
from typing import Any

import pyarrow.parquet as pq

from event_collector.compaction.typed import typed_table
from event_collector.schemas.registry import RegisteredSchema
from tests.event_collector.privacy.conftest import LAKE, OTHER, USER, World, at, event

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "placed_at": {"type": "string", "format": "date-time"},
        "shipping": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
    "required": ["order_id"],
}
REGISTERED = RegisteredSchema("acme", "type", "order_completed", 1, SCHEMA, registered_at=0)


class Schemas:
    def type_schema(self, event_type: str) -> RegisteredSchema | None:
        return REGISTERED if event_type == "order_completed" else None


def order(event_id: str, user: str) -> dict[str, Any]:
    return event(
        event_id,
        at(20, 10),
        "order_completed",
        user_id=user,
        schema_version="1",
        order_id=event_id,
        placed_at="2026-11-20T10:00:00Z",
        shipping='{"city":"Köln"}',
    )


def typed_files(world: World) -> list[pq.ParquetFile]:
    return [
        pq.ParquetFile(io.BytesIO(body))
        for key, _, _, body in world.versions(LAKE)
        if key.startswith("compacted/order_completed/")
    ]


def test_given_a_users_events_of_a_custom_type_when_deleted_then_the_typed_file_keeps_its_schema_and_others(world):
    world.send(order("a1", USER), order("o1", OTHER), order("o2", OTHER))
    world.compact(schemas=Schemas())
    world.ask(USER)

    result, _ = world.sweep()

    assert (result.applied, result.failed) == (1, 0)
    assert world.holding(USER) == []
    (typed,) = typed_files(world)
    assert typed.schema_arrow.equals(typed_table(REGISTERED).arrow_schema)
    assert [row["event_id"] for row in typed.read().to_pylist()] == ["o1", "o2"]
    assert typed.read().to_pylist()[0]["shipping"] == {"city": "Köln"}
