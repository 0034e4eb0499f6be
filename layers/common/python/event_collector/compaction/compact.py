"""Compact one tenant: its closed pending lake objects into the day partitions of its tables.

A *unit* is the set of objects one Compact consumes; its id (a hash of their
keys and ETags) names every file it writes, so a retry writes the same files.
The steps, and why in this order (docs/compaction.md):

1. take the tenant's lease (one Compact per tenant: two could both keep a copy);
2. remove the files of a unit a crashed attempt left uncommitted, whichever
   engine runs next (their ids are in no ledger yet: left in place, Athena
   would skip those events and the later clean-up would delete them);
3. record this unit as in flight, with the prefixes its files will land under;
4. run an engine: the Lambda engine (:mod:`.engine`), or Athena for a unit
   too large for one Lambda (:mod:`.athena`) that holds built-in types only
   (a tenant's own types are typed by the Lambda engine: :mod:`.typed`);
5. upload, register tables and partitions in Glue;
6. commit (clear the in-flight record), record the result, recount the
   counters of the hours the unit touched from the ledger (:mod:`.recount`),
   recompute the daily rollup of the days it touched (:mod:`.rollup`), then
   mark the objects done.

A unit holds at most ``MAX_UNIT_DAYS`` days of objects (a backlog is worked
off oldest first, a unit per run): that bounds the open Parquet writers and
Athena's partitions per ``INSERT INTO``. Each raw object is read once in
normal operation; only a crash between 6's writes makes the next run read its
objects again: the ledger then drops every row as already compacted, and a
retry in the same run finds its recorded result and keeps it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from event_collector.compaction.contracts import CompactRequest, CompactResult, RawPartitionRef
from event_collector.compaction.engine import LEDGER_BATCH_ROWS, Outputs, compact_streams
from event_collector.compaction.recount import Recount, recount_partitions
from event_collector.compaction.rollup import Rollups, days_of, roll_up_days
from event_collector.compaction.typed import TypedTable, TypeSchemas, read_types
from event_collector.event_types import DECLARED_FIELDS
from event_collector.lake.catalog import TableSpec, compacted_table, ledger_table
from event_collector.lake.layout import (
    Day,
    EventObject,
    compacted_object_key,
    compacted_prefix,
    ledger_object_key,
    ledger_prefix,
    parse_event_object_key,
    parse_ledger_object_key,
    run_result_key,
    written_by,
)
from event_collector.lake.queue import Inflight, PendingObject, TenantLocks, WorkQueue

LEASE_SECONDS = 16 * 60  # longer than the Compact function's 15-minute timeout
MAX_UNIT_DAYS = 31  # below Athena's 100 partitions per INSERT INTO; a few hundred open writers at most


class LakeStore(Protocol):
    def open(self, bucket: str, key: str) -> tuple[IO[bytes], str, datetime]: ...
    def listing(self, bucket: str, prefix: str) -> Iterable[tuple[str, str, int]]: ...
    def put_file(self, bucket: str, key: str, path: str, content_type: str = ...) -> None: ...
    def get_file(self, bucket: str, key: str, path: str) -> None: ...
    def delete(self, bucket: str, keys: list[str]) -> None: ...


class JsonStore(Protocol):
    def listing(self, bucket: str, prefix: str) -> Iterable[tuple[str, str, int]]: ...
    def put_json(self, bucket: str, key: str, document: Any) -> None: ...
    def get_json(self, bucket: str, key: str) -> Any: ...


class Catalog(Protocol):
    def ensure_table(self, spec: TableSpec) -> None: ...
    def add_partitions(self, spec: TableSpec, values: list[list[str]]) -> None: ...


class State(WorkQueue, TenantLocks, Protocol):
    pass


class LargeUnitEngine(Protocol):
    """Compacts a unit too large for one Lambda with a distributed engine (Athena in the cloud)."""

    def compact(self, tenant: str, unit: str, objects: list[EventObject]) -> CompactResult: ...


class ResultLog(Protocol):
    """Where a run's result for a tenant is kept (Report reads it); a retry reads it back."""

    def get(self, run_id: str, tenant: str) -> CompactResult | None: ...
    def put(self, run_id: str, tenant: str, result: CompactResult) -> None: ...


