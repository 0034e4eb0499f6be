"""The Glue adapter's port (``ensure_table``, ``add_partitions``), in memory, with the adapter's readers
(``column_types``, ``partition_values``); tests/event_collector/aws/test_catalog_contract.py runs the
same expectations on both."""

from __future__ import annotations

import re
from collections.abc import Sequence

from event_collector.errors import StorageError
from event_collector.lake.catalog import TableSpec

GLUE_NAME = re.compile(r"[a-z0-9_]+")  # what awswrangler leaves as it is (it rewrites other names)


class MemoryCatalog:
    def __init__(self) -> None:
        self.tables: dict[str, list[tuple[str, str]]] = {}
        self.partition_keys: dict[str, tuple[str, ...]] = {}
        self.partitions: dict[str, set[tuple[str, ...]]] = {}

    def ensure_table(self, spec: TableSpec) -> None:
        names = [spec.name, *(name for name, _ in spec.columns), *spec.partition_keys]
        renamed = [name for name in names if not GLUE_NAME.fullmatch(name)]
        if renamed:
            raise StorageError(
                f"table {spec.name}: not Glue names (lowercase letters, digits, _): {', '.join(renamed)}"
            )
        columns = self.tables.setdefault(spec.name, [])
        self.partition_keys.setdefault(spec.name, spec.partition_keys)
        columns += [column for column in spec.columns if column[0] not in {name for name, _ in columns}]

    def add_partitions(self, spec: TableSpec, values: Sequence[Sequence[str]]) -> None:
        if spec.name not in self.tables:
            raise StorageError(f"adding partitions to {spec.name} failed: EntityNotFoundException")
        self.partitions.setdefault(spec.name, set()).update(tuple(value) for value in values)

    def column_types(self, table: str) -> dict[str, str] | None:
        if table not in self.tables:
            return None
        return {**dict(self.tables[table]), **dict.fromkeys(self.partition_keys[table], "string")}

    def partition_values(self, table: str) -> list[list[str]]:
        return sorted(list(value) for value in self.partitions.get(table, set()))
