"""Refresh: keep the Glue catalog current after a compaction run.

- every registered event type has both tables (raw and compacted), so the
  Athena named queries work before a type was ever compacted;
- the raw JSON tables get one partition per hour that was just compacted.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Protocol

from ..lake_catalog import TableSpec, compacted_table, raw_table
from ..models import EVENT_MODELS


class Catalog(Protocol):
    def ensure_table(self, spec: TableSpec) -> None: ...
    def add_partitions(self, spec: TableSpec, values: list[list[str]]) -> int: ...


def refresh(results: list[dict[str, Any]], catalog: Catalog, lake_bucket: str) -> dict[str, Any]:
    hours_by_type: dict[str, list[list[str]]] = defaultdict(list)
    for result in results:
        if result.get("status") != "ok":
            continue
        partition = result["partition"]
        for hour in result["hours"]:
            values = [partition["tenant"], partition["year"], partition["month"], partition["day"], hour]
            hours_by_type[partition["event_type"]].append(values)
    for event_type in sorted(EVENT_MODELS):
        catalog.ensure_table(compacted_table(event_type, lake_bucket))
        catalog.ensure_table(raw_table(event_type, lake_bucket))
    added = 0
    for event_type, values in sorted(hours_by_type.items()):
        spec = raw_table(event_type, lake_bucket)
        catalog.ensure_table(spec)
        added += catalog.add_partitions(spec, values)
    return {"raw_tables": sorted(hours_by_type), "raw_partitions_added": added}
