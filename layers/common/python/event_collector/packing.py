"""Pack newline-terminated JSON lines into as few Firehose records and calls as the limits allow."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# Firehose limits (https://docs.aws.amazon.com/firehose/latest/dev/limits.html).
MAX_RECORD_BYTES = 1000 * 1024
MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 4 * 1024 * 1024


def pack_lines(lines: Iterable[bytes], max_record_bytes: int = MAX_RECORD_BYTES) -> list[bytes]:
    """Concatenate whole lines into records of at most ``max_record_bytes``.

    A line is never split across records, so every record is valid NDJSON on
    its own and S3 objects stay line-aligned whatever Firehose concatenates.
    """
    records: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for line in lines:
        if len(line) > max_record_bytes:
            raise ValueError(f"a line of {len(line)} bytes exceeds the record limit")
        if size + len(line) > max_record_bytes:
            records.append(b"".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        records.append(b"".join(current))
    return records


def split_into_calls(
    records: Sequence[bytes],
    max_records: int = MAX_RECORDS_PER_CALL,
    max_bytes: int = MAX_BYTES_PER_CALL,
) -> list[list[bytes]]:
    """Group records into PutRecordBatch calls within the count and size limits."""
    calls: list[list[bytes]] = []
    current: list[bytes] = []
    size = 0
    for record in records:
        if current and (len(current) == max_records or size + len(record) > max_bytes):
            calls.append(current)
            current, size = [], 0
        current.append(record)
        size += len(record)
    if current:
        calls.append(current)
    return calls
