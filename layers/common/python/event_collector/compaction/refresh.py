"""Refresh: keep the Glue catalog current after a compaction run.

- every built-in event type has both of its tables, and the ledger and the
  daily rollup's tables exist, so the Athena named queries run before a type
  was ever compacted;
- every tenant's own type the run compacted has both of its tables too, from its
  latest schema (read once): the raw one as text; the compacted one typed, created
  if it is missing (Compact evolves it, with the files whose types it must match);
- the raw JSON tables get one partition per hour that was just compacted
  (Compact registers the compacted and ledger partitions it writes); one
  registered before (an earlier run's, or Athena's) is left as it is, so the
  count is of the partitions this run made sure of, not of new ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Protocol

from event_collector.compaction.contracts import CompactResult
from event_collector.compaction.typed import TypeSchemas, read_types
from event_collector.event_types import DECLARED_FIELDS
from event_collector.lake.catalog import TableSpec, compacted_table, daily_counts_table, ledger_table, raw_table


class Catalog(Protocol):
    def ensure_table(self, spec: TableSpec) -> None: ...
    def add_partitions(self, spec: TableSpec, values: list[list[str]]) -> None: ...
    def column_types(self, table: str) -> dict[str, str] | None: ...


def refresh(
    results: Iterable[CompactResult], catalog: Catalog, lake_bucket: str, schemas: TypeSchemas | None = None
) -> dict[str, Any]:
    hours_by_type: dict[str, list[list[str]]] = defaultdict(list)
    compacted: set[str] = set()
    for result in results:
        if result.status != "ok":
            continue
        compacted.update(result.event_types)
        for partition in result.raw_partitions:
            hours_by_type[partition.event_type].append(
                [partition.tenant, partition.year, partition.month, partition.day, partition.hour]
            )
    for event_type in sorted(DECLARED_FIELDS):
        catalog.ensure_table(compacted_table(event_type, lake_bucket))
        catalog.ensure_table(raw_table(event_type, lake_bucket))
    catalog.ensure_table(ledger_table(lake_bucket))
    catalog.ensure_table(daily_counts_table(lake_bucket))
    raw_specs = {event_type: raw_table(event_type, lake_bucket) for event_type in DECLARED_FIELDS}
    typed = read_types(schemas, sorted({*compacted, *hours_by_type} - set(DECLARED_FIELDS)))
    for event_type, table in sorted(typed.items()):
        raw_specs[event_type] = raw_table(event_type, lake_bucket, [name for name, _ in table.glue_columns])
        if catalog.column_types(event_type) is None:
            catalog.ensure_table(compacted_table(event_type, lake_bucket, typed_columns=table.glue_columns))
        catalog.ensure_table(raw_specs[event_type])
    registered = 0
    for event_type, hours in sorted(hours_by_type.items()):
        spec = raw_specs[event_type]
        catalog.ensure_table(spec)
        catalog.add_partitions(spec, hours)
        registered += len({tuple(hour) for hour in hours})
    return {"raw_tables": sorted(hours_by_type), "raw_partitions_registered": registered}
