"""Fan-out throughput and memory.

1. Throughput for a GZIP input of 50 MB of NDJSON: lines/s of ``FanOut.process``
   against the floor of gunzip + ``json.loads`` + ``json.dumps`` + gzip of the
   same lines, measured in the same run.
2. Peak memory for 100 MB of decompressed input, in a fresh process:
   tracemalloc's peak and the growth of RSS, both against the input size
   (the claim: it fits a 512 MB Lambda).

Storage is local disk (no S3 emulation), so the figures are the fan-out's own.
Run: ``make bench``.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]

from bench.directory_store import DirectoryStore  # noqa: E402
from event_collector.lake.fan_out import FanOut, iter_lines, open_maybe_gzip  # noqa: E402

MB = 1024 * 1024
THROUGHPUT_MB = 50
MEMORY_MB = 100
HOUR_MS = 1_780_000_000_000


def make_input(path: Path, decompressed_mb: int) -> int:
    """Write a GZIP NDJSON file like Firehose's; return its line count."""
    rng = random.Random(7)
    tenants = [f"tenant-{i:02d}" for i in range(20)]
    count = written = 0
    with gzip.open(path, "wb", compresslevel=6) as out:
        while written < decompressed_mb * MB:
            kind = rng.randrange(3)
            base = {
                "event_id": f"{rng.getrandbits(64):016x}-{count}",
                "tenant": rng.choice(tenants),
                "received_at": HOUR_MS + rng.randrange(3 * 3600 * 1000),
                "timestamp": HOUR_MS,
            }
            if kind == 0:
                base |= {
                    "event_type": "page_view",
                    "url": f"https://example.com/p/{rng.randrange(500)}",
                    "session_id": f"s-{rng.randrange(10**6)}",
                    "useragent": "Mozilla/5.0 (X11; Linux x86_64)",
                }
            elif kind == 1:
                base |= {
                    "event_type": "button_click",
                    "button_id": f"b-{rng.randrange(50)}",
                    "session_id": f"s-{rng.randrange(10**6)}",
                }
            else:
                base |= {
                    "event_type": "track",
                    "name": "Checkout Completed",
                    "properties": {"order": rng.randrange(10**9), "total": rng.random() * 500, "items": [1, 2, 3]},
                }
            line = json.dumps(base, separators=(",", ":")).encode() + b"\n"
            out.write(line)
            written += len(line)
            count += 1
    return count


def floor_seconds(path: Path, spill: Path) -> float:
    start = time.perf_counter()
    with open(path, "rb") as raw, gzip.open(spill, "wb", compresslevel=6) as out:
        for line in iter_lines(open_maybe_gzip(raw)):
            out.write(json.dumps(json.loads(line)).encode() + b"\n")
    return time.perf_counter() - start


def fan_out_seconds(root: Path) -> float:
    fan_out = FanOut(DirectoryStore(root), "lake", spill_dir=str(root))
    start = time.perf_counter()
    report = fan_out.process("raw", "input.json.gz")
    elapsed = time.perf_counter() - start
    assert report.lines_quarantined == 0
    assert report.lines_out == report.lines_in
    return elapsed


def measure_memory(root: Path) -> None:
    """Child process: print peak tracemalloc bytes and RSS growth for one fan-out."""
    fan_out = FanOut(DirectoryStore(root), "lake", spill_dir=str(root))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    fan_out.process("raw", "input.json.gz")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"traced_peak": peak, "rss_growth": rss_after - rss_before, "rss_peak": rss_after}))


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        (root / "raw").mkdir()
        source = root / "raw" / "input.json.gz"
        lines = make_input(source, THROUGHPUT_MB)
        compressed = source.stat().st_size
        floor = floor_seconds(source, root / "floor.json.gz")
        fan_out = fan_out_seconds(root)
        print(f"input: {THROUGHPUT_MB} MB of NDJSON, {lines} lines, {compressed / MB:.1f} MB GZIP")
        print(f"floor (gunzip + json.loads + json.dumps + gzip): {lines / floor:10,.0f} lines/s ({floor:.2f} s)")
        print(f"fan-out (3 types x 20 tenants x 3 hours):        {lines / fan_out:10,.0f} lines/s ({fan_out:.2f} s)")
        print(f"ratio fan-out/floor time: {fan_out / floor:.2f}x")

        shutil.rmtree(root / "lake", ignore_errors=True)
        make_input(source, MEMORY_MB)
        child = subprocess.run(
            [sys.executable, __file__, "--memory", str(root)], capture_output=True, text=True, check=True
        )
        memory = json.loads(child.stdout)
        size = MEMORY_MB * MB
        print(f"memory for {MEMORY_MB} MB decompressed ({source.stat().st_size / MB:.1f} MB GZIP):")
        print(f"  tracemalloc peak: {memory['traced_peak'] / MB:6.1f} MB ({memory['traced_peak'] / size:.3f}x input)")
        print(
            f"  RSS growth:       {memory['rss_growth'] / MB:6.1f} MB ({memory['rss_growth'] / size:.3f}x input);"
            f" process peak RSS {memory['rss_peak'] / MB:.0f} MB of a 512 MB Lambda"
        )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--memory":
        measure_memory(Path(sys.argv[2]))
    else:
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        main()
