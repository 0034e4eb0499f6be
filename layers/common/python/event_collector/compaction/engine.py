"""The Lambda engine: one tenant's pending lake objects into deduplicated Parquet, in bounded memory.

Two passes over local disk (docs/compaction.md):

1. **Spill.** Each raw object is read once, in chunks of whole lines, parsed by
   :mod:`.rows` and split by a hash of ``event_id`` into buckets, each an Arrow
   IPC file in the work directory. The number of buckets follows the input's
   size, so one bucket stays near ``BUCKET_BYTES``. With more than one bucket,
   the ids already compacted in the dedup window (the ledger) are split the
   same way.
2. **Deduplicate and write.** Bucket by bucket: keep the first copy of each
   ``event_id`` (earliest ``received_at``, then input order), drop ids the
   ledger already holds (its bucket's share streams past, a batch at a time),
   and append the survivors to one Parquet writer per event type and day, and
   their ids to one ledger file per day.

Memory holds one chunk, or one bucket and one ledger batch, and the writers'
buffers: it grows with neither the input nor the ledger. Python's string hash
is salted per process, so no choice of ids can pile them into one bucket.
"""

from __future__ import annotations

import os
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from event_collector.compaction.rows import (
    CORE_TEXT,
    CORE_TIMES,
    SEQUENCE,
    conform,
    output_schema,
    read_chunk,
    text_columns,
)
from event_collector.compaction.typed import TypedTable, convert
from event_collector.event_types import COUNTER_FIELDS
from event_collector.lake.layout import Day

CHUNK_BYTES = 16 * 1024 * 1024
READ_BYTES = 256 * 1024  # compressed bytes per read: about 2.5 MB of text for events
BUCKET_BYTES = 48 * 1024 * 1024  # Arrow bytes of one bucket: one bucket is in memory at a time
EXPANSION = 8  # GZIP NDJSON to Arrow, a generous estimate (measured 5-7x on events)
MAX_BUCKETS = 256
ROW_GROUP_ROWS = 256 * 1024
LEDGER_BATCH_ROWS = 256 * 1024  # ledger ids hashed at a time: about 20 MiB with their hash table
PARQUET_COMPRESSION = "snappy"  # every Arrow build has it (docs/dependencies.md)
# Each compacted event, per tenant and day: what later runs deduplicate against, and what the counters are
# recounted from (its counter key: the value of the type's counter field; counts/recount.py).
LEDGER_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_type", pa.string()),
        ("received_at", pa.int64()),
        ("counter_key", pa.string()),
    ]
)
MILLIS_PER_DAY = 86_400_000


@dataclass
class EngineStats:
    rows_in: int = 0
    rows_out: int = 0
    duplicates_removed: int = 0
    duplicates_already_compacted: int = 0
    ledger_ids_read: int = 0
    chunks_exact: int = 0


@dataclass
class Outputs:
    """What the engine wrote to the work directory: data files per (type, day) and ledger files per day."""

    data: dict[tuple[str, Day], list[str]] = field(default_factory=dict)
    ledger: dict[Day, str] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)  # built-in event type -> its text columns
    typed: dict[str, TypedTable] = field(default_factory=dict)  # custom event type -> its typed table

    @property
    def event_types(self) -> list[str]:
        return sorted({*self.columns, *self.typed})


