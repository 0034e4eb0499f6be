"""Compaction at scale: time and peak memory against partition size, rows read over a day, Plan's time.

1. **Engine against the floor.** For each size (100k, 1M, 3M ``track`` events
   with eight properties, about 1 in 20 a client resend of an earlier event,
   spread over the 24 hours of a day in lake objects of 5,000 lines, as the
   fan-out writes them), two fresh processes on the same files in a local
   directory (not moto: an emulator's memory would be measured too):
   - *floor*: pyarrow reads every object, keeps the first copy of each
     event id, writes one Parquet file;
   - *compact*: the deployed ``compact_tenant`` (lease, queue, spill buckets,
     ledger, one Parquet file per type and day).
   Printed: seconds, time ÷ floor, peak RSS of each process.
2. **Rows read over a day of hourly runs**: a day with data every hour,
   compacted after each hour; rows read by compaction ÷ rows that landed
   (the previous design re-read the whole day every run: sum(h)/24 = 12.5x).
3. **Plan's time** with 10k and 100k lake objects already compacted and 200
   pending, against the queue in (moto) DynamoDB.
4. **The ledger's cost**: an hourly unit (1,000 events) against a dedup
   window whose ledger holds 0, 1M and 4M ids (24 files, as hourly units
   leave them), each in a fresh process: peak RSS and time, to show memory
   does not follow the ledger; and the ledger ids a day of hourly runs reads
   once the previous day is compacted (the steady state).

Run: ``make bench`` or ``.venv/bin/python bench/compaction_bench.py [--sizes 100000,1000000] [--ledgers 0,1000000]``.
Generated data is kept under ``$TMPDIR/event-collector-bench`` for the next run.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]
os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
os.environ.pop("AWS_ENDPOINT_URL", None)

from bench.directory_store import DirectoryStore  # noqa: E402
from event_collector.compaction.compact import Compaction, compact_tenant  # noqa: E402
from event_collector.compaction.contracts import CompactRequest  # noqa: E402
from event_collector.ingest.validation import validate_batch  # noqa: E402
from event_collector.lake.layout import HourPartition, event_object_key, events_prefix, run_item_key  # noqa: E402
from event_collector.lake.queue import PendingObject  # noqa: E402
from tests.fakes.catalog import MemoryCatalog  # noqa: E402
from tests.fakes.compaction_state import MemoryCompactionState  # noqa: E402

DATA_ROOT = Path(tempfile.gettempdir()) / "event-collector-bench"
SIZES = (100_000, 1_000_000, 3_000_000)
LINES_PER_OBJECT = 5_000
RESEND_EVERY = 20
TENANT = "acme"
LAKE = "lake"
DAY = datetime(2026, 11, 20, tzinfo=UTC)
DAY_MS = int(DAY.timestamp() * 1000)
HOUR_MS = 3_600_000
CUTOFF = DAY + timedelta(days=2)
NAMES = [f"Event {i}" for i in range(40)]


def track_event(rng: random.Random, number: int) -> dict[str, Any]:
    return {
        "event_type": "track",
        "event_id": f"e-{number}",
        "name": rng.choice(NAMES),
        "properties": {
            "plan": rng.choice(["free", "pro", "team"]),
            "seats": rng.randrange(1, 500),
            "price": round(rng.random() * 100, 2),
            "trial": rng.random() < 0.3,
            "country": rng.choice(["DE", "FR", "US", "JP", "BR"]),
            "campaign": f"c-{rng.randrange(1000)}",
            "tags": [f"t{rng.randrange(20)}" for _ in range(rng.randrange(4))],
            "referrer": {"host": f"site{rng.randrange(100)}.example", "path": f"/p/{rng.randrange(10**4)}"},
        },
    }


def generate(rows: int, root: Path) -> list[PendingObject]:
    """Lake objects of one tenant's day, written as the fan-out writes them; returns the queue's items."""
    rng = random.Random(rows)
    objects: list[PendingObject] = []
    store = DirectoryStore(root)
    per_hour = max(1, rows // 24)
    number = 0
    for index in range((rows + LINES_PER_OBJECT - 1) // LINES_PER_OBJECT):
        count = min(LINES_PER_OBJECT, rows - index * LINES_PER_OBJECT)
        start = index * LINES_PER_OBJECT
        hour = min(23, start // per_hour)
        events = []
        for _ in range(count):
            resend = number % RESEND_EVERY == 0 and number > 1000
            event = track_event(rng, number - 997 if resend else number)  # a resend: an earlier id, later
            events.append(event)
            number += 1
        received_at = DAY_MS + hour * HOUR_MS + index
        lines = []
        for first in range(0, count, 500):  # the API's batches
            batch = validate_batch(events[first : first + 500], tenant=TENANT, received_at=received_at)
            assert not batch.rejected
            lines += [accepted.line for accepted in batch.accepted]
        body = gzip.compress(b"".join(lines), compresslevel=6)
        key = event_object_key(HourPartition.of("track", TENANT, received_at), f"{index:032x}")
        etag = store.put(LAKE, key, io.BytesIO(body))
        objects.append(PendingObject(key, etag, len(body), int((DAY_MS + (hour + 1) * HOUR_MS) / 1000)))
    return objects


def dataset(rows: int) -> tuple[Path, list[PendingObject]]:
    root = DATA_ROOT / f"track-{rows}"
    manifest = root / "manifest.json"
    if not manifest.exists():
        print(f"  generating {rows:,} events ...", flush=True)
        objects = generate(rows, root)
        manifest.write_text(json.dumps([o.__dict__ for o in objects]))
    return root, [PendingObject(**item) for item in json.loads(manifest.read_text())]


# -- the two sides, each in a fresh process -------------------------------------------------------


def run_floor(root: Path, objects: list[PendingObject], scratch: Path) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    tables = []
    for item in objects:
        with gzip.open(root / LAKE / item.key, "rb") as handle:
            tables.append(pj.read_json(handle))
    table = pa.concat_tables(tables, promote_options="default")
    table = table.append_column("_i", pa.array(range(table.num_rows), pa.int64()))
    first = table.group_by("event_id").aggregate([("_i", "min")])
    kept = table.take(first["_i_min"]).drop_columns(["_i"])
    pq.write_table(kept, scratch / "floor.parquet", compression="snappy")
    return {"rows_in": table.num_rows, "rows_out": kept.num_rows}


def run_compact(root: Path, objects: list[PendingObject], scratch: Path) -> dict[str, Any]:
    state = MemoryCompactionState()
    state.enqueue(TENANT, objects)
    compaction = Compaction(
        lake_bucket=LAKE,
        store=DirectoryStore(root),
        state=state,
        catalog=MemoryCatalog(),
        work_dir=str(scratch),
    )
    request = CompactRequest(item_key=run_item_key("bench", TENANT), run_id="bench", cutoff=CUTOFF)
    result = compact_tenant(request, compaction, now=CUTOFF)
    # The next run of the benchmark starts from the same lake: drop this run's outputs.
    for prefix in ("compacted", "ledger"):
        shutil.rmtree(root / LAKE / prefix, ignore_errors=True)
    return {
        "rows_in": result.rows_in,
        "rows_out": result.rows_out,
        "files_out": result.files_out,
        "bytes_in": result.bytes_in,
        "bytes_out": result.bytes_out,
    }


LEDGER_UNIT_EVENTS = 1_000
LEDGER_FILES = 24


def ledger_dataset(ids: int) -> tuple[Path, list[PendingObject]]:
    """An hourly unit of 1,000 events (1 in 10 a resend of a ledger id) and a ledger of ``ids`` ids."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from event_collector.compaction.engine import LEDGER_BATCH_ROWS, LEDGER_SCHEMA
    from event_collector.lake.layout import Day, ledger_object_key

    root = DATA_ROOT / f"ledger-{ids}"
    manifest = root / "manifest.json"
    if manifest.exists():
        return root, [PendingObject(**item) for item in json.loads(manifest.read_text())]
    print(f"  generating a ledger of {ids:,} ids ...", flush=True)
    root.mkdir(parents=True, exist_ok=True)
    store = DirectoryStore(root)
    day = Day.of(DAY)
    per_file = -(-ids // LEDGER_FILES) if ids else 0
    for number in range(LEDGER_FILES if ids else 0):
        first = number * per_file
        names = [f"{n:032x}" for n in range(first, min(ids, first + per_file))]  # UUID-sized ids
        table = pa.table(
            {
                "event_id": names,
                "event_type": ["track"] * len(names),
                "received_at": pa.array([DAY_MS + number * HOUR_MS] * len(names), pa.int64()),
                "counter_key": [f"Step {n % 100}" for n in range(len(names))],
            },
            schema=LEDGER_SCHEMA,
        )
        path = root / "ledger.parquet"
        pq.write_table(table, path, compression="snappy", row_group_size=LEDGER_BATCH_ROWS)  # as the engine does
        store.put_file(LAKE, ledger_object_key(TENANT, day, f"{number + 1:032x}"), str(path))
        path.unlink()
    rng = random.Random(ids)
    events = [track_event(rng, n) for n in range(LEDGER_UNIT_EVENTS)]
    for index in range(0, LEDGER_UNIT_EVENTS, 10):
        if ids:
            events[index]["event_id"] = f"{rng.randrange(ids):032x}"  # a resend of an already compacted event
    received_at = DAY_MS + 23 * HOUR_MS
    lines = []
    for first in range(0, LEDGER_UNIT_EVENTS, 500):
        batch = validate_batch(events[first : first + 500], tenant=TENANT, received_at=received_at)
        lines += [accepted.line for accepted in batch.accepted]
    body = gzip.compress(b"".join(lines))
    key = event_object_key(HourPartition.of("track", TENANT, received_at), "f" * 32)
    etag = store.put(LAKE, key, io.BytesIO(body))
    objects = [PendingObject(key, etag, len(body), (received_at + HOUR_MS) // 1000)]
    manifest.write_text(json.dumps([o.__dict__ for o in objects]))
    return root, objects


def run_ledger(root: Path, objects: list[PendingObject], scratch: Path) -> dict[str, Any]:
    state = MemoryCompactionState()
    state.enqueue(TENANT, objects)
    compaction = Compaction(
        lake_bucket=LAKE, store=DirectoryStore(root), state=state, catalog=MemoryCatalog(), work_dir=str(scratch)
    )
    request = CompactRequest(item_key=run_item_key("bench", TENANT), run_id="bench", cutoff=CUTOFF)
    result = compact_tenant(request, compaction, now=CUTOFF)
    # The next run starts from the same lake: drop this unit's outputs, keep the generated ledger.
    shutil.rmtree(root / LAKE / "compacted", ignore_errors=True)
    for own in (root / LAKE / "ledger").rglob(f"{result.unit}.parquet"):
        own.unlink()
    return {
        "rows_in": result.rows_in,
        "rows_out": result.rows_out,
        "bytes_in": result.bytes_in,
        "ledger_ids_read": result.ledger_ids_read,
        "duplicates_already_compacted": result.duplicates_already_compacted,
    }


def peak_rss() -> int:
    """This process's peak RSS in bytes: ``VmHWM``, which starts afresh at ``exec``. (``ru_maxrss`` does
    not: Linux carries the spawning process's RSS over, so a big parent would inflate every child.)"""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(mode: str, rows: int) -> None:
    if mode == "ledger":
        root, objects = ledger_dataset(rows)
        with tempfile.TemporaryDirectory() as scratch:
            start = time.perf_counter()
            outcome = run_ledger(root, objects, Path(scratch))
            seconds = time.perf_counter() - start
        print(json.dumps({**outcome, "seconds": seconds, "rss_peak": peak_rss()}))
        return
    root, objects = dataset(rows)
    with tempfile.TemporaryDirectory() as scratch:
        baseline = peak_rss()
        start = time.perf_counter()
        outcome = (run_floor if mode == "floor" else run_compact)(root, objects, Path(scratch))
        seconds = time.perf_counter() - start
    print(json.dumps({**outcome, "seconds": seconds, "rss_peak": peak_rss(), "rss_at_start": baseline}))


def measure(mode: str, rows: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--rows", str(rows)], capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def engine_curve(sizes: list[int]) -> None:
    print("1. Compact against the floor (fresh process each; peak RSS includes the interpreter and pyarrow)")
    print(f"{'rows':>10} {'floor s':>8} {'compact s':>9} {'ratio':>6} {'floor peak':>11} {'compact peak':>13}")
    for rows in sizes:
        dataset(rows)  # generated once, outside the measured processes
        floor, compact = measure("floor", rows), measure("compact", rows)
        assert compact["rows_out"] == floor["rows_out"], (compact, floor)
        print(
            f"{rows:>10,} {floor['seconds']:>8.1f} {compact['seconds']:>9.1f} "
            f"{compact['seconds'] / floor['seconds']:>5.2f}x "
            f"{floor['rss_peak'] / 2**20:>8.0f} MB {compact['rss_peak'] / 2**20:>10.0f} MB"
            f"   {compact['bytes_in'] / 2**20:.0f} MB GZIP -> {compact['bytes_out'] / 2**20:.0f} MB Parquet,"
            f" {rows - compact['rows_out']:,} resends removed"
        )


def rows_read_over_a_day(rows_per_hour: int = 1_000) -> None:
    """Two days of hourly runs; the figures are the second day's (the previous day is in the ledger)."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        store = DirectoryStore(root)
        state = MemoryCompactionState()
        compaction = Compaction(lake_bucket=LAKE, store=store, state=state, catalog=MemoryCatalog())
        rng = random.Random(5)
        landed = read = ids_read = 0
        for hour in range(48):
            if hour == 24:  # count the second day only
                landed = read = ids_read = 0
            for part in range(2):
                received_at = DAY_MS + hour * HOUR_MS + part
                events = [track_event(rng, hour * rows_per_hour + part * 500 + i) for i in range(rows_per_hour // 2)]
                batch = validate_batch(events, tenant=TENANT, received_at=received_at, request_id=f"h{hour}p{part}")
                body = gzip.compress(b"".join(accepted.line for accepted in batch.accepted))
                key = event_object_key(HourPartition.of("track", TENANT, received_at), f"{hour:02d}{part:030x}")
                etag = store.put(LAKE, key, io.BytesIO(body))
                hour_end = (DAY_MS + (hour + 1) * HOUR_MS) // 1000
                state.enqueue(TENANT, [PendingObject(key, etag, len(body), hour_end)])
                landed += len(batch.accepted)
            cutoff = DAY + timedelta(hours=hour + 1)
            request = CompactRequest(item_key=run_item_key(f"h{hour}", TENANT), run_id=f"h{hour}", cutoff=cutoff)
            result = compact_tenant(request, compaction, now=cutoff)
            read += result.rows_in
            ids_read += result.ledger_ids_read
    previous = sum(h * rows_per_hour for h in range(1, 25)) / (24 * rows_per_hour)
    print(
        f"2. Rows read over a day of 24 hourly runs: {read:,} read for {landed:,} landed = {read / landed:.2f}x "
        f"(the previous design re-read the day every run: {previous:.1f}x); ledger ids read that day "
        f"(dedup window 1, previous day compacted): {ids_read:,} = {ids_read / landed:.1f}x the rows landed"
    )


def plan_time(lake_sizes: tuple[int, ...] = (10_000, 100_000), pending: int = 200) -> None:
    import boto3
    from moto import mock_aws

    from event_collector.aws.compaction_state import CompactionStateTable
    from event_collector.compaction.contracts import PlanRequest
    from event_collector.compaction.plan import plan

    timings = []
    for size in lake_sizes:
        with mock_aws():
            dynamodb = boto3.client("dynamodb")
            dynamodb.create_table(
                TableName="state",
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            )
            queue = CompactionStateTable(dynamodb, "state")
            hour_end = (DAY_MS + HOUR_MS) // 1000

            def objects(count: int, label: str, hour_end: int = hour_end) -> list[PendingObject]:
                return [
                    PendingObject(f"{events_prefix('track', 'tt')}{label}-{i}", "e", 1000, hour_end)
                    for i in range(count)
                ]

            for tenant in range(10):  # the lake's history: written, queued, compacted
                compacted = objects(size // 10, f"{tenant}")
                queue.enqueue(f"t{tenant}", compacted)
                queue.done(f"t{tenant}", [o.key for o in compacted])
            for tenant in range(10):
                queue.enqueue(f"t{tenant}", objects(pending // 10, f"new-{tenant}"))
            request = PlanRequest(run_id="bench")
            start = time.perf_counter()
            outcome, items = plan(
                request, queue, now=CUTOFF, grace=timedelta(minutes=20), lake_bucket=LAKE, max_concurrency=10
            )
            timings.append(time.perf_counter() - start)
            assert outcome.objects == pending
            assert len(items) == 10
    print(
        f"3. Plan with {pending} pending objects: {lake_sizes[0]:,} lake objects {timings[0] * 1000:.0f} ms, "
        f"{lake_sizes[1]:,} lake objects {timings[1] * 1000:.0f} ms ({timings[1] / timings[0]:.2f}x for 10x the lake)"
    )


def ledger_curve(sizes: list[int]) -> None:
    print("4. An hourly unit (1,000 events) against a ledger of N ids in its window (fresh process each)")
    print(f"{'ledger ids':>11} {'seconds':>8} {'peak RSS':>9} {'ids read':>10} {'resends dropped':>16}")
    for ids in sizes:
        ledger_dataset(ids)  # generated once, outside the measured process
        found = measure("ledger", ids)
        print(
            f"{ids:>11,} {found['seconds']:>8.2f} {found['rss_peak'] / 2**20:>6.0f} MB "
            f"{found['ledger_ids_read']:>10,} {found['duplicates_already_compacted']:>16,}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--ledgers", default="0,1000000,4000000")
    parser.add_argument("--child", choices=("floor", "compact", "ledger"))
    parser.add_argument("--rows", type=int)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows)
        return
    if args.sizes:
        engine_curve([int(size) for size in args.sizes.split(",")])
    rows_read_over_a_day()
    plan_time()
    ledger_curve([int(size) for size in args.ledgers.split(",")])


if __name__ == "__main__":
    main()
