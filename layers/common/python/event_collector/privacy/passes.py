"""A sweep's passes, one per prefix or table: each lists its objects in key order from its cursor, decides on
the least it can read, and for an object that holds a target's events writes its receipt, then the object
without them (one PUT in place, or a delete when nothing is left). Each returns False when the budget ran
out (the cursor says where to resume) and True when it is done.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from event_collector.compaction.contracts import RawPartitionRef
from event_collector.compaction.recount import Recount, recount_partitions
from event_collector.compaction.rollup import Rollups, has_rollup, roll_up_days
from event_collector.counts.layout import HOUR_MS, counter_pk
from event_collector.counts.record import CountingLimits
from event_collector.counts.recount import RecountStore
from event_collector.identifiers import is_event_type
from event_collector.lake.layout import (
    COMPACTED_ROOT,
    EVENTS_ROOT,
    QUARANTINE_AREA,
    QUARANTINE_ROOT,
    RAW_AREA,
    RAW_PREFIX,
    Day,
    compacted_type_prefix,
    daily_counts_object_key,
    events_prefix,
    ledger_prefix,
    parse_compacted_object_key,
    parse_event_object_key,
    parse_ledger_object_key,
    parse_quarantine_object_key,
    raw_hour,
    receipt_key,
    tenant_area,
)
from event_collector.lake.queue import TenantLocks, WorkQueue
from event_collector.lake.rewrites import ObjectVersion, StoredObject, rewrite_metadata
from event_collector.privacy.journal import Budget, Journal, Receipt, Stats, SweepState, TenantProgress, merged
from event_collector.privacy.matching import DAY_MS, FIELDS, RAW_HOUR_MARGIN_MS, Matcher, Target, any_row, key_parts
from event_collector.privacy.regulations import SUPPRESSION_CACHE_SECONDS, subject_digest
from event_collector.privacy.rewrite import parquet_has, rewrite_lines, rewrite_parquet, scan_lines

SAVE_EVERY = 500  # objects a pass looks at between two saves of its cursor
SPOOL_BYTES = 16 * 1024 * 1024
# Parquet files up to this size are fetched whole to be decided (one GET); larger ones in ranges (passes.py).
WHOLE_READ_BYTES = 4 * 1024 * 1024
ALL_HOURS = [f"h{hour:02d}" for hour in range(24)]


class LakeStore(Protocol):
    """The lake bucket (not versioned): aws/s3.py's S3ObjectStore."""

    def listing(self, bucket: str, prefix: str, start_after: str | None = None) -> Iterable[tuple[str, str, int]]: ...
    def folders(self, bucket: str, prefix: str) -> list[str]: ...
    def open(self, bucket: str, key: str) -> tuple[IO[bytes], str, datetime]: ...
    def open_ranges(self, bucket: str, key: str, size: int) -> IO[bytes]: ...
    def get_file(self, bucket: str, key: str, path: str) -> None: ...
    def put_file(self, bucket: str, key: str, path: str, content_type: str = ...) -> None: ...
    def put(self, bucket: str, key: str, body: IO[bytes]) -> str: ...
    def delete(self, bucket: str, keys: list[str]) -> None: ...
    def put_json(self, bucket: str, key: str, document: object) -> None: ...
    def get_json(self, bucket: str, key: str) -> object: ...


class RawStore(Protocol):
    """The raw bucket (versioned): every version of every object, replaced and deleted for good."""

    def versions(self, bucket: str, prefix: str, after: str | None = None) -> Iterator[list[ObjectVersion]]: ...
    def read(self, bucket: str, key: str, version_id: str | None = None) -> StoredObject: ...
    def replace(self, bucket: str, key: str, body: IO[bytes], content_type: str, metadata: dict[str, str]) -> str: ...
    def delete_versions(self, bucket: str, versions: Sequence[tuple[str, str]]) -> None: ...


class CounterStore(RecountStore, Protocol):
    def delete_counter(self, pk: str) -> int: ...


class State(WorkQueue, TenantLocks, Protocol):
    """The compaction state table: the queue (an events/ object removed is no longer pending) and leases."""


@dataclass(frozen=True)
class Counters:
    store: CounterStore
    limits: CountingLimits


