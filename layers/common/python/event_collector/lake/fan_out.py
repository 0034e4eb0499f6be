"""Fan-out: spread one raw Firehose object into per-tenant, per-hour lake objects.

Streaming in two passes with bounded memory (docs/fan-out.md):

1. Read the object line by line (GZIP or plain), check each line, and append
   the good ones to one spill file on local disk, remembering only the byte
   ranges of each partition. Bad lines go, with their reason, to a GZIP
   quarantine file as they come.
2. For each partition, in sorted order, compress its byte ranges into a
   deterministic GZIP (no timestamp, no name) and upload it.

Memory holds the ranges (a few bytes per run of lines) and one compressor,
never the decompressed object.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
import tempfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, Protocol
from urllib.parse import unquote_plus

from event_collector.counts.layout import CounterTally
from event_collector.counts.record import CountingLimits, ObjectCounterStore, record_counts
from event_collector.event_types import COUNTER_FIELDS, EARLIEST_TIMESTAMP_MS, LATEST_TIMESTAMP_MS
from event_collector.identifiers import CLIENT_ID_PATTERN, is_event_type, is_tenant_id
from event_collector.lake.layout import HourPartition, event_object_key, quarantine_object_key
from event_collector.lake.queue import PendingObject, WorkQueue
from event_collector.lake.rewrites import StoredObject, fan_out_identity

MAX_LINE_BYTES = 1024 * 1024
QUARANTINED_EXCERPT_BYTES = 64 * 1024
SPOOL_BYTES = 16 * 1024 * 1024
GZIP_LEVEL = 6
_EVENT_ID = re.compile(CLIENT_ID_PATTERN)


@dataclass(frozen=True)
class SourceObject:
    bucket: str
    key: str
    etag: str


class ObjectStore(Protocol):
    def read(self, bucket: str, key: str) -> StoredObject:
        """A readable binary stream of the object, with its ETag, LastModified and user metadata."""
        ...

    def put(self, bucket: str, key: str, body: IO[bytes]) -> str:
        """Store the object; returns its ETag."""
        ...


@dataclass
class FanOutReport:
    source: SourceObject
    lines_in: int = 0
    lines_out: int = 0
    lines_quarantined: int = 0
    written: list[str] = field(default_factory=list)
    counter_writes: int = 0
    counted_before: bool = False  # a redelivery: its counts were applied by an earlier run
    rewrite_skipped: bool = False  # the notification of a regulation's rewrite (lake/rewrites.py)

    def as_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.source.bucket,
            "key": self.source.key,
            "lines_in": self.lines_in,
            "lines_out": self.lines_out,
            "lines_quarantined": self.lines_quarantined,
            "objects_written": len(self.written),
            "counter_writes": self.counter_writes,
            "counted_before": self.counted_before,
            "rewrite_skipped": self.rewrite_skipped,
        }


@dataclass(frozen=True)
class Counting:
    """Where and how the fan-out counts what it places (docs/counters.md)."""

    store: ObjectCounterStore
    limits: CountingLimits = field(default_factory=CountingLimits)
    clock: Any = None  # () -> aware datetime; defaults to now


class TooLongLine(bytes):
    """The start of a line over MAX_LINE_BYTES; the rest was skipped."""


def iter_lines(stream: IO[bytes], max_bytes: int | None = None) -> Iterator[bytes]:
    """Lines without their terminator; the last one may lack a newline. Over-long lines are cut."""
    max_bytes = max_bytes or MAX_LINE_BYTES
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        if len(line) > max_bytes and not line.endswith(b"\n"):
            excerpt = line[:QUARANTINED_EXCERPT_BYTES]
            while line and not line.endswith(b"\n"):
                line = stream.readline(max_bytes)
            yield TooLongLine(excerpt)
            continue
        yield line.rstrip(b"\r\n") if line.endswith(b"\n") else line


def open_maybe_gzip(raw: IO[bytes]) -> IO[bytes]:
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(_RawAdapter(raw))
    if buffered.peek(2)[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[return-value]
    return buffered


class _RawAdapter(io.RawIOBase):
    """Lets io.BufferedReader wrap anything with ``read(n)`` (such as botocore's StreamingBody)."""

    def __init__(self, source: Any) -> None:
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


HOUR_MS = 3_600_000
PartitionKey = tuple[str, str, int]  # (event_type, tenant, hours since the epoch)


@dataclass(frozen=True)
class Placement:
    partition: PartitionKey
    received_at: int
    counter_key: str | None  # the value of the type's counter field, if it has one


def place(line: bytes) -> Placement | str:
    """Where a line belongs (type, tenant, hour) and what it counts as, or the reason it cannot be placed."""
    if isinstance(line, TooLongLine):
        return f"line longer than {MAX_LINE_BYTES} bytes"
    if not line.strip():
        return "empty line"
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return "not valid JSON"
    if not isinstance(record, dict):
        return "not a JSON object"
    tenant, event_type, received_at = record.get("tenant"), record.get("event_type"), record.get("received_at")
    if not is_tenant_id(tenant):
        return "tenant missing or malformed"
    if not is_event_type(event_type):
        return "event_type missing or malformed"
    if isinstance(received_at, bool) or not isinstance(received_at, int):
        return "received_at missing or not epoch milliseconds"
    if not EARLIEST_TIMESTAMP_MS <= received_at < LATEST_TIMESTAMP_MS:
        return "received_at out of range"
    event_id = record.get("event_id")
    if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        return "event_id missing or malformed"
    timestamp = record.get("timestamp")
    if timestamp is not None and (
        isinstance(timestamp, bool)
        or not isinstance(timestamp, int)
        or not EARLIEST_TIMESTAMP_MS <= timestamp < LATEST_TIMESTAMP_MS
    ):
        return "timestamp not epoch milliseconds in range"
    field_name = COUNTER_FIELDS.get(event_type)
    value = record.get(field_name) if field_name else None
    counter_key = value if isinstance(value, str) else None
    return Placement((event_type, tenant, received_at // HOUR_MS), received_at, counter_key)


class _Ranges:
    """Byte ranges of one partition's lines in the spill file; adjacent ranges merge."""

    __slots__ = ("lengths", "offsets")

    def __init__(self) -> None:
        self.offsets = array("Q")
        self.lengths = array("Q")

    def add(self, offset: int, length: int) -> None:
        if self.offsets and self.offsets[-1] + self.lengths[-1] == offset:
            self.lengths[-1] += length
        else:
            self.offsets.append(offset)
            self.lengths.append(length)


def deterministic_gzip(target: IO[bytes]) -> gzip.GzipFile:
    """GZIP with no name and no time: the same lines always give the same bytes (a rewrite too)."""
    return gzip.GzipFile(fileobj=target, mode="wb", compresslevel=GZIP_LEVEL, mtime=0, filename="")


class FanOut:
    """``queue``: where each written object is registered for compaction (docs/compaction.md);
    ``counting``: how the placed events are counted (docs/counters.md)."""

    def __init__(
        self,
        store: ObjectStore,
        lake_bucket: str,
        spill_dir: str | None = None,
        counting: Counting | None = None,
        queue: WorkQueue | None = None,
    ) -> None:
        self._store = store
        self._lake_bucket = lake_bucket
        self._spill_dir = spill_dir
        self._counting = counting
        self._queue = queue

    def process(self, bucket: str, key: str, notified_etag: str | None = None) -> FanOutReport:
        """``notified_etag``: the ETag the S3 notification names (none for a backfill's own invocation)."""
        stored = self._store.read(bucket, key)
        raw, last_modified = stored.body, stored.last_modified
        source = SourceObject(bucket, key, stored.etag)
        report = FanOutReport(source)
        identity = fan_out_identity(bucket, key, stored, notified_etag)
        if identity is None:
            raw.close()
            report.rewrite_skipped = True
            return report
        partitions: dict[PartitionKey, _Ranges] = {}
        tally = CounterTally(self._counting.limits.max_keys_per_hour if self._counting else 0)
        with (
            raw,
            tempfile.TemporaryFile(dir=self._spill_dir) as spill,
            tempfile.SpooledTemporaryFile(SPOOL_BYTES, dir=self._spill_dir) as quarantine_file,
        ):
            quarantine = deterministic_gzip(quarantine_file)
            for line in iter_lines(open_maybe_gzip(raw)):
                report.lines_in += 1
                verdict = place(line)
                if isinstance(verdict, str):
                    quarantine.write(_quarantine_line(source, report.lines_in, verdict, line))
                    report.lines_quarantined += 1
                    continue
                offset = spill.tell()
                spill.write(line + b"\n")
                partitions.setdefault(verdict.partition, _Ranges()).add(offset, len(line) + 1)
                if self._counting:
                    event_type, tenant, _ = verdict.partition
                    tally.add(tenant, event_type, verdict.received_at, verdict.counter_key)
                report.lines_out += 1
            quarantine.close()
            written: dict[str, list[PendingObject]] = {}
            for event_type, tenant, hour in sorted(partitions):
                target = event_object_key(HourPartition.of(event_type, tenant, hour * HOUR_MS), identity)
                etag, size = self._upload_ranges(spill, partitions[(event_type, tenant, hour)], target)
                written.setdefault(tenant, []).append(PendingObject(target, etag, size, (hour + 1) * 3600))
                report.written.append(target)
            if report.lines_quarantined:
                target = quarantine_object_key(key, identity, last_modified.astimezone(UTC))
                quarantine_file.seek(0)
                self._store.put(self._lake_bucket, target, quarantine_file)
                report.written.append(target)
        if self._counting:
            self._count(tally, identity, report)
        if self._queue:
            # Registered only once written, and once counted: a compaction that recounts the hour must see
            # this object's counts already applied, or they would land after its recount and stay (issue 21).
            # A failure here fails the object so Lambda retries it (its counts are marked: not applied twice).
            for tenant, objects in sorted(written.items()):
                self._queue.enqueue(tenant, objects)
        return report

    def _count(self, tally: CounterTally, identity: str, report: FanOutReport) -> None:
        """After the lake writes, so only what is stored is counted. All or retried: a failure raises
        (StorageError), failing the object, which Lambda retries (counts/record.py)."""
        assert self._counting is not None
        now = self._counting.clock() if self._counting.clock else datetime.now(UTC)
        outcome = record_counts(tally, self._counting.store, source_id=identity, now=now, limits=self._counting.limits)
        report.counter_writes = outcome.writes
        report.counted_before = not outcome.applied

    def _upload_ranges(self, spill: IO[bytes], ranges: _Ranges, target: str) -> tuple[str, int]:
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES, dir=self._spill_dir) as compressed:
            with deterministic_gzip(compressed) as writer:
                for offset, length in zip(ranges.offsets, ranges.lengths, strict=True):
                    spill.seek(offset)
                    remaining = length
                    while remaining:
                        chunk = spill.read(min(remaining, 1024 * 1024))
                        writer.write(chunk)
                        remaining -= len(chunk)
            size = compressed.tell()
            compressed.seek(0)
            return self._store.put(self._lake_bucket, target, compressed), size


def _quarantine_line(source: SourceObject, line_number: int, reason: str, line: bytes) -> bytes:
    entry: dict[str, Any] = {
        "source_bucket": source.bucket,
        "source_key": source.key,
        "line_number": line_number,
        "reason": reason,
    }
    try:
        entry["line"] = line.decode("utf-8")
    except UnicodeDecodeError:
        entry["line_base64"] = base64.b64encode(line).decode("ascii")
    if isinstance(line, TooLongLine):
        entry["truncated"] = True
    return json.dumps(entry, separators=(",", ":")).encode() + b"\n"


def objects_in_s3_event(event: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(bucket, key, ETag if named) of every ObjectCreated record, keys URL-decoded as S3 encodes them."""
    objects = []
    for record in event.get("Records", []):
        if record.get("eventSource") != "aws:s3" or not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record["s3"]
        etag = s3["object"].get("eTag")
        objects.append(
            (s3["bucket"]["name"], unquote_plus(s3["object"]["key"]), etag if isinstance(etag, str) else None)
        )
    return objects


class FanOutFailed(Exception):
    """Some objects of an event failed; the invocation fails so Lambda retries it, then dead-letters it."""


def fan_out_event(fan_out: FanOut, event: dict[str, Any]) -> list[FanOutReport]:
    """Process every record; if any failed, raise after trying all of them (retries are idempotent)."""
    reports, failures = [], []
    for bucket, key, etag in objects_in_s3_event(event):
        try:
            reports.append(fan_out.process(bucket, key, etag))
        except Exception as error:  # noqa: BLE001 - collected, then raised for Lambda's retry
            failures.append(f"s3://{bucket}/{key}: {error}")
    if failures:
        raise FanOutFailed(f"{len(failures)} object(s) failed: " + "; ".join(failures[:5]))
    return reports
