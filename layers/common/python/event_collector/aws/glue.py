"""Glue adapter: applies :class:`~event_collector.lake_catalog.TableSpec` descriptions.

Tables only ever gain columns (a column present in Glue but not in the spec is
kept, so older partitions stay readable); partitions are added, never changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from event_collector.aws.errors import aws_errors, error_code
from event_collector.errors import StorageError
from event_collector.lake.catalog import TableSpec

BATCH = 100  # BatchCreatePartition takes at most 100 partitions
_FORMATS: dict[str, dict[str, Any]] = {
    "json": {
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
            "Parameters": {"ignore.malformed.json": "true"},
        },
        "Compressed": True,
        "Parameters": {"classification": "json", "compressionType": "gzip"},
    },
    "parquet": {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            "Parameters": {"serialization.format": "1"},
        },
        "Compressed": True,
        # parquet.compression: what Athena writes when it inserts (the large-unit engine).
        "Parameters": {"classification": "parquet", "compressionType": "snappy", "parquet.compression": "SNAPPY"},
    },
}


def _storage(spec: TableSpec, location: str, columns: Sequence[tuple[str, str]]) -> dict[str, Any]:
    fmt = _FORMATS[spec.data_format]
    return {
        "Columns": [{"Name": name, "Type": kind} for name, kind in columns],
        "Location": location,
        "InputFormat": fmt["InputFormat"],
        "OutputFormat": fmt["OutputFormat"],
        "Compressed": fmt["Compressed"],
        "SerdeInfo": fmt["SerdeInfo"],
    }


class GlueCatalog:
    def __init__(self, client: Any, database: str) -> None:
        self._client = client
        self._database = database

    def ensure_table(self, spec: TableSpec) -> None:
        """Create the table, or add the spec's columns that the table lacks."""
        try:
            existing = self._client.get_table(DatabaseName=self._database, Name=spec.name)["Table"]
        except aws_errors() as error:
            if error_code(error) != "EntityNotFoundException":
                raise StorageError(f"reading table {spec.name} failed: {error_code(error)}") from error
            existing = None
        columns = list(spec.columns)
        if existing is not None:
            current = [(c["Name"], c["Type"]) for c in existing["StorageDescriptor"]["Columns"]]
            known = {name for name, _ in current}
            columns = current + [column for column in spec.columns if column[0] not in known]
            if columns == current:
                return
        table_input = {
            "Name": spec.name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": dict(_FORMATS[spec.data_format]["Parameters"]),
            "PartitionKeys": [{"Name": key, "Type": "string"} for key in spec.partition_keys],
            "StorageDescriptor": _storage(spec, spec.location, columns),
        }
        try:
            if existing is None:
                self._client.create_table(DatabaseName=self._database, TableInput=table_input)
            else:
                self._client.update_table(DatabaseName=self._database, TableInput=table_input)
        except aws_errors() as error:
            if error_code(error) == "AlreadyExistsException":  # created by a concurrent run: merge again
                self.ensure_table(spec)
                return
            raise StorageError(f"writing table {spec.name} failed: {error_code(error)}") from error

    def add_partitions(self, spec: TableSpec, values: Sequence[Sequence[str]]) -> int:
        """Register partitions; existing ones are fine. Returns how many were new."""
        created = 0
        unique = sorted({tuple(value) for value in values})
        for start in range(0, len(unique), BATCH):
            chunk = unique[start : start + BATCH]
            inputs = [
                {
                    "Values": list(value),
                    "StorageDescriptor": _storage(spec, spec.partition_location(value), spec.columns),
                }
                for value in chunk
            ]
            try:
                response = self._client.batch_create_partition(
                    DatabaseName=self._database, TableName=spec.name, PartitionInputList=inputs
                )
            except aws_errors() as error:
                raise StorageError(f"adding partitions to {spec.name} failed: {error_code(error)}") from error
            errors = response.get("Errors", [])
            unexpected = [e for e in errors if e["ErrorDetail"]["ErrorCode"] != "AlreadyExistsException"]
            if unexpected:
                code = unexpected[0]["ErrorDetail"]["ErrorCode"]
                raise StorageError(f"adding partitions to {spec.name} failed: {code}")
            created += len(chunk) - len(errors)
        return created

    def partition_values(self, table: str) -> list[list[str]]:
        values: list[list[str]] = []
        try:
            for page in self._client.get_paginator("get_partitions").paginate(
                DatabaseName=self._database, TableName=table
            ):
                values += [list(partition["Values"]) for partition in page["Partitions"]]
        except aws_errors() as error:
            raise StorageError(f"listing partitions of {table} failed: {error_code(error)}") from error
        return values
