"""The daily rollup (``daily_counts``): per tenant and day, one row per event type and key, from the compacted rows.

For each (tenant, day) a Compact touched (or a privacy deletion rewrote), the day is recomputed whole
from every compacted file of that day, whoever wrote it (the Lambda engine or Athena), so the numbers
are the deduplicated rows' and a rerun writes the same file:

- ``key``: the type's counter field (``event_types.COUNTER_FIELDS``: ``url``, ``button_id``, ``name``,
  ``group_id``), the key the real-time counters use; NULL for a type without one (``identify``,
  ``alias``, a tenant's own types) and for an event whose field is null;
- ``events``: rows; ``sessions``: distinct ``session_id`` (0 for a type without one); ``users``:
  distinct ``coalesce(user_id, anonymous_id)``.

The types of a day are the ledger's (every compacted event has its row there); a type whose every event
a deletion removed is in neither, and its rows and item go. Written: one Parquet file per (tenant, day)
(``lake/layout.py``: ``daily_counts_object_key``, replaced whole: S3 readers see the old file or the
new one), its partition in Glue, and each type's day as one item for the API (``counts/rollups.py``).
Only three or four string columns are read, a day of one tenant at a time.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from event_collector.compaction.contracts import RawPartitionRef
from event_collector.counts.rollups import TOP_KEYS, DayRollup, RollupStore, top_entry
from event_collector.event_types import COUNTER_FIELDS
from event_collector.lake.catalog import TableSpec, daily_counts_table
from event_collector.lake.layout import (
    Day,
    compacted_prefix,
    daily_counts_object_key,
    ledger_prefix,
    parse_compacted_object_key,
    parse_ledger_object_key,
)

ROLLUP_SCHEMA = pa.schema(
    [
        ("event_type", pa.string()),
        ("key", pa.string()),
        ("events", pa.int64()),
        ("sessions", pa.int64()),
        ("users", pa.int64()),
    ]
)
READ_BATCH_ROWS = 256 * 1024


class LakeFiles(Protocol):
    def listing(self, bucket: str, prefix: str) -> Iterable[tuple[str, str, int]]: ...
    def get_file(self, bucket: str, key: str, path: str) -> None: ...
    def put_file(self, bucket: str, key: str, path: str, content_type: str = ...) -> None: ...


class RollupCatalog(Protocol):
    def ensure_table(self, spec: TableSpec) -> None: ...
    def add_partitions(self, spec: TableSpec, values: list[list[str]]) -> None: ...


@dataclass(frozen=True)
class Rollups:
    """Where a day's rollup goes: the lake (with its Glue partition) and the API's items."""

    lake: LakeFiles
    bucket: str
    catalog: RollupCatalog | None  # None: the days' partitions are registered already (a deletion's recompute)
    items: RollupStore
    work_dir: str | None = None


@dataclass(frozen=True)
class RollupStats:
    days: int = 0
    rows_read: int = 0
    rows_written: int = 0


def roll_up_days(rollups: Rollups, tenant: str, days: Iterable[Day]) -> RollupStats:
    """Recompute the rollup of each of the tenant's ``days`` from its compacted files; replace what was there."""
    spec = daily_counts_table(rollups.bucket)
    done = sorted(set(days))
    if not done:
        return RollupStats()
    if rollups.catalog is not None:
        rollups.catalog.ensure_table(spec)
    rows_read = rows_written = 0
    with tempfile.TemporaryDirectory(dir=rollups.work_dir) as scratch:
        for day in done:
            before = _previous_types(rollups, tenant, day, scratch)
            table, items, read = _day(rollups, tenant, day, scratch)
            path = os.path.join(scratch, "rollup.parquet")
            pq.write_table(table, path, compression="snappy")
            rollups.lake.put_file(rollups.bucket, daily_counts_object_key(tenant, day), path)
            rollups.items.put_rollups(items)
            gone = sorted(before - {item.event_type for item in items})
            if gone:
                rollups.items.delete_rollups(tenant, day.iso, gone)
            rows_read += read
            rows_written += table.num_rows
    if rollups.catalog is not None:
        rollups.catalog.add_partitions(spec, [[tenant, day.iso] for day in done])
    return RollupStats(days=len(done), rows_read=rows_read, rows_written=rows_written)


def has_rollup(lake: LakeFiles, bucket: str, tenant: str, day: Day) -> bool:
    key = daily_counts_object_key(tenant, day)
    return any(found == key for found, _, _ in lake.listing(bucket, key))


def _previous_types(rollups: Rollups, tenant: str, day: Day, scratch: str) -> set[str]:
    """The types the day's rollup had before (their items may have to go)."""
    if not has_rollup(rollups.lake, rollups.bucket, tenant, day):
        return set()
    key = daily_counts_object_key(tenant, day)
    path = os.path.join(scratch, "previous.parquet")
    rollups.lake.get_file(rollups.bucket, key, path)
    return {str(value) for value in pq.read_table(path, columns=["event_type"]).column(0).unique().to_pylist()}


