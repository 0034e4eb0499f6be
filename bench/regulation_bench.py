"""Deleting one user from a lake of a million rows: what the sweep reads and rewrites, against rewriting
every file, measured in the same run.

The lake: one tenant's ``track`` events (eight properties, 10,000 users), 1,000,000 rows landed as 100
``events/`` objects of 10,000 lines (as the fan-out writes them, 20 hourly objects a day over 5 days) and
compacted by the real Compact one unit per object: 100 compacted Parquet files and 100 ledger files. The
user to delete has 5 events in each of 3 units (15 rows in 3 of the 100 files).

1. **The sweep** (``privacy/sweep.py``, the lake's passes: events/, compacted/, the ledger; the raw bucket
   and the counters are left out, docs/privacy.md prices them): per prefix, the files it read (whole or in
   ranges), the files it rewrote (named), bytes read and written, S3 requests, and the time.
2. **The baseline**, on a fresh copy of the same lake: every file of the three prefixes read whole and
   written back without the user's rows (what a deletion that does not decide first would do).

Printed: both, the ratio sweep ÷ baseline of each figure, and the cost of the deletion at list prices
(``bench/prices.py``). Storage is a local directory counting what S3 would carry and bill
(``bench/directory_store.py``), so the figures are the sweep's own, not an emulator's.

Run: ``make bench`` or ``.venv/bin/python bench/regulation_bench.py [--quick]`` (``--quick``: 100,000 rows
in 10 files, a first look in a minute). The lake is kept under
``$TMPDIR/event-collector-bench`` for the next run.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]
os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")

from bench import prices  # noqa: E402
from bench.compaction_bench import track_event  # noqa: E402
from bench.directory_store import DirectoryStore  # noqa: E402
from event_collector.compaction.compact import Compaction, compact_tenant  # noqa: E402
from event_collector.compaction.contracts import CompactRequest, Plan, RegulateRequest  # noqa: E402
from event_collector.ingest.validation import validate_batch  # noqa: E402
from event_collector.lake.fan_out import deterministic_gzip  # noqa: E402
from event_collector.lake.layout import HourPartition, event_object_key, run_item_key  # noqa: E402
from event_collector.lake.queue import PendingObject  # noqa: E402
from event_collector.privacy.matching import Matcher, Target, any_row  # noqa: E402
from event_collector.privacy.passes import Deletion  # noqa: E402
from event_collector.privacy.regulations import Regulation, request_id, subject_digest  # noqa: E402
from event_collector.privacy.rewrite import rewrite_lines, rewrite_parquet, scan_lines  # noqa: E402
from event_collector.privacy.sweep import apply_regulations  # noqa: E402
from tests.fakes.catalog import MemoryCatalog  # noqa: E402
from tests.fakes.compaction_state import MemoryCompactionState  # noqa: E402
from tests.fakes.regulations import MemoryRegulations  # noqa: E402

DATA_ROOT = Path(tempfile.gettempdir()) / "event-collector-bench"
TENANT, LAKE = "acme", "lake"
DAY = datetime(2026, 11, 1, tzinfo=UTC)
HOUR_MS = 3_600_000
UNITS_PER_DAY = 20
USERS = 10_000
TARGET = "user-to-delete-5c1f"
TARGET_UNITS = (7, 42, 77)
TARGET_ROWS = (101, 2_003, 4_005, 6_007, 8_009)
REQUESTED = DAY + timedelta(days=30)
LAMBDA_GB = 3008 / 1024  # the Regulate function's memory
PREFIXES = ("events", "compacted", "ledger", "regulations")


def landed(unit: int, rows: int) -> list[bytes]:
    """The unit's lines as the collector stores them (validated, enriched, canonical)."""
    rng = random.Random(unit)
    events = []
    for index in range(rows):
        event = track_event(rng, unit * rows + index)
        event["user_id"] = TARGET if unit in TARGET_UNITS and index in TARGET_ROWS else f"user-{rng.randrange(USERS)}"
        event["anonymous_id"] = f"anon-{rng.randrange(USERS * 3)}"
        events.append(event)
    received_at = (
        int((DAY + timedelta(days=unit // UNITS_PER_DAY)).timestamp() * 1000) + (unit % UNITS_PER_DAY) * HOUR_MS
    )
    lines: list[bytes] = []
    for first in range(0, rows, 500):  # the API's batches
        batch = validate_batch(events[first : first + 500], tenant=TENANT, received_at=received_at + first)
        assert not batch.rejected
        lines += [accepted.line for accepted in batch.accepted]
    return lines


def generate(root: Path, units: int, rows: int) -> None:
    """events/ objects as the fan-out writes them, each compacted as one unit by the real Compact."""
    store, state = DirectoryStore(root), MemoryCompactionState()
    compaction = Compaction(lake_bucket=LAKE, store=store, state=state, catalog=MemoryCatalog(), work_dir=str(root))
    for unit in range(units):
        lines = landed(unit, rows)
        body = io.BytesIO()
        with deterministic_gzip(body) as writer:
            writer.write(b"".join(lines))
        first = int(lines[0].split(b'"received_at":')[1].split(b",")[0])
        partition = HourPartition.of("track", TENANT, first)
        key = event_object_key(partition, f"{unit:032x}")
        etag = store.put(LAKE, key, io.BytesIO(body.getvalue()))
        state.enqueue(TENANT, [PendingObject(key, etag, len(body.getvalue()), int(partition.end.timestamp()))])
        request = CompactRequest(item_key=run_item_key(f"gen-{unit}", TENANT), run_id=f"gen-{unit}", cutoff=REQUESTED)
        assert compact_tenant(request, compaction, REQUESTED).status == "ok"
        if unit % 10 == 9:
            print(f"  compacted {unit + 1} of {units} units", flush=True)


def lake(units: int, rows: int) -> Path:
    root = DATA_ROOT / f"regulation-{units}x{rows}"
    if not (root / "done").exists():
        shutil.rmtree(root, ignore_errors=True)
        print(f"  generating {units * rows:,} rows in {units} units ...", flush=True)
        generate(root, units, rows)
        (root / "done").write_text("ok")
    return root


def copy_of(source: Path, scratch: Path, name: str) -> DirectoryStore:
    target = scratch / name
    shutil.copytree(source / LAKE, target / LAKE)
    return DirectoryStore(target)


def regulation() -> Regulation:
    subject = subject_digest(TENANT, "user_id", TARGET)
    requested = int(REQUESTED.timestamp() * 1000)
    return Regulation(request_id(TENANT, "delete", "user_id", subject), TENANT, "delete", "user_id", subject, requested)


def run_sweep(store: DirectoryStore) -> dict[str, Any]:
    regulations, state = MemoryRegulations(), MemoryCompactionState()
    regulations.put_request(regulation())
    plan = Plan(
        run_id="bench",
        cutoff=REQUESTED + timedelta(hours=1),
        items=0,
        objects=0,
        waiting=0,
        bucket=LAKE,
        items_prefix="compaction/runs/bench/items/",
        results_prefix="compaction/runs/bench/results/",
        max_concurrency=1,
    )
    deletion = Deletion(lake_bucket=LAKE, lake=store, state=state, work_dir=str(store.root))
    started = time.perf_counter()
    result, stats = apply_regulations(
        RegulateRequest(plan=plan), deletion, regulations, now=REQUESTED + timedelta(hours=1), budget=_Unlimited()
    )
    seconds = time.perf_counter() - started
    assert (result.applied, result.complete) == (1, True), result
    (stored,) = regulations.stored.values()
    return {"seconds": seconds, "changed": stats.changed, "removed": stored.removed}


class _Unlimited:
    def left(self) -> bool:
        return True


def run_baseline(store: DirectoryStore, scratch: Path) -> dict[str, Any]:
    """Every file of every prefix read whole and written back without the user's rows (no deciding)."""
    target = Target.of(regulation())
    matcher = Matcher([target])
    ids: set[str] = set()
    started = time.perf_counter()
    changed = []
    for key, _, _ in list(store.listing(LAKE, "events/")):
        dropped = set(scan_lines(store.open(LAKE, key)[0], matcher.line))
        out = io.BytesIO()
        rewrite_lines(store.open(LAKE, key)[0], dropped, out)
        store.put(LAKE, key, io.BytesIO(out.getvalue()))
        changed.append(key)
    for prefix in ("compacted/", "ledger/"):
        for key, _, _ in list(store.listing(LAKE, prefix)):
            source, output = str(scratch / "in.parquet"), str(scratch / "out.parquet")
            store.get_file(LAKE, key, source)

            def drop(table: Any, ledger: bool = prefix == "ledger/") -> Any:
                if ledger:
                    import pyarrow.compute as pc

                    return pc.is_in(table["event_id"], value_set=_array(ids))
                masks = matcher.table(TENANT, table)
                if masks:
                    rows = any_row(masks, table.num_rows)
                    ids.update(table.filter(rows)["event_id"].to_pylist())
                    return rows
                return None

            rewrite_parquet(source, output, drop)
            store.put_file(LAKE, key, output)
            changed.append(key)
    return {"seconds": time.perf_counter() - started, "changed": changed, "ids": len(ids)}


def _array(ids: set[str]) -> Any:
    import pyarrow as pa

    return pa.array(sorted(ids), pa.string())


def figures(store: DirectoryStore, changed: list[str]) -> dict[str, dict[str, int]]:
    traffic = store.traffic
    found = {}
    for prefix in PREFIXES:
        found[prefix] = {
            "scanned": len(traffic.keys_read.get(prefix, ())),
            "rewritten": sum(key.startswith(prefix + "/") for key in changed),
            "read": traffic.bytes_read[prefix],
            "written": traffic.bytes_written[prefix],
            "get": traffic.requests[(prefix, "GET")],
            "put": traffic.requests[(prefix, "PUT")],
            "list": traffic.requests[(prefix, "LIST")],
            "delete": traffic.requests[(prefix, "DELETE")],
        }
    found["total"] = {name: sum(row[name] for row in found.values()) for name in found["events"]}
    return found


def lake_bytes(root: Path) -> dict[str, int]:
    return {
        prefix: sum(p.stat().st_size for p in (root / LAKE / prefix).rglob("*") if p.is_file())
        for prefix in PREFIXES[:3]
    }


def table(label: str, rows: dict[str, dict[str, int]], seconds: float) -> None:
    print(f"\n{label} ({seconds:.2f} s)")
    print(
        f"  {'prefix':<12} {'scanned':>8} {'rewritten':>10} {'MB read':>9} {'MB written':>11} {'GET':>6} {'PUT':>5} {'LIST':>5}"
    )
    for prefix, row in rows.items():
        print(
            f"  {prefix:<12} {row['scanned']:>8} {row['rewritten']:>10} {row['read'] / 1e6:>9.2f} "
            f"{row['written'] / 1e6:>11.2f} {row['get']:>6} {row['put']:>5} {row['list']:>5}"
        )


def ratio(part: float, whole: float) -> str:
    return f"{part / whole:.3f}x" if whole else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100,000 rows in 10 files")
    arguments = parser.parse_args()
    units, rows = (10, 10_000) if arguments.quick else (100, 10_000)
    source = lake(units, rows)
    sizes = lake_bytes(source)
    print(
        f"Regulation bench: {units * rows:,} rows, {units} compacted files ({sizes['compacted'] / 1e6:.1f} MB), "
        f"{units} ledger files ({sizes['ledger'] / 1e6:.1f} MB), {units} events/ objects "
        f"({sizes['events'] / 1e6:.1f} MB GZIP); the user: {len(TARGET_ROWS)} rows in each of "
        f"{sum(unit < units for unit in TARGET_UNITS)} units"
    )
    with tempfile.TemporaryDirectory(dir=DATA_ROOT) as scratch_dir:
        scratch = Path(scratch_dir)
        swept_store = copy_of(source, scratch, "sweep")
        swept = run_sweep(swept_store)
        baseline_store = copy_of(source, scratch, "baseline")
        (scratch / "work").mkdir()
        baseline = run_baseline(baseline_store, scratch / "work")
        sweep_rows, baseline_rows = figures(swept_store, swept["changed"]), figures(baseline_store, baseline["changed"])
        table("The sweep", sweep_rows, swept["seconds"])
        print("  rewritten:")
        for key in swept["changed"]:
            print(f"    {key}")
        print(f"  removed (the request's counts): {swept['removed']}")
        table("Baseline: every file rewritten", baseline_rows, baseline["seconds"])
        total, base = sweep_rows["total"], baseline_rows["total"]
        print(
            f"\nsweep / baseline: time {ratio(swept['seconds'], baseline['seconds'])}, "
            f"files rewritten {ratio(total['rewritten'], base['rewritten'])}, "
            f"bytes read {ratio(total['read'], base['read'])}, bytes written {ratio(total['written'], base['written'])}, "
            f"S3 requests {ratio(total['get'] + total['put'] + total['list'], base['get'] + base['put'] + base['list'])}"
        )
        cost(total, swept["seconds"])


def cost(total: dict[str, int], seconds: float) -> None:
    gets, puts = total["get"], total["put"] + total["list"] + total["delete"]
    # DynamoDB: the requests' scan and two marks, the sweep's and the tenant's leases (acquire, release), the
    # tenant's pending objects; the counters' recount and deletion are priced in docs/privacy.md.
    writes, reads = 2 + 4, 2
    lambda_usd = seconds * LAMBDA_GB * prices.LAMBDA_ARM_GB_SECOND.usd + prices.LAMBDA_REQUEST.usd
    usd = {
        f"S3 GET ({gets})": gets * prices.S3_GET.usd,
        f"S3 PUT/LIST/DELETE ({puts})": puts * prices.S3_PUT.usd,
        f"DynamoDB ({writes} writes, {reads} reads)": writes * prices.DYNAMODB_WRITE_UNIT.usd
        + reads * prices.DYNAMODB_READ_UNIT.usd,
        f"Lambda ({seconds:.1f} s at 3,008 MB)": lambda_usd,
    }
    print("\nCost of this deletion (list prices, us-east-1, this machine's seconds):")
    for name, value in usd.items():
        print(f"  {name:<40} ${value:.6f}")
    print(f"  {'total':<40} ${sum(usd.values()):.6f}")


if __name__ == "__main__":
    main()