@dataclass(frozen=True)
class Deletion:
    """Where a sweep reads and writes (the Regulate function wires the AWS adapters)."""

    lake_bucket: str
    lake: LakeStore
    state: State
    raw_bucket: str | None = None
    raw: RawStore | None = None
    counters: Counters | None = None
    firehose_buffer_seconds: int = 900
    suppression_cache_seconds: int = SUPPRESSION_CACHE_SECONDS  # the collectors' SuppressionCacheSeconds
    work_dir: str | None = None
    rollups: Rollups | None = None  # the daily rollup of the days that lost events (compaction/rollup.py)


@dataclass
class Context:
    deletion: Deletion
    sweep: SweepState
    journal: Journal
    budget: Budget
    stats: Stats
    now: datetime
    seen: int = 0

    def looked_at(self) -> None:
        """One more object considered: the cursor is saved now and then, so a crash rescans little."""
        self.seen += 1
        if self.seen % SAVE_EVERY == 0:
            self.journal.save(self.sweep)

    def stop(self) -> bool:
        """Out of time: the cursor is saved and the pass ends (the next run resumes it)."""
        if self.budget.left():
            return False
        self.journal.save(self.sweep)
        return True

    def spool(self) -> IO[bytes]:
        return tempfile.SpooledTemporaryFile(SPOOL_BYTES, dir=self.deletion.work_dir)

    def changed(self, key: str, kept: int, size: int) -> None:
        if kept:
            self.stats.objects_rewritten += 1
            self.stats.bytes_written += size
        else:
            self.stats.objects_removed += 1
        self.stats.changed.append(key)


def _tally(matches: Iterable[list[Target]], name: str) -> dict[str, dict[str, int]]:
    removed: dict[str, dict[str, int]] = defaultdict(dict)
    for targets in matches:
        for target in targets:
            removed[target.request][name] = removed[target.request].get(name, 0) + 1
    return dict(removed)


# -- raw/ (the raw bucket: mixed tenants, versioned) ------------------------------------------------------
def raw_pass(context: Context, matcher: Matcher) -> bool:
    deletion, sweep = context.deletion, context.sweep
    if deletion.raw is None or deletion.raw_bucket is None:
        return True
    receipts = context.journal.written(RAW_AREA)
    for versions in deletion.raw.versions(deletion.raw_bucket, RAW_PREFIX, after=sweep.after):
        if context.stop():
            return False
        hour = raw_hour(versions[0].key)
        start = hour[0].start_ms + int(hour[1]) * HOUR_MS if hour else 0
        if hour is None or matcher.may_cover(start, start + HOUR_MS, RAW_HOUR_MARGIN_MS):
            _raw_object(context, matcher, versions, receipts)
        sweep.after = versions[0].key
        context.looked_at()
    return True


def _raw_object(context: Context, matcher: Matcher, versions: list[ObjectVersion], receipts: set[str]) -> None:
    """The current version rewritten without the targets' lines (or removed), and every version holding
    one deleted for good: the bucket keeps noncurrent versions 30 days, so a rewrite alone would keep them."""
    raw, bucket = context.deletion.raw, context.deletion.raw_bucket
    assert raw is not None
    assert bucket is not None
    key = versions[0].key
    current = versions[0] if versions[0].latest else None

    def scanned(version: ObjectVersion) -> dict[int, list[Target]]:
        context.stats.objects_scanned += 1
        return scan_lines(raw.read(bucket, key, version.version_id).body, matcher.line)

    found = scanned(current) if current is not None else {}
    # With a delete marker on top (``aws s3 rm``), every version listed is noncurrent, the first one too.
    noncurrent = versions[1:] if current is not None else versions
    older = {version.version_id: lines for version in noncurrent if (lines := scanned(version))}
    if not found and not older:
        return
    in_older = [_union(lines) for lines in older.values()]
    if not found:
        if receipt_key(RAW_AREA, key) not in receipts:  # else: the receipt of this key's rewrite counts them
            context.journal.write(RAW_AREA, key, Receipt(key=key, removed=_tally(in_older, "raw_versions")))
        raw.delete_versions(bucket, [(key, version) for version in older])
        return
    assert current is not None
    stored = raw.read(bucket, key, current.version_id)
    with context.spool() as out:
        kept = rewrite_lines(stored.body, set(found), out)
        doomed = [current.version_id, *older] if kept else [version.version_id for version in versions]
        versions_removed = _tally([_union(found), *in_older], "raw_versions")
        removed = merged(_tally(found.values(), "raw"), versions_removed)
        context.journal.write(RAW_AREA, key, Receipt(key=key, removed=removed))
        size = out.tell()
        if kept:
            out.seek(0)
            raw.replace(bucket, key, out, stored.content_type, rewrite_metadata(stored))
        raw.delete_versions(bucket, [(key, version) for version in doomed])
    context.changed(key, kept, size)


