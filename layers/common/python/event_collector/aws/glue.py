"""Glue adapter: registers what :mod:`event_collector.lake.catalog` describes, through awswrangler.

awswrangler builds every TableInput and PartitionInput (``wr.catalog.create_parquet_table``,
``create_json_table``, ``add_parquet_partitions``, ``add_json_partitions``); a
:class:`~event_collector.lake.catalog.TableSpec` only says which, with what:

- Parquet tables (compacted, ledger): snappy, plus ``parquet.compression=SNAPPY`` in the table's
  parameters, the codec Athena's ``INSERT INTO`` (the large-unit engine) writes with;
- JSON tables (raw): awswrangler's JSON SerDe, the OpenX one, with ``ignore.malformed.json``, gzip;
- tables only gain columns: a table keeps its columns, their order and types, and gets the spec's
  new ones appended (``mode="append"``), so older partitions stay readable;
- a typed table (a tenant's own event type) also lets a struct column (maybe inside arrays) that gained
  fields take its wider type (Athena reads older files' structs by name, the new fields NULL). awswrangler's
  ``append`` refuses any type change and its ``overwrite`` deletes every partition first, so the table is
  rewritten with its internal ``update`` mode (one ``UpdateTable``, partitions untouched; pinned by
  tests/event_collector/aws/test_glue.py), after every partition took the widened types (Athena checks
  each partition's types against the table's; awswrangler has no call for it: ``BatchUpdatePartition``).
  Any other type change is refused with a :class:`StorageError`: its files hold the old type (an
  evolution ``schemas/evolution.py`` refuses);
- a table another run created between awswrangler's read and its create (awswrangler then leaves
  it as it found it) is merged on a second pass;
- partitions are added, never changed: awswrangler sends 100 per ``BatchCreatePartition`` and
  takes ``AlreadyExistsException`` as done, so adding one twice is harmless; any other error fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import awswrangler as wr

from event_collector.aws.clients import background_config
from event_collector.aws.wrangler import storage_errors
from event_collector.errors import StorageError
from event_collector.lake.catalog import TableSpec, glue_type_change

PARTITION_KEY_TYPE = "string"
PARQUET_COMPRESSION = "snappy"
PARQUET_PARAMETERS = {"parquet.compression": "SNAPPY"}
JSON_COMPRESSION = "gzip"
JSON_SERDE_PARAMETERS = {"ignore.malformed.json": "true"}
MERGE_PASSES = 2
PARTITIONS_PER_UPDATE = 100  # Glue's BatchUpdatePartition limit
PARTITION_INPUT_KEYS = ("Values", "Parameters", "LastAccessTime", "LastAnalyzedTime")
REPLACE_COLUMNS: Any = "update"  # awswrangler's UpdateTable with the given columns (not in its public Literal)


def _require_glue_names(spec: TableSpec) -> None:
    """awswrangler silently rewrites a name Athena would not take (``userId`` becomes ``userid``): a
    column the files do not have. Such a name is refused instead."""
    names = [spec.name, *(name for name, _ in spec.columns), *spec.partition_keys]
    renamed = [name for name in names if wr.catalog.sanitize_column_name(name) != name]
    if renamed:
        raise StorageError(f"table {spec.name}: not Glue names (lowercase letters, digits, _): {', '.join(renamed)}")


def _widened(spec: TableSpec, current: Mapping[str, str]) -> dict[str, str]:
    """The typed spec's columns whose type widens the table's; :class:`StorageError` for a type the
    table's files do not hold (a column of a built-in table keeps its type, whatever the spec says)."""
    if not spec.typed:
        return {}
    widened, refused = {}, []
    for name, kind in spec.columns:
        if name not in current or name in spec.partition_keys:
            continue
        change = glue_type_change(current[name], kind)
        if change == "widened":
            widened[name] = kind
        elif change == "refused":
            refused.append(f"{name} is {current[name]}, not {kind}")
    if refused:
        raise StorageError(f"table {spec.name}: a column cannot change its type: {'; '.join(refused)}")
    return widened


def _replaced(spec: TableSpec, current: Mapping[str, str], widened: Mapping[str, str]) -> dict[str, str]:
    """Every data column the table has, in its order, widened where asked; then the spec's new ones."""
    columns = {name: widened.get(name, kind) for name, kind in current.items() if name not in spec.partition_keys}
    return {**columns, **{name: kind for name, kind in spec.columns if name not in columns}}