@dataclass(frozen=True)
class S3ResultLog:
    """``compaction/runs/<run>/results/<tenant>.json`` in the lake bucket."""

    store: JsonStore
    bucket: str

    def get(self, run_id: str, tenant: str) -> CompactResult | None:
        key = run_result_key(run_id, tenant)
        if not any(found == key for found, _, _ in self.store.listing(self.bucket, key)):
            return None  # listed first: a failing read must not pass for a missing result
        return CompactResult.model_validate(self.store.get_json(self.bucket, key))

    def put(self, run_id: str, tenant: str, result: CompactResult) -> None:
        self.store.put_json(self.bucket, run_result_key(run_id, tenant), result.model_dump(mode="json"))


@dataclass(frozen=True)
class Compaction:
    lake_bucket: str
    store: LakeStore
    state: State
    catalog: Catalog
    dedup_window_days: int = 1
    large_unit_bytes: int | None = None  # compressed input above which the large-unit engine runs
    large_units: LargeUnitEngine | None = None
    work_dir: str | None = None
    results: ResultLog | None = None
    recount: Recount | None = None  # the counters of the hours a unit touched, set from the ledger
    schemas: TypeSchemas | None = None  # tenants' own event types (the Schemas table in the cloud)
    rollups: Rollups | None = None  # the daily_counts rollup of the days a unit touched


def unit_id(objects: Iterable[PendingObject]) -> str:
    digest = hashlib.sha256()
    for item in sorted(objects, key=lambda o: o.key):
        digest.update(f"{item.key}\n{item.etag}\n".encode())
    return digest.hexdigest()[:32]


def compact_tenant(request: CompactRequest, compaction: Compaction, now: datetime) -> CompactResult:
    """Compact the tenant's closed pending objects (one unit, or two: :func:`_by_engine`) and record the result.

    A retry in the same run never loses what an earlier attempt achieved: a recorded result is
    kept rather than replaced by "skipped", and a unit already compacted is only marked done."""
    tenant, owner = request.tenant, request.run_id
    state = compaction.state
    previous = compaction.results.get(request.run_id, tenant) if compaction.results else None
    if not state.acquire_lease(tenant, owner, int(now.timestamp()), int(now.timestamp()) + LEASE_SECONDS):
        # Another Compact of this tenant is running (an overlapping run): its objects wait, none are lost.
        skipped = CompactResult(tenant=tenant, status="skipped", error="another run holds the tenant's lease")
        return _record(compaction, request, previous or skipped, previous)
    try:
        cutoff = int(request.cutoff.timestamp())
        closed = sorted((o for o in state.pending(tenant) if o.closed_by(cutoff)), key=lambda o: o.key)
        if not closed:
            return _record(compaction, request, previous or CompactResult(tenant=tenant, status="skipped"), previous)
        pending, objects = _unit(closed, tenant)
        result = previous
        for part_pending, part_objects in _by_engine(compaction, pending, objects):
            result = _compact_unit(request, compaction, part_pending, part_objects, result, now)
            if result.status != "ok":
                break  # the other part's objects stay pending: the next run takes them
        assert result is not None  # one part at least: the unit is not empty
        return result
    finally:
        state.release_lease(tenant, owner)


def _by_engine(
    compaction: Compaction, pending: list[PendingObject], objects: list[EventObject]
) -> list[tuple[list[PendingObject], list[EventObject]]]:
    """The unit, or, when it is one for the large-unit engine but holds a tenant's own types too (which only
    the Lambda engine types), two units: its built-in types' objects for that engine, then the others for
    Lambda. One custom event never sends a large unit's built-in types to one Lambda (each object holds one
    type, so the split is by object; the second unit deduplicates against the first's ledger)."""
    large = compaction.large_unit_bytes
    if compaction.large_units is None or large is None or sum(item.size for item in pending) <= large:
        return [(pending, objects)]
    built_in = [index for index, item in enumerate(objects) if item.partition.event_type in DECLARED_FIELDS]
    if not built_in or len(built_in) == len(objects):
        return [(pending, objects)]
    taken = set(built_in)  # once: a backlog's unit may hold thousands of objects
    own = [index for index in range(len(objects)) if index not in taken]
    return [([pending[i] for i in part], [objects[i] for i in part]) for part in (built_in, own)]


