"""The daily rollup at scale: time and peak memory against a type's day size, partitioned against in memory.

For each size (1M, 3M, 10M page views of one tenant and day: 10,000 URLs, 200,000 sessions, 150,000
anonymous users, in compacted files of 1M rows as the Lambda engine leaves them, with their ledger), two
fresh processes roll the day up from the same files in a local directory (not moto: an emulator's memory
would be measured too):

- *in memory* (the baseline): ``SPILL_ROWS`` above the day's rows, so the whole day's three columns are
  held and grouped at once;
- *deployed*: ``roll_up_days`` as Compact runs it (above ``SPILL_ROWS`` rows, partitioned on local disk).

Printed: CPU seconds, peak RSS of each process, and deployed ÷ in memory. Both must give the same rollup
(checked). Run: ``make bench`` or ``.venv/bin/python bench/rollup_bench.py [--sizes 1000000,3000000]``;
generated files are kept under ``$TMPDIR/event-collector-rollup-bench`` for the next run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from event_collector.lake.layout import Day

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "common" / "python"), str(ROOT)]

FILE_ROWS = 1_000_000
TENANT = "acme"


class DirectoryLake:
    """The rollup's lake port over a local directory (keys are paths under it)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def listing(self, bucket: str, prefix: str) -> Iterator[tuple[str, str, int]]:
        folder = self.root / prefix if prefix.endswith("/") else (self.root / prefix).parent
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                key = str(path.relative_to(self.root))
                if key.startswith(prefix) and path.is_file():
                    yield key, "etag", path.stat().st_size

    def get_file(self, bucket: str, key: str, path: str) -> None:
        shutil.copyfile(self.root / key, path)

    def put_file(self, bucket: str, key: str, path: str, content_type: str = "") -> None:
        (self.root / key).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, self.root / key)


def generate(root: Path, rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from event_collector.lake.layout import compacted_prefix, ledger_prefix

    day = the_day()
    for start in range(0, rows, FILE_ROWS):
        numbers = range(start, min(rows, start + FILE_ROWS))
        table = pa.table(
            {
                "event_id": [f"e{n}" for n in numbers],
                "event_type": ["page_view"] * len(numbers),
                "received_at": pa.array([day.start_ms] * len(numbers), pa.int64()),
                "url": [f"https://example.com/page/{n % 10_000}" for n in numbers],
                "session_id": [f"session-{n % 200_000:08d}" for n in numbers],
                "anonymous_id": [f"anon-{n % 150_000:08d}" for n in numbers],
                "user_id": pa.nulls(len(numbers), pa.string()),
            }
        )
        for prefix, columns in (
            (compacted_prefix("page_view", TENANT, day), table.column_names),
            (ledger_prefix(TENANT, day), ["event_id", "event_type", "received_at"]),
        ):
            (root / prefix).mkdir(parents=True, exist_ok=True)
            pq.write_table(table.select(columns), root / prefix / f"{start:032x}.parquet")


def the_day() -> Day:
    from event_collector.lake.layout import Day

    return Day("2026", "11", "20")


def measure(root: Path, in_memory: bool) -> dict[str, object]:
    """One roll-up in this (fresh) process."""
    from event_collector.compaction import rollup
    from event_collector.compaction.rollup import Rollups, roll_up_days
    from tests.fakes.catalog import MemoryCatalog
    from tests.fakes.counters import MemoryCounters

    if in_memory:
        rollup.SPILL_ROWS = 10**12
    items = MemoryCounters()
    with tempfile.TemporaryDirectory() as work:
        started = time.process_time()
        roll_up_days(Rollups(DirectoryLake(root), "lake", MemoryCatalog(), items, work_dir=work), TENANT, [the_day()])
        seconds = time.process_time() - started
    (item,) = items.rollup_items.values()
    return {
        "seconds": seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "item": json.dumps(item, sort_keys=True),
    }


def run(root: Path, in_memory: bool) -> dict[str, object]:
    command = [sys.executable, __file__, "--measure", str(root)] + (["--in-memory"] if in_memory else [])
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,3000000,10000000")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--in-memory", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(Path(args.measure), args.generate)
        return
    if args.measure:
        print(json.dumps(measure(Path(args.measure), args.in_memory)))
        return
    cache = Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / "event-collector-rollup-bench"
    print("Daily rollup of one tenant's page views for a day (CPU seconds; peak RSS of a fresh process)")
    for rows in (int(size) for size in args.sizes.split(",")):
        root = cache / str(rows)
        if not root.is_dir():  # in another process: this one's memory would be the measured ones' start
            command = [sys.executable, __file__, "--measure", str(root), "--generate", str(rows)]
            subprocess.run(command, check=True)
        baseline, deployed = run(root, in_memory=True), run(root, in_memory=False)
        assert deployed["item"] == baseline["item"], "the partitioned rollup differs from the in-memory one"
        seconds, peak = float(deployed["seconds"]), float(deployed["peak_mb"])  # type: ignore[arg-type]
        base_seconds, base_peak = float(baseline["seconds"]), float(baseline["peak_mb"])  # type: ignore[arg-type]
        print(
            f"  {rows:>11,} rows: in memory {base_seconds:6.2f} s {base_peak:7.0f} MB; "
            f"deployed {seconds:6.2f} s {peak:7.0f} MB; time {seconds / base_seconds:.2f}x, "
            f"memory {peak / base_peak:.2f}x"
        )


if __name__ == "__main__":
    main()
