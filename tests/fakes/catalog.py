"""The Glue adapter's port (``ensure_table``, ``add_partitions``), in memory."""

from __future__ import annotations

from collections.abc import Sequence

from event_collector.lake.catalog import TableSpec


class MemoryCatalog:
    def __init__(self) -> None:
        self.tables: dict[str, list[tuple[str, str]]] = {}
        self.partitions: dict[str, set[tuple[str, ...]]] = {}

    def ensure_table(self, spec: TableSpec) -> None:
        columns = self.tables.setdefault(spec.name, [])
        columns += [column for column in spec.columns if column[0] not in {name for name, _ in columns}]

    def add_partitions(self, spec: TableSpec, values: Sequence[Sequence[str]]) -> int:
        existing = self.partitions.setdefault(spec.name, set())
        new = {tuple(value) for value in values} - existing
        existing |= new
        return len(new)
