"""Compact one day partition: raw GZIP JSON lines -> deduplicated Parquet, registered in Glue.

The only module that imports pyarrow (the Arrow layer in the cloud; no pandas,
no awswrangler: docs/dependencies.md). Lines are parsed with Python's own
``json`` (exact for every number), nested values are kept as canonical JSON
text, and the output is snappy Parquet. Re-running it gives the same rows: the
new file replaces every other file of the partition, and duplicates on
(``tenant``, ``event_id``) keep the earliest ``received_at``.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..json_values import canonical_json
from ..lake_catalog import CORE_COLUMNS, TableSpec, compacted_table
from .partitions import DayPartition, LakeObject, closed, fingerprint, parse_lake_object

PARQUET_COMPRESSION = "snappy"  # every pyarrow build has it (docs/dependencies.md)
ROW_GROUP_ROWS = 256 * 1024
CORE_NAMES = [name for name, _ in CORE_COLUMNS]
_SCHEMA_TYPES = {"string": pa.string(), "bigint": pa.int64()}


class LakeStore(Protocol):
    def listing(self, bucket: str, prefix: str) -> Iterable[tuple[str, str, int]]: ...
    def open(self, bucket: str, key: str) -> tuple[IO[bytes], str, datetime]: ...
    def put_file(self, bucket: str, key: str, path: str, content_type: str = ...) -> None: ...
    def delete(self, bucket: str, keys: list[str]) -> None: ...


class Catalog(Protocol):
    def ensure_table(self, spec: TableSpec) -> None: ...
    def add_partitions(self, spec: TableSpec, values: list[list[str]]) -> int: ...


class StateRecorder(Protocol):
    def record(self, partition_id: str, fingerprint: str, rows: int, compacted_at: str) -> None: ...


def lake_value(value: Any) -> str | None:
    """A non-core field as stored in a text column: strings as they are, anything else as canonical JSON."""
    if value is None or isinstance(value, str):
        return value
    return canonical_json(value)


def parse_line(line: bytes) -> dict[str, Any]:
    """One raw line as a row: core columns typed, every other field text."""
    record = json.loads(line)
    received_at = int(record["received_at"])
    timestamp = record.get("timestamp")
    row: dict[str, Any] = {
        "event_id": str(record["event_id"]),
        "event_type": str(record["event_type"]),
        "received_at": received_at,
        "timestamp": received_at if timestamp is None else int(timestamp),
    }
    for name, value in record.items():
        if name not in row and name != "tenant":
            row[name] = lake_value(value)
    return row


def read_rows(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    with gzip.GzipFile(fileobj=stream, mode="rb") as lines:
        for line in lines:
            if line.strip():
                yield parse_line(line)


def deduplicate(table: pa.Table) -> pa.Table:
    """One row per ``event_id`` (the partition holds one tenant): the earliest ``received_at`` wins,
    ties go to the row read first; the result is ordered by ``received_at``, then ``event_id``."""
    if table.num_rows == 0:
        return table
    table = table.append_column("__row", pa.array(range(table.num_rows), pa.int64()))
    ordered = table.take(
        pc.sort_indices(table, [("event_id", "ascending"), ("received_at", "ascending"), ("__row", "ascending")])
    )
    ids = ordered["event_id"].combine_chunks()
    first = pa.concat_arrays(
        [pa.array([True]), pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1)).cast(pa.bool_())]
    )
    kept = ordered.filter(first).drop_columns(["__row"])
    return kept.take(pc.sort_indices(kept, [("received_at", "ascending"), ("event_id", "ascending")]))


def to_table(rows: list[dict[str, Any]], spec: TableSpec) -> pa.Table:
    schema = pa.schema([(name, _SCHEMA_TYPES[kind]) for name, kind in spec.columns])
    return pa.Table.from_pylist(rows, schema=schema)


def compact_partition(
    partition: DayPartition,
    cutoff: datetime,
    *,
    lake_bucket: str,
    store: LakeStore,
    catalog: Catalog,
    state: StateRecorder,
    now: datetime,
    work_dir: str | None = None,
) -> dict[str, Any]:
    listed = [
        parse_lake_object(key, etag, size) for key, etag, size in store.listing(lake_bucket, partition.raw_prefix)
    ]
    objects: list[LakeObject] = closed([item for item in listed if item is not None], cutoff)
    result: dict[str, Any] = {"partition": partition.as_dict(), "status": "skipped", "files_in": len(objects)}
    if not objects:
        return result
    rows: list[dict[str, Any]] = []
    for item in sorted(objects, key=lambda o: o.key):
        stream, _, _ = store.open(lake_bucket, item.key)
        with stream:
            rows.extend(read_rows(stream))
    spec = compacted_table(partition.event_type, lake_bucket, sorted({name for row in rows for name in row}))
    compacted = deduplicate(to_table(rows, spec))

    output_prefix = partition.raw_prefix.replace("events/", "compacted/", 1)
    output_key = f"{output_prefix}{fingerprint(objects)[:32]}.snappy.parquet"
    with tempfile.TemporaryDirectory(dir=work_dir) as scratch:
        path = os.path.join(scratch, "partition.parquet")
        pq.write_table(compacted, path, compression=PARQUET_COMPRESSION, row_group_size=ROW_GROUP_ROWS)
        bytes_out = os.path.getsize(path)
        store.put_file(lake_bucket, output_key, path)
    stale = [key for key, _, _ in store.listing(lake_bucket, output_prefix) if key != output_key]
    if stale:
        store.delete(lake_bucket, stale)
    catalog.ensure_table(spec)
    catalog.add_partitions(spec, [[partition.tenant, partition.year, partition.month, partition.day]])
    state.record(partition.id, fingerprint(objects), compacted.num_rows, now.isoformat())
    result.update(
        status="ok",
        hours=sorted({item.hour for item in objects}),
        files_out=1,
        rows_in=len(rows),
        rows_out=compacted.num_rows,
        duplicates_removed=len(rows) - compacted.num_rows,
        bytes_in=sum(item.size for item in objects),
        bytes_out=bytes_out,
    )
    return result
