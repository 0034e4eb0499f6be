"""Refresh: keep the raw JSON tables' Glue partitions current for the partitions just compacted."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Protocol

from ..models import EVENT_MODELS

CORE_COLUMNS = [("event_id", "string"), ("event_type", "string"), ("received_at", "bigint"), ("timestamp", "bigint")]


class RawCatalog(Protocol):
    def ensure_raw_table(self, table: str, location: str, columns: list[tuple[str, str]]) -> None: ...
    def add_partitions(self, table: str, location: str, values: list[list[str]]) -> int: ...


def raw_table_name(event_type: str) -> str:
    return f"{event_type}_raw"


def raw_columns(event_type: str) -> list[tuple[str, str]]:
    """Core columns plus the type's own fields (all text; ``properties`` as JSON text)."""
    model = EVENT_MODELS.get(event_type)
    own = sorted(set(model.model_fields) - {"event_type", "event_id", "timestamp"}) if model else []
    return [*CORE_COLUMNS, *((name, "string") for name in own)]


def refresh(results: list[dict[str, Any]], catalog: RawCatalog, lake_bucket: str) -> dict[str, Any]:
    hours_by_type: dict[str, list[list[str]]] = defaultdict(list)
    for result in results:
        if result.get("status") != "ok":
            continue
        partition = result["partition"]
        for hour in result["hours"]:
            values = [partition["tenant"], partition["year"], partition["month"], partition["day"], hour]
            hours_by_type[partition["event_type"]].append(values)
    added = 0
    for event_type, values in sorted(hours_by_type.items()):
        location = f"s3://{lake_bucket}/events/{event_type}/"
        catalog.ensure_raw_table(raw_table_name(event_type), location, raw_columns(event_type))
        added += catalog.add_partitions(raw_table_name(event_type), location, values)
    return {"raw_tables": sorted(hours_by_type), "raw_partitions_added": added}
