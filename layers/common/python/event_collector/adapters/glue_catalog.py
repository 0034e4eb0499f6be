"""Glue adapter: the raw JSON tables (one per event type) and their hourly partitions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import StorageError
from .aws_errors import AWS_ERRORS, error_code

RAW_PARTITION_KEYS = ("tenant", "year", "month", "day", "hour")
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
BATCH = 100  # BatchCreatePartition takes at most 100 partitions


def partition_path(values: Sequence[str]) -> str:
    return "".join(f"{key}={value}/" for key, value in zip(RAW_PARTITION_KEYS, values, strict=True))


class GlueCatalog:
    def __init__(self, client: Any, database: str) -> None:
        self._client = client
        self._database = database

    def ensure_raw_table(self, table: str, location: str, columns: Sequence[tuple[str, str]]) -> None:
        storage = {
            "Columns": [{"Name": name, "Type": kind} for name, kind in columns],
            "Location": location,
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "Compressed": True,
            "SerdeInfo": {"SerializationLibrary": JSON_SERDE, "Parameters": {"ignore.malformed.json": "true"}},
        }
        table_input = {
            "Name": table,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "json", "compressionType": "gzip"},
            "PartitionKeys": [{"Name": key, "Type": "string"} for key in RAW_PARTITION_KEYS],
            "StorageDescriptor": storage,
        }
        try:
            self._client.create_table(DatabaseName=self._database, TableInput=table_input)
        except AWS_ERRORS as error:
            if error_code(error) != "AlreadyExistsException":
                raise StorageError(f"creating table {table} failed: {error_code(error)}") from error
            self._client.update_table(DatabaseName=self._database, TableInput=table_input)

    def add_partitions(self, table: str, location: str, values: Sequence[Sequence[str]]) -> int:
        """Register partitions; existing ones are fine. Returns how many were new."""
        created = 0
        for start in range(0, len(values), BATCH):
            chunk = values[start : start + BATCH]
            inputs = [
                {
                    "Values": list(value),
                    "StorageDescriptor": {
                        "Location": location
                        + "".join(f"{k}={v}/" for k, v in zip(RAW_PARTITION_KEYS, value, strict=True)),
                        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                        "SerdeInfo": {"SerializationLibrary": JSON_SERDE},
                    },
                }
                for value in chunk
            ]
            try:
                response = self._client.batch_create_partition(
                    DatabaseName=self._database, TableName=table, PartitionInputList=inputs
                )
            except AWS_ERRORS as error:
                raise StorageError(f"adding partitions to {table} failed: {error_code(error)}") from error
            errors = response.get("Errors", [])
            unexpected = [e for e in errors if e["ErrorDetail"]["ErrorCode"] != "AlreadyExistsException"]
            if unexpected:
                raise StorageError(f"adding partitions to {table} failed: {unexpected[0]['ErrorDetail']['ErrorCode']}")
            created += len(chunk) - len(errors)
        return created

    def partition_values(self, table: str) -> list[list[str]]:
        values: list[list[str]] = []
        try:
            for page in self._client.get_paginator("get_partitions").paginate(
                DatabaseName=self._database, TableName=table
            ):
                values += [list(partition["Values"]) for partition in page["Partitions"]]
        except AWS_ERRORS as error:
            raise StorageError(f"listing partitions of {table} failed: {error_code(error)}") from error
        return values