class GlueCatalog:
    def __init__(self, session: Any, database: str) -> None:
        self._session = session
        self._database = database

    def ensure_table(self, spec: TableSpec) -> None:
        """Create the table, or append the spec's columns that the table lacks (and, for a typed table,
        widen its structs that gained fields)."""
        _require_glue_names(spec)
        for _ in range(MERGE_PASSES):
            current = self.column_types(spec.name)
            widened = _widened(spec, current) if current is not None else {}
            if widened and current is not None:
                with storage_errors(f"widening columns of table {spec.name}"):
                    self._widen_partitions(spec.name, widened)  # first: a failure here leaves the table narrower
                    self._create(spec, _replaced(spec, current, widened), mode=REPLACE_COLUMNS)
                continue
            if current is not None and all(name in current for name, _ in spec.columns):
                return
            # Existing columns keep their types; awswrangler appends the others in the spec's order.
            columns = {name: (current or {}).get(name, kind) for name, kind in spec.columns}
            with storage_errors(f"writing table {spec.name}"):
                self._create(spec, columns)
        current = self.column_types(spec.name)
        missing = [name for name, _ in spec.columns if current is None or name not in current]
        missing += list(_widened(spec, current)) if current is not None else []  # still narrower
        if missing:
            raise StorageError(
                f"table {spec.name} still lacks {', '.join(missing)} (or their new types) after {MERGE_PASSES} passes"
            )

    def _widen_partitions(self, table: str, widened: Mapping[str, str]) -> None:
        """Every partition's columns take the widened types too. Athena checks each partition's column
        types against the table's, and a struct that differs is not among the changes it takes
        (docs/compaction.md); awswrangler has no call for this, so it is Glue's ``BatchUpdatePartition``,
        each partition as Glue returns it with only those column types changed."""
        glue = self._session.client("glue", config=background_config())
        entries = []
        for page in glue.get_paginator("get_partitions").paginate(DatabaseName=self._database, TableName=table):
            for partition in page["Partitions"]:
                descriptor = partition["StorageDescriptor"]
                columns = [
                    {**column, "Type": widened.get(column["Name"], column["Type"])} for column in descriptor["Columns"]
                ]
                if columns == descriptor["Columns"]:
                    continue
                given = {key: partition[key] for key in PARTITION_INPUT_KEYS if key in partition}
                entries.append(
                    {
                        "PartitionValueList": partition["Values"],
                        "PartitionInput": {**given, "StorageDescriptor": {**descriptor, "Columns": columns}},
                    }
                )
        for start in range(0, len(entries), PARTITIONS_PER_UPDATE):
            batch = entries[start : start + PARTITIONS_PER_UPDATE]
            errors = glue.batch_update_partition(DatabaseName=self._database, TableName=table, Entries=batch).get(
                "Errors", []
            )
            if errors:
                detail = errors[0].get("ErrorDetail", {})
                why = f"{detail.get('ErrorCode')}: {detail.get('ErrorMessage')}"
                raise StorageError(f"widening partitions of table {table} failed: {why}")

    def _create(self, spec: TableSpec, columns: dict[str, str], mode: Any = "append") -> None:
        partitions = dict.fromkeys(spec.partition_keys, PARTITION_KEY_TYPE)
        if spec.data_format == "parquet":
            wr.catalog.create_parquet_table(
                database=self._database,
                table=spec.name,
                path=spec.location,
                columns_types=columns,
                partitions_types=partitions,
                compression=PARQUET_COMPRESSION,
                parameters=PARQUET_PARAMETERS,
                mode=mode,
                boto3_session=self._session,
            )
        else:
            wr.catalog.create_json_table(
                database=self._database,
                table=spec.name,
                path=spec.location,
                columns_types=columns,
                partitions_types=partitions,
                compression=JSON_COMPRESSION,
                serde_parameters=JSON_SERDE_PARAMETERS,
                mode="append",
                schema_evolution=True,
                boto3_session=self._session,
            )

    def add_partitions(self, spec: TableSpec, values: Sequence[Sequence[str]]) -> None:
        """Register partitions (each at the spec's location for its values); existing ones stay as they are."""
        locations = {spec.partition_location(value): list(value) for value in sorted({tuple(v) for v in values})}
        with storage_errors(f"adding partitions to {spec.name}"):
            if spec.data_format == "parquet":
                wr.catalog.add_parquet_partitions(
                    database=self._database,
                    table=spec.name,
                    partitions_values=locations,
                    compression=PARQUET_COMPRESSION,
                    columns_types=dict(spec.columns),
                    boto3_session=self._session,
                )
            else:
                wr.catalog.add_json_partitions(
                    database=self._database,
                    table=spec.name,
                    partitions_values=locations,
                    compression=JSON_COMPRESSION,
                    serde_parameters=JSON_SERDE_PARAMETERS,
                    columns_types=dict(spec.columns),
                    boto3_session=self._session,
                )

    def column_types(self, table: str) -> dict[str, str] | None:
        """Every column of the table with its type, partition keys last; None when there is no such table."""
        with storage_errors(f"reading table {table}"):
            found = wr.catalog.get_table_types(database=self._database, table=table, boto3_session=self._session)
        return None if found is None else dict(found)

    def partition_values(self, table: str) -> list[list[str]]:
        with storage_errors(f"listing partitions of {table}"):
            found = wr.catalog.get_partitions(database=self._database, table=table, boto3_session=self._session)
        return sorted(list(values) for values in found.values())