def _union(lines: dict[int, list[Target]]) -> list[Target]:
    return list({target.request: target for targets in lines.values() for target in targets}.values())


# -- quarantine/ and events/ (the lake bucket, deterministic GZIP NDJSON) -----------------------------------
def quarantine_pass(context: Context, matcher: Matcher) -> bool:
    deletion, sweep = context.deletion, context.sweep
    for key, _, _ in deletion.lake.listing(deletion.lake_bucket, f"{QUARANTINE_ROOT}/", start_after=sweep.after):
        if context.stop():
            return False
        parsed = parse_quarantine_object_key(key)
        if parsed is not None:
            start = parsed[0].start_ms + int(parsed[1]) * HOUR_MS
            if matcher.may_cover(start, start + HOUR_MS, RAW_HOUR_MARGIN_MS):
                _lines_object(context, key, matcher.quarantined, QUARANTINE_AREA, "quarantine")
        sweep.after = key
        context.looked_at()
    return True


def events_pass(context: Context, matcher: Matcher, tenant: str, progress: TenantProgress) -> bool:
    deletion = context.deletion
    for event_type in _types(deletion, f"{EVENTS_ROOT}/"):
        prefix = events_prefix(event_type, tenant)
        for key, _, _ in deletion.lake.listing(deletion.lake_bucket, prefix, start_after=progress.after):
            if context.stop():
                return False
            parsed = parse_event_object_key(key)
            if parsed is not None and parsed.partition.tenant == tenant:
                start = int(parsed.partition.start.timestamp()) * 1000
                if matcher.may_cover(start, start + HOUR_MS):
                    hours = [(event_type, start)]
                    _lines_object(
                        context, key, matcher.line, tenant_area(tenant), f"{EVENTS_ROOT}/{event_type}", hours, tenant
                    )
            progress.after = key
            context.looked_at()
    return True


def _types(deletion: Deletion, root: str) -> list[str]:
    names = [folder[len(root) :].rstrip("/") for folder in deletion.lake.folders(deletion.lake_bucket, root)]
    return [name for name in names if is_event_type(name)]


def _lines_object(
    context: Context,
    key: str,
    decide: Callable[[bytes], list[Target]],
    area: str,
    name: str,
    hours: list[tuple[str, int]] | None = None,
    tenant: str | None = None,
) -> None:
    lake, bucket = context.deletion.lake, context.deletion.lake_bucket
    context.stats.objects_scanned += 1
    found = scan_lines(lake.open(bucket, key)[0], decide)
    if not found:
        return
    with context.spool() as out:
        kept = rewrite_lines(lake.open(bucket, key)[0], set(found), out)
        context.journal.write(area, key, Receipt(key=key, removed=_tally(found.values(), name), hours=hours or []))
        size = out.tell()
        if kept:
            out.seek(0)
            lake.put(bucket, key, out)
        else:
            if tenant is not None:
                context.deletion.state.done(tenant, [key])  # first: a pending item must not name a missing object
            lake.delete(bucket, [key])
    context.changed(key, kept, size)


# -- compacted/ (Parquet: decided on the matched columns alone) ---------------------------------------------
def compacted_pass(context: Context, matcher: Matcher, tenant: str, progress: TenantProgress) -> bool:
    deletion = context.deletion
    for event_type in _types(deletion, f"{COMPACTED_ROOT}/"):
        prefix = compacted_type_prefix(event_type, tenant)
        for key, _, size in deletion.lake.listing(deletion.lake_bucket, prefix, start_after=progress.after):
            if context.stop():
                return False
            parsed = parse_compacted_object_key(key)
            if parsed is not None and matcher.may_cover(parsed.day.start_ms, parsed.day.start_ms + DAY_MS):
                _compacted_file(context, matcher, tenant, key, size, f"{COMPACTED_ROOT}/{event_type}")
            progress.after = key
            context.looked_at()
    return True


