"""One stored object without the lines or rows a sweep removes, written as its writer wrote it.

- NDJSON objects (``raw/`` as Firehose writes them, GZIP or plain; ``events/`` and ``quarantine/`` as the
  fan-out writes them, deterministic GZIP): every kept line byte for byte, in order, so an ``events/``
  object rewritten here is exactly what the fan-out writes from the rewritten raw object.
- Parquet (``compacted/``, ``ledger/``): row group by row group with the file's own schema and codec, so
  memory holds one row group, never the file.

Deciding costs less than rewriting: an NDJSON object is scanned once (decompressed and parsed, nothing
written) and read again only when a line matched; a Parquet file is decided on its matched columns alone.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Iterator
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from event_collector.lake.fan_out import deterministic_gzip
from event_collector.privacy.matching import Target

BATCH_ROWS = 64 * 1024


def _open(stream: IO[bytes]) -> tuple[IO[bytes], bool]:
    """A reader of the object's text, and whether the object is GZIP (kept so when rewritten)."""
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(_Raw(stream))
    if buffered.peek(2)[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=buffered, mode="rb"), True  # type: ignore[return-value]
    return buffered, False


class _Raw(io.RawIOBase):
    def __init__(self, source: IO[bytes]) -> None:
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _lines(reader: IO[bytes]) -> Iterator[bytes]:
    """Each line with its terminator, as stored (the last one may have none)."""
    while line := reader.readline():
        yield line


def scan_lines(stream: IO[bytes], decide: Callable[[bytes], list[Target]]) -> dict[int, list[Target]]:
    """The lines (by position) that ``decide`` matched to at least one target."""
    reader, _ = _open(stream)
    with stream:
        return {
            number: targets for number, line in enumerate(_lines(reader)) if (targets := decide(line.rstrip(b"\r\n")))
        }


def rewrite_lines(stream: IO[bytes], drop: set[int], out: IO[bytes]) -> int:
    """Every line but ``drop``, compressed as the input was (deterministic GZIP: no name, no time);
    returns the lines kept (0: the object is to be removed)."""
    reader, compressed = _open(stream)
    kept = 0
    with stream:
        writer: IO[bytes] = deterministic_gzip(out) if compressed else out  # type: ignore[assignment]
        for number, line in enumerate(_lines(reader)):
            if number not in drop:
                writer.write(line)
                kept += 1
        if compressed:
            writer.close()  # the GZIP trailer; ``out`` stays open
    return kept


def parquet_has(source: IO[bytes], columns: list[str], test: Callable[[pa.Table], bool]) -> bool:
    """Whether ``test`` holds for some batch of the named columns (the others are never read)."""
    parquet = pq.ParquetFile(source)
    present = [name for name in columns if name in parquet.schema_arrow.names]
    if not present:
        return False
    return any(
        test(pa.Table.from_batches([batch]))
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=present, use_threads=False)
    )


def rewrite_parquet(path_in: str, path_out: str, drop: Callable[[pa.Table], pa.Array | None]) -> int:
    """The file without the rows ``drop`` marks, row group by row group, with its schema and codec;
    returns the rows kept (0: nothing is written, the file is to be removed)."""
    parquet = pq.ParquetFile(path_in)
    codec = parquet.metadata.row_group(0).column(0).compression if parquet.num_row_groups else "SNAPPY"
    codec = "none" if codec == "UNCOMPRESSED" else codec.lower()
    writer: pq.ParquetWriter | None = None
    kept = 0
    try:
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group, use_threads=False)
            rows = drop(table)
            if rows is not None:  # a row is dropped only when marked: a null mark keeps it
                table = table.filter(pc.invert(pc.fill_null(rows, False)))
            if table.num_rows == 0:
                continue
            if writer is None:
                writer = pq.ParquetWriter(path_out, parquet.schema_arrow, compression=codec)
            writer.write_table(table, row_group_size=max(table.num_rows, 1))
            kept += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    return kept