def day_types(lake: LakeFiles, bucket: str, tenant: str, day: Day, scratch: str) -> list[str]:
    """The event types compacted for the tenant that day: the ledger's (every writer's files)."""
    found: set[str] = set()
    path = os.path.join(scratch, "ledger.parquet")
    for key, _, size in lake.listing(bucket, ledger_prefix(tenant, day)):
        if parse_ledger_object_key(key) is None or size == 0:
            continue
        lake.get_file(bucket, key, path)
        for batch in pq.ParquetFile(path).iter_batches(batch_size=READ_BATCH_ROWS, columns=["event_type"]):
            found.update(str(value) for value in pc.unique(batch.column(0)).to_pylist() if value is not None)
    return sorted(found)


def _day(rollups: Rollups, tenant: str, day: Day, scratch: str) -> tuple[pa.Table, list[DayRollup], int]:
    tables, items, read = [], [], 0
    for event_type in day_types(rollups.lake, rollups.bucket, tenant, day, scratch):
        rows = _type_rows(rollups, tenant, event_type, day, scratch)
        if rows.num_rows == 0:
            continue
        read += rows.num_rows
        grouped = _grouped(event_type, rows)
        tables.append(grouped)
        items.append(_item(tenant, event_type, day, rows, grouped))
    table = pa.concat_tables(tables) if tables else ROLLUP_SCHEMA.empty_table()
    return table, items, read


def _type_rows(rollups: Rollups, tenant: str, event_type: str, day: Day, scratch: str) -> pa.Table:
    """``key``, ``session`` and ``user`` of every compacted row of the type that day, as text."""
    key_field = COUNTER_FIELDS.get(event_type)
    path = os.path.join(scratch, "compacted.parquet")
    parts = []
    for key, _, size in rollups.lake.listing(rollups.bucket, compacted_prefix(event_type, tenant, day)):
        if parse_compacted_object_key(key) is None or size == 0:
            continue
        rollups.lake.get_file(rollups.bucket, key, path)
        source = pq.ParquetFile(path)
        present = set(source.schema_arrow.names)
        wanted = [name for name in (key_field, "session_id", "user_id", "anonymous_id") if name and name in present]
        for batch in source.iter_batches(batch_size=READ_BATCH_ROWS, columns=wanted):
            parts.append(
                pa.table(
                    {
                        "key": _text(batch, key_field),
                        "session": _text(batch, "session_id"),
                        "user": pc.coalesce(_text(batch, "user_id"), _text(batch, "anonymous_id")),
                    }
                )
            )
    if not parts:
        return pa.table({"key": pa.array([], pa.string()), "session": pa.array([], pa.string()), "user": []})
    return pa.concat_tables(parts)


def _text(batch: pa.RecordBatch, name: str | None) -> pa.Array:
    if name is None or name not in batch.schema.names:
        return pa.nulls(batch.num_rows, pa.string())
    return batch.column(name).cast(pa.string())


def _grouped(event_type: str, rows: pa.Table) -> pa.Table:
    grouped = rows.group_by("key", use_threads=False).aggregate(
        [
            ("key", "count", pc.CountOptions(mode="all")),
            ("session", "count_distinct"),
            ("user", "count_distinct"),
        ]
    )
    table = pa.table(
        {
            "event_type": pa.array([event_type] * grouped.num_rows, pa.string()),
            "key": grouped.column("key"),
            "events": grouped.column("key_count").cast(pa.int64()),
            "sessions": grouped.column("session_count_distinct").cast(pa.int64()),
            "users": grouped.column("user_count_distinct").cast(pa.int64()),
        },
        schema=ROLLUP_SCHEMA,
    )
    order = pc.sort_indices(table, sort_keys=[("events", "descending", "at_end"), ("key", "ascending", "at_end")])
    return table.take(order)


def _item(tenant: str, event_type: str, day: Day, rows: pa.Table, grouped: pa.Table) -> DayRollup:
    keyed = [row for row in grouped.to_pylist() if row["key"] is not None]  # most events first, then key
    return DayRollup(
        tenant=tenant,
        event_type=event_type,
        day=day.iso,
        events=rows.num_rows,
        sessions=_distinct(rows.column("session")),
        users=_distinct(rows.column("user")),
        keys=len(keyed),
        top=tuple(top_entry(row["key"], row["events"], row["sessions"], row["users"]) for row in keyed[:TOP_KEYS]),
    )


def _distinct(column: pa.ChunkedArray) -> int:
    return int(pc.count_distinct(column, mode="only_valid").as_py())


def days_of(partitions: Sequence[RawPartitionRef]) -> set[Day]:
    """The days of a result's raw partitions: the compacted days the unit wrote into."""
    return {Day(p.year, p.month, p.day) for p in partitions}