def _fetched_if_held(
    context: Context, key: str, size: int, scratch: str, columns: list[str], test: Callable[[pa.Table], bool]
) -> str | None:
    """The Parquet file's local copy when ``test`` holds for some batch of ``columns``, else None.

    A file up to WHOLE_READ_BYTES is fetched whole first (one GET: cheaper than its footer's and columns'
    ranged GETs) and decided on the copy the rewrite then reads; a larger one is decided on ranged reads of
    those columns alone and fetched only if it holds the user."""
    lake, bucket = context.deletion.lake, context.deletion.lake_bucket
    source = os.path.join(scratch, "in.parquet")
    if size <= WHOLE_READ_BYTES:
        lake.get_file(bucket, key, source)
        with open(source, "rb") as copy:
            return source if parquet_has(copy, columns, test) else None
    if not parquet_has(lake.open_ranges(bucket, key, size), columns, test):
        return None
    lake.get_file(bucket, key, source)
    return source


def _compacted_file(context: Context, matcher: Matcher, tenant: str, key: str, size: int, name: str) -> None:
    context.stats.objects_scanned += 1
    with tempfile.TemporaryDirectory(dir=context.deletion.work_dir) as scratch:
        columns = ["received_at", *FIELDS]
        source = _fetched_if_held(
            context, key, size, scratch, columns, lambda table: bool(matcher.table(tenant, table))
        )
        if source is not None:
            _rewrite_compacted(context, matcher, tenant, key, name, source, os.path.join(scratch, "out.parquet"))