def _compact_unit(
    request: CompactRequest,
    compaction: Compaction,
    pending: list[PendingObject],
    objects: list[EventObject],
    previous: CompactResult | None,
    now: datetime,
) -> CompactResult:
    """One unit of the tenant's objects, with whichever engine fits it; recorded, recounted, marked done."""
    tenant, state = request.tenant, compaction.state
    unit = unit_id(pending)
    if previous is not None and previous.status == "ok" and previous.unit == unit:
        # This run compacted the unit already; only its recount or marking its objects done was lost.
        _recount(compaction, tenant, previous, now)
        _roll_up(compaction, tenant, previous)
        state.done(tenant, [item.key for item in pending])
        return previous
    _remove_uncommitted(compaction, tenant, unit)
    bytes_in = sum(item.size for item in pending)
    large = compaction.large_unit_bytes
    custom = sorted({item.partition.event_type for item in objects} - set(DECLARED_FIELDS))
    typed = read_types(compaction.schemas, custom)  # once per invocation, before anything is written
    if compaction.large_units is not None and large is not None and bytes_in > large and not typed:
        state.set_inflight(tenant, Inflight(unit, []))  # Athena names its own files: nothing to remove
        result = compaction.large_units.compact(tenant, unit, objects)
        state.clear_inflight(tenant)
    else:
        result = _compact_with_lambda(compaction, tenant, unit, pending, objects, typed)
    # Whichever engine ran: the hours it consumed (Refresh registers them, the recount recounts them).
    update = {"files_in": len(pending), "bytes_in": bytes_in, "raw_partitions": _raw_partitions(objects)}
    result = result.model_copy(update=update)
    if previous is not None and previous.status == "ok" and result.status == "ok":
        # An earlier attempt of this run compacted another unit (late objects arrived since): keep both.
        result = combined(previous, result)
    result = _record(compaction, request, result)
    if result.status == "ok":
        _recount(compaction, tenant, result, now)  # a failure here leaves the objects pending: retried
        _roll_up(compaction, tenant, result)  # the same
    state.done(tenant, [item.key for item in pending])
    return result


def _recount(compaction: Compaction, tenant: str, result: CompactResult, now: datetime) -> None:
    if compaction.recount is not None:
        recount_partitions(
            result.raw_partitions, tenant, compaction.recount, compaction.store, compaction.lake_bucket, now=now
        )


def _roll_up(compaction: Compaction, tenant: str, result: CompactResult) -> None:
    if compaction.rollups is not None:
        roll_up_days(compaction.rollups, tenant, days_of(result.raw_partitions))


_SUMMED = (
    "files_in",
    "rows_in",
    "rows_out",
    "duplicates_removed",
    "duplicates_already_compacted",
    "files_out",
    "bytes_in",
    "bytes_out",
    "bytes_scanned",
    "ledger_ids_read",
)


def combined(earlier: CompactResult, later: CompactResult) -> CompactResult:
    """Two units compacted for one tenant in one run, as one result: totals summed, the later unit named."""
    totals = {name: getattr(earlier, name) + getattr(later, name) for name in _SUMMED}
    partitions = list(dict.fromkeys([*earlier.raw_partitions, *later.raw_partitions]))
    types = sorted({*earlier.event_types, *later.event_types})
    return later.model_copy(update={**totals, "raw_partitions": partitions, "event_types": types})


def _record(
    compaction: Compaction, request: CompactRequest, result: CompactResult, previous: CompactResult | None = None
) -> CompactResult:
    if compaction.results is not None and result != previous:
        compaction.results.put(request.run_id, request.tenant, result)
    return result


def _unit(closed: list[PendingObject], tenant: str) -> tuple[list[PendingObject], list[EventObject]]:
    """The closed objects of the oldest ``MAX_UNIT_DAYS`` days; later days wait for the next run."""
    objects = [_event_object(item.key, tenant) for item in closed]
    days = sorted({item.partition.day for item in objects})[:MAX_UNIT_DAYS]
    keep = [index for index, item in enumerate(objects) if item.partition.day <= days[-1]]
    return [closed[i] for i in keep], [objects[i] for i in keep]


def _event_object(key: str, tenant: str) -> EventObject:
    parsed = parse_event_object_key(key)
    if parsed is None or parsed.partition.tenant != tenant:
        raise ValueError(f"pending object {key!r} is not an event object of tenant {tenant!r}")
    return parsed