def bucket_count(input_bytes: int) -> int:
    return max(1, min(MAX_BUCKETS, -(-input_bytes * EXPANSION // BUCKET_BYTES)))


def lines_in_chunks(streams: Iterable[IO[bytes]], chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Decompressed GZIP streams, one after the other, cut into chunks of whole lines.

    Memory stays near two chunks: compressed input is read a block at a time, each block's
    output is bounded, and the pending text is one growing buffer, not a chain of copies."""
    buffer = bytearray()
    for stream in streams:
        decompressor = zlib.decompressobj(wbits=47)  # gzip or zlib, any number of members
        with stream:
            while True:
                block = stream.read(READ_BYTES)
                buffer += decompressor.decompress(block) if block else decompressor.flush()
                while decompressor.eof and decompressor.unused_data:
                    rest = decompressor.unused_data
                    decompressor = zlib.decompressobj(wbits=47)
                    buffer += decompressor.decompress(rest)
                if len(buffer) >= chunk_bytes:
                    cut = buffer.rfind(b"\n") + 1
                    if cut:
                        with memoryview(buffer) as view:
                            chunk = bytes(view[:cut])  # one copy (slicing a bytearray would make two)
                        del buffer[:cut]
                        yield chunk
                if not block:
                    break
        if buffer and not buffer.endswith(b"\n"):
            buffer += b"\n"  # the object's last line had no newline
    if bytes(buffer).strip():
        yield bytes(buffer)


def _normal_order(table: pa.Table) -> pa.Table:
    """Columns in one order whatever the chunk's (core first, then by name): chunks with the same
    columns then share one spill schema, so a bucket gets a new file only when a column appears."""
    names = table.column_names
    first = [name for name in (*CORE_TEXT, *CORE_TIMES, SEQUENCE) if name in names]
    return table.select([*first, *sorted(set(names) - set(first))])


class _Buckets:
    """Arrow IPC spill files, at most one open per bucket: a bucket whose schema changes (a column
    appeared; schemas only gain columns) closes its file and starts the next, so open files stay at
    ``count`` (Lambda allows 1,024) however many chunk shapes the input has."""

    def __init__(self, directory: str, count: int, kind: str) -> None:
        self.directory = directory
        self.count = count
        self.kind = kind
        self.files: dict[int, list[str]] = {}
        self._open: dict[int, tuple[pa.Schema, Any, Any]] = {}

    def bucket_of(self, ids: pa.ChunkedArray | pa.Array) -> pa.Array:
        count = self.count
        if count == 1:
            return pa.nulls(len(ids), pa.int32()).fill_null(0)
        return pa.array([hash(value) % count for value in ids.to_pylist()], pa.int32())

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        table = _normal_order(table)
        if self.count == 1:
            self._writer(0, table.schema).write_table(table)
            return
        buckets = self.bucket_of(table["event_id"])
        order = pc.sort_indices(buckets)
        table = table.take(order)
        counts = Counter(buckets.to_pylist())
        start = 0
        for bucket in sorted(counts):
            size = counts[bucket]
            self._writer(bucket, table.schema).write_table(table.slice(start, size))
            start += size

    def _writer(self, bucket: int, schema: pa.Schema) -> Any:
        current = self._open.get(bucket)
        if current is not None and current[0].equals(schema):
            return current[1]
        if current is not None:
            self._close(bucket)
        path = os.path.join(self.directory, f"{self.kind}-{bucket}-{len(self.files.get(bucket, []))}.arrow")
        sink = pa.OSFile(path, "wb")
        writer = ipc.new_stream(sink, schema)
        self._open[bucket] = (schema, writer, sink)
        self.files.setdefault(bucket, []).append(path)
        return writer

    def _close(self, bucket: int) -> None:
        _, writer, sink = self._open.pop(bucket)
        writer.close()
        sink.close()

    @property
    def open_files(self) -> int:
        return len(self._open)

    def close(self) -> None:
        for bucket in list(self._open):
            self._close(bucket)

    def read(self, bucket: int) -> pa.Table | None:
        paths = self.files.get(bucket, [])
        if not paths:
            return None
        tables = []
        for path in paths:
            with pa.OSFile(path, "rb") as source:
                tables.append(ipc.open_stream(source).read_all())
            os.remove(path)
        return pa.concat_tables(tables, promote_options="default")

    def tables(self, bucket: int, rows: int) -> Iterator[pa.Table]:
        """The bucket's rows as tables of about ``rows`` rows, never the whole bucket at once."""
        pending: list[pa.RecordBatch] = []
        size = 0
        for path in self.files.get(bucket, []):
            with pa.OSFile(path, "rb") as source:
                for batch in ipc.open_stream(source):
                    pending.append(batch)
                    size += batch.num_rows
                    if size >= rows:
                        yield pa.Table.from_batches(pending)
                        pending, size = [], 0
            os.remove(path)
        if pending:
            yield pa.Table.from_batches(pending)


def _columns_by_type(table: pa.Table) -> dict[str, list[str]]:
    """Each event type's text columns in this chunk: those holding a value in one of its rows."""
    types = table["event_type"].combine_chunks()
    found = {}
    for event_type in pc.unique(types).to_pylist():
        rows = table.filter(pc.equal(types, event_type))
        found[event_type] = [name for name in text_columns(rows.schema) if rows[name].null_count < rows.num_rows]
    return found


def first_copies(table: pa.Table) -> pa.Table:
    """One row per ``event_id``: the earliest ``received_at``, then the first in input order."""
    if table.num_rows == 0:
        return table
    order = pc.sort_indices(table, [("event_id", "ascending"), ("received_at", "ascending"), (SEQUENCE, "ascending")])
    ids = pc.take(table["event_id"], order).combine_chunks()
    keep = pa.concat_arrays([pa.array([True]), pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1))])
    # One copy of the rows, not two: the kept positions first, then a single take.
    return table.take(pc.filter(order, keep))


CORE_LEDGER = ["event_id", "event_type", "received_at"]


def counter_keys(table: pa.Table) -> pa.Array:
    """Each row's counter key: the value of its type's counter field (COUNTER_FIELDS), else null."""
    types = table["event_type"]
    keys = pa.nulls(table.num_rows, pa.string())
    for event_type, field_name in COUNTER_FIELDS.items():
        if field_name in table.column_names:
            keys = pc.if_else(pc.equal(types, event_type), table[field_name], keys)
    return keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys


def day_labels(received_at: pa.ChunkedArray) -> pa.Array:
    """Each row's UTC day (``YYYY-MM-DD``) from epoch milliseconds."""
    days = pc.divide(received_at, pa.scalar(MILLIS_PER_DAY, pa.int64()))
    stamps = pc.multiply(days, pa.scalar(MILLIS_PER_DAY, pa.int64())).cast(pa.timestamp("ms", tz="UTC"))
    return pc.strftime(stamps, format="%Y-%m-%d").combine_chunks()


class _Writers:
    """Parquet writers per (event type, day) and ledger writers per day, opened on first use."""

    def __init__(self, directory: str, schemas: dict[str, pa.Schema], typed: Mapping[str, TypedTable]) -> None:
        self.directory = directory
        self.schemas = schemas
        self.typed = typed
        self.outputs = Outputs(
            columns={t: text_columns(s) for t, s in schemas.items() if t not in typed},
            typed={t: typed[t] for t in schemas if t in typed},
        )
        self._data: dict[tuple[str, Day], pq.ParquetWriter] = {}
        self._ledger: dict[Day, pq.ParquetWriter] = {}

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        labels = day_labels(table["received_at"])
        days = pc.unique(labels).to_pylist()
        for label in days:
            day = Day(*label.split("-"))
            of_day = table if len(days) == 1 else table.filter(pc.equal(labels, label))  # no copy when one day
            ledger = of_day.select(CORE_LEDGER).append_column("counter_key", counter_keys(of_day)).cast(LEDGER_SCHEMA)
            self._ledger_writer(day).write_table(ledger, row_group_size=LEDGER_BATCH_ROWS)
            types = of_day["event_type"].combine_chunks()
            kinds = pc.unique(types).to_pylist()
            for event_type in kinds:
                rows = of_day if len(kinds) == 1 else of_day.filter(pc.equal(types, event_type))
                writer, typed = self._data_writer(event_type, day), self.typed.get(event_type)
                if typed is None:
                    writer.write_table(conform(rows, self.schemas[event_type]), row_group_size=ROW_GROUP_ROWS)
                    continue
                for start in range(0, rows.num_rows, ROW_GROUP_ROWS):  # a row group's values in Python at a time
                    writer.write_table(convert(rows.slice(start, ROW_GROUP_ROWS), typed))

    def _data_writer(self, event_type: str, day: Day) -> pq.ParquetWriter:
        writer = self._data.get((event_type, day))
        if writer is None:
            path = os.path.join(self.directory, f"data-{event_type}-{day.iso}.parquet")
            writer = pq.ParquetWriter(path, self.schemas[event_type], compression=PARQUET_COMPRESSION)
            self._data[(event_type, day)] = writer
            self.outputs.data[(event_type, day)] = [path]
        return writer

    def _ledger_writer(self, day: Day) -> pq.ParquetWriter:
        writer = self._ledger.get(day)
        if writer is None:
            path = os.path.join(self.directory, f"ledger-{day.iso}.parquet")
            writer = pq.ParquetWriter(path, LEDGER_SCHEMA, compression=PARQUET_COMPRESSION)
            self._ledger[day] = writer
            self.outputs.ledger[day] = path
        return writer

    def close(self) -> Outputs:
        for writer in [*self._data.values(), *self._ledger.values()]:
            writer.close()
        return self.outputs


def _already_compacted(
    ids: pa.ChunkedArray, ledger: Iterable[pa.Table], stats: EngineStats, *, counted: bool
) -> pa.Array | None:
    """Which of a bucket's ids the ledger holds, as a mask over ``ids``.

    Each ledger table (at most ``LEDGER_BATCH_ROWS`` ids) is hashed once and the bucket's ids probe
    it: memory holds the bucket and one ledger table, never the ledger."""
    seen: pa.Array | None = None
    for table in ledger:
        if not counted:
            stats.ledger_ids_read += table.num_rows
        if table.num_rows == 0:
            continue
        found = pc.is_in(ids, value_set=table["event_id"].combine_chunks())
        seen = found if seen is None else pc.or_(seen, found)
    return seen.combine_chunks() if isinstance(seen, pa.ChunkedArray) else seen


def compact_streams(
    objects: Iterable[IO[bytes]],
    ledger_tables: Iterable[pa.Table],
    *,
    input_bytes: int,
    work_dir: str,
    on_chunk: Callable[[], None] = lambda: None,
    typed: Mapping[str, TypedTable] | None = None,
) -> tuple[Outputs, EngineStats]:
    """Objects (GZIP NDJSON streams, in a stable order) and the window's ledger in; files in ``work_dir`` out.

    ``typed``: the table of each custom event type the objects may hold (its latest schema's); a row
    of one that does not convert raises :class:`~.typed.ConversionError` (nothing is written).

    The ledger never sits in memory whole, whatever its size: with one bucket it streams past the
    bucket's ids a batch at a time straight from its files; with several it is first split into
    buckets like the rows, then each bucket's share streams past that bucket's ids."""
    stats = EngineStats()
    count = bucket_count(input_bytes)
    rows = _Buckets(work_dir, count, "rows")
    known = _Buckets(work_dir, count, "ledger")
    columns: dict[str, set[str]] = {}
    try:
        sequence = 0
        for chunk in lines_in_chunks(objects, CHUNK_BYTES):  # read at call time (tests make it small)
            table = read_chunk(chunk)
            table = table.append_column(SEQUENCE, pa.array(range(sequence, sequence + table.num_rows), pa.int64()))
            sequence += table.num_rows
            for event_type, names in _columns_by_type(table).items():
                columns.setdefault(event_type, set()).update(names)
            rows.add(table)
            on_chunk()
        stats.rows_in = sequence
        if count > 1 and sequence:
            for ledger in ledger_tables:
                stats.ledger_ids_read += ledger.num_rows
                known.add(ledger.select(["event_id"]))
                on_chunk()
    finally:
        rows.close()
        known.close()
    typed = typed or {}
    schemas = {t: typed[t].arrow_schema if t in typed else output_schema(sorted(n)) for t, n in columns.items()}
    writers = _Writers(work_dir, schemas, typed)
    try:
        for bucket in range(count):
            table = rows.read(bucket)
            if table is None:
                continue
            kept = first_copies(table)
            stats.duplicates_removed += table.num_rows - kept.num_rows
            del table
            ledger = ledger_tables if count == 1 else known.tables(bucket, LEDGER_BATCH_ROWS)
            seen = _already_compacted(kept["event_id"], ledger, stats, counted=count > 1)
            if seen is not None:
                stats.duplicates_already_compacted += pc.sum(seen.cast(pa.int64())).as_py() or 0
                kept = kept.filter(pc.invert(seen))
            stats.rows_out += kept.num_rows
            writers.write(kept)
            del kept, seen  # before the next bucket is read: one bucket in memory at a time
    finally:
        outputs = writers.close()
    return outputs, stats