def _rewrite_compacted(
    context: Context, matcher: Matcher, tenant: str, key: str, name: str, source: str, target: str
) -> None:
    removed: dict[str, dict[str, int]] = defaultdict(dict)
    ids: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    hours: set[tuple[str, int]] = set()

    def drop(table: pa.Table) -> pa.Array | None:
        masks = matcher.table(tenant, table)
        if not masks:
            return None
        for request, mask in masks.items():
            gone = table.filter(mask)
            removed[request][name] = removed[request].get(name, 0) + gone.num_rows
            for event_id, received in zip(gone["event_id"].to_pylist(), gone["received_at"].to_pylist(), strict=True):
                ids[request][Day.of_millis(received).iso].append(event_id)
        rows = any_row(masks, table.num_rows)
        gone = table.filter(rows)
        for event_type, received in zip(gone["event_type"].to_pylist(), gone["received_at"].to_pylist(), strict=True):
            hours.add((event_type, received // HOUR_MS * HOUR_MS))
        return rows

    kept = rewrite_parquet(source, target, drop)
    receipt = Receipt(
        key=key,
        removed=dict(removed),
        ids={request: dict(days) for request, days in ids.items()},
        hours=sorted(hours),
    )
    _commit_parquet(context, tenant, key, receipt, target if kept else None)


def _commit_parquet(context: Context, tenant: str, key: str, receipt: Receipt, rewritten: str | None) -> None:
    """The receipt first, then the file replaced by its rewrite (``rewritten``), or removed when no row is
    left (None): a crash between the two finds the receipt and, run again, writes the same one."""
    lake, bucket = context.deletion.lake, context.deletion.lake_bucket
    context.journal.write(tenant_area(tenant), key, receipt)
    if rewritten is not None:
        lake.put_file(bucket, key, rewritten)
    else:
        lake.delete(bucket, [key])
    context.changed(key, rewritten is not None, os.path.getsize(rewritten) if rewritten is not None else 0)


# -- the ledger: the removed rows' ids, read back from the receipts ---------------------------------------
def ledger_pass(context: Context, tenant: str, progress: TenantProgress) -> bool:
    deletion = context.deletion
    lake, bucket = deletion.lake, deletion.lake_bucket
    by_day: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for receipt in context.journal.receipts(tenant_area(tenant)):
        for request, days in receipt.ids.items():
            for day, event_ids in days.items():
                by_day[day][request].update(event_ids)
    for label, owners in sorted(by_day.items()):
        wanted = pa.array(sorted(set().union(*owners.values())), pa.string())
        for key, _, size in lake.listing(
            bucket, ledger_prefix(tenant, Day(*label.split("-"))), start_after=progress.after
        ):
            if context.stop():
                return False
            if parse_ledger_object_key(key) is not None:
                _ledger_file(context, tenant, key, size, wanted, owners)
            progress.after = key
            context.looked_at()
    return True


def _ledger_file(
    context: Context, tenant: str, key: str, size: int, wanted: pa.Array, owners: dict[str, set[str]]
) -> None:
    context.stats.objects_scanned += 1

    def holds(table: pa.Table) -> bool:
        return bool(pc.any(pc.is_in(table["event_id"], value_set=wanted)).as_py())

    with tempfile.TemporaryDirectory(dir=context.deletion.work_dir) as scratch:
        source = _fetched_if_held(context, key, size, scratch, ["event_id"], holds)
        if source is not None:
            _rewrite_ledger(context, tenant, key, wanted, owners, source, os.path.join(scratch, "out.parquet"))


def _rewrite_ledger(
    context: Context, tenant: str, key: str, wanted: pa.Array, owners: dict[str, set[str]], source: str, target: str
) -> None:
    removed: dict[str, dict[str, int]] = defaultdict(dict)

    def drop(table: pa.Table) -> pa.Array:
        rows = pc.is_in(table["event_id"], value_set=wanted)
        gone = set(table.filter(rows)["event_id"].to_pylist())
        for request, event_ids in owners.items():
            if count := len(gone & event_ids):
                removed[request]["ledger"] = removed[request].get("ledger", 0) + count
        return rows

    kept = rewrite_parquet(source, target, drop)
    _commit_parquet(context, tenant, key, Receipt(key=key, removed=dict(removed)), target if kept else None)


# -- counters: recounted from the ledger, and any keyed by the user's id deleted ----------------------------
def counters_pass(context: Context, matcher: Matcher, tenant: str) -> None:
    """The hours that lost events are recounted (their counts equal the compacted tables again), except
    hours with objects still pending (their Compact recounts them); then every counter of the tenant's
    types whose key is the user's id or holds it as a part (a URL's path segment or query value:
    matching.key_parts), on the days the user's events were removed, is deleted (all its days)."""
    deletion, counters = context.deletion, context.deletion.counters
    if counters is None:
        return
    area = tenant_area(tenant)
    hours = {(event_type, hour) for receipt in context.journal.receipts(area) for event_type, hour in receipt.hours}
    pending = {
        (parsed.partition.event_type, int(parsed.partition.start.timestamp()) * 1000)
        for item in deletion.state.pending(tenant)
        if (parsed := parse_event_object_key(item.key)) is not None
    }
    partitions = [_partition(tenant, event_type, hour) for event_type, hour in sorted(hours - pending)]
    recount = Recount(counters.store, counters.limits)
    recount_partitions(partitions, tenant, recount, deletion.lake, deletion.lake_bucket, now=context.now)
    for event_type, day in sorted({(event_type, Day.of_millis(hour).iso) for event_type, hour in hours}):
        for encoded in sorted(counters.store.day_keys(tenant, event_type, day, ALL_HOURS)):
            if not encoded.startswith("k:"):
                continue  # the overflow counter, or a key too long to be an id (kept as a hash)
            parts = key_parts(encoded[2:])
            owners = [
                t for t in matcher.targets if any(subject_digest(tenant, t.selector, p) == t.subject for p in parts)
            ]
            if owners:
                pk = counter_pk(tenant, event_type, encoded)
                removed = {target.request: {"counters": 1} for target in owners}
                context.journal.write(area, "counter\n" + pk, Receipt(key="counter", removed=removed))
                counters.store.delete_counter(pk)


def rollups_pass(context: Context, tenant: str) -> None:
    """The daily rollup of every day whose compacted rows lost events is recomputed from what is left, so its
    counts (and top keys) are the compacted tables' again. Only days with a rollup already (written by
    Compact, their partition registered; a day compacted before rollups existed has none). Run from the
    receipts, after the counters, so a crash before it ends runs it again."""
    rollups = context.deletion.rollups
    if rollups is None:
        return
    receipts = context.journal.receipts(tenant_area(tenant))
    days = {Day.of_millis(hour) for receipt in receipts for _, hour in receipt.hours}
    kept = [day for day in sorted(days) if has_rollup(rollups.lake, rollups.bucket, tenant, day)]
    roll_up_days(rollups, tenant, kept)
    context.stats.changed += [daily_counts_object_key(tenant, day) for day in kept]


def _partition(tenant: str, event_type: str, hour: int) -> RawPartitionRef:
    moment = datetime.fromtimestamp(hour / 1000, tz=UTC)
    return RawPartitionRef(
        event_type=event_type,
        tenant=tenant,
        year=f"{moment:%Y}",
        month=f"{moment:%m}",
        day=f"{moment:%d}",
        hour=f"{moment:%H}",
    )