def _compact_with_lambda(
    compaction: Compaction,
    tenant: str,
    unit: str,
    pending: list[PendingObject],
    objects: list[EventObject],
    typed: dict[str, TypedTable],
) -> CompactResult:
    state, store, bucket = compaction.state, compaction.store, compaction.lake_bucket
    days = sorted({item.partition.day for item in objects})
    types = sorted({item.partition.event_type for item in objects})
    prefixes = [compacted_prefix(t, tenant, day) for t in types for day in days]
    state.set_inflight(tenant, Inflight(unit, prefixes + [ledger_prefix(tenant, day) for day in days]))
    with tempfile.TemporaryDirectory(dir=compaction.work_dir) as scratch:
        window = sorted({day.plus(offset) for day in days for offset in _window(compaction.dedup_window_days)})
        outputs, stats = compact_streams(
            (store.open(bucket, item.key)[0] for item in pending),
            _ledger(compaction, tenant, unit, window, scratch),
            input_bytes=sum(item.size for item in pending),
            work_dir=scratch,
            typed=typed,
        )
        files_out, bytes_out = _upload(compaction, tenant, unit, outputs)
    _register(compaction, tenant, outputs)
    state.clear_inflight(tenant)  # the commit point: from here on these files are the record
    return CompactResult(
        tenant=tenant,
        status="ok",
        engine="lambda",
        unit=unit,
        rows_in=stats.rows_in,
        rows_out=stats.rows_out,
        duplicates_removed=stats.duplicates_removed,
        duplicates_already_compacted=stats.duplicates_already_compacted,
        ledger_ids_read=stats.ledger_ids_read,
        files_out=files_out,
        bytes_out=bytes_out,
        raw_partitions=_raw_partitions(objects),
        event_types=outputs.event_types,
    )


def _window(days: int) -> range:
    return range(-days, days + 1)


def _remove_uncommitted(compaction: Compaction, tenant: str, unit: str) -> None:
    inflight = compaction.state.inflight(tenant)
    if inflight is None or inflight.unit == unit:
        return  # nothing left behind, or our own earlier attempt: its files are overwritten with the same names
    stale = [
        key
        for prefix in inflight.prefixes
        for key, _, _ in compaction.store.listing(compaction.lake_bucket, prefix)
        if written_by(key, inflight.unit)
    ]
    if stale:
        compaction.store.delete(compaction.lake_bucket, stale)
    compaction.state.clear_inflight(tenant)


def _ledger(compaction: Compaction, tenant: str, unit: str, days: list[Day], scratch: str) -> Iterator[pa.Table]:
    """The ids compacted before, in the window's days, read a row group at a time: every writer's
    files (Athena's included), never this unit's own (a retry of it must not drop its rows)."""
    path = os.path.join(scratch, "ledger-in.parquet")
    for day in days:
        for key, _, size in compaction.store.listing(compaction.lake_bucket, ledger_prefix(tenant, day)):
            parsed = parse_ledger_object_key(key)
            if parsed is None or parsed.unit == unit or size == 0:
                continue
            compaction.store.get_file(compaction.lake_bucket, key, path)
            for batch in pq.ParquetFile(path).iter_batches(batch_size=LEDGER_BATCH_ROWS, columns=["event_id"]):
                yield pa.Table.from_batches([batch])


def _upload(compaction: Compaction, tenant: str, unit: str, outputs: Outputs) -> tuple[int, int]:
    files = bytes_out = 0
    for (event_type, day), paths in sorted(outputs.data.items()):
        for part, path in enumerate(paths):
            compaction.store.put_file(
                compaction.lake_bucket, compacted_object_key(event_type, tenant, day, unit, part), path
            )
            files += 1
            bytes_out += os.path.getsize(path)
    for day, path in sorted(outputs.ledger.items()):
        compaction.store.put_file(compaction.lake_bucket, ledger_object_key(tenant, day, unit), path)
    return files, bytes_out


def _register(compaction: Compaction, tenant: str, outputs: Outputs) -> None:
    catalog, bucket = compaction.catalog, compaction.lake_bucket
    specs = [compacted_table(t, bucket, columns) for t, columns in outputs.columns.items()]
    specs += [compacted_table(t, bucket, typed_columns=table.glue_columns) for t, table in outputs.typed.items()]
    for spec in sorted(specs, key=lambda spec: spec.name):
        event_type = spec.name
        catalog.ensure_table(spec)
        days = sorted(day for t, day in outputs.data if t == event_type)
        catalog.add_partitions(spec, [[tenant, day.year, day.month, day.day] for day in days])
    if outputs.ledger:
        spec = ledger_table(bucket)
        catalog.ensure_table(spec)
        catalog.add_partitions(spec, [[tenant, day.year, day.month, day.day] for day in sorted(outputs.ledger)])


def _raw_partitions(objects: list[EventObject]) -> list[RawPartitionRef]:
    seen = sorted({item.partition for item in objects})
    return [
        RawPartitionRef(
            event_type=p.event_type, tenant=p.tenant, year=p.day.year, month=p.day.month, day=p.day.day, hour=p.hour
        )
        for p in seen
    ]


def result_summary(result: CompactResult) -> dict[str, Any]:
    """The result without its partition list, for a log line."""
    return result.model_dump(exclude={"raw_partitions"})
