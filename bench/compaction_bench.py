"""Compaction of one day partition of 1,000 small GZIP JSON files (moto S3, in-process).

Compared, in the same run and on the same files, with the floor: read every
file with pyarrow and write one Parquet file. Each side runs in its own
process so peak RSS is its own. Prints rows/s, MB/s, peak memory, and the
file-count and byte-size reduction. Run: ``make bench``.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]
os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
os.environ.pop("AWS_ENDPOINT_URL", None)

FILES = 1000
LINES_PER_FILE = 100
DUPLICATE_EVERY = 20  # one line in 20 repeats an earlier event_id (a client retry)
LAKE = "bench-lake"
PREFIX = "events/page_view/tenant=acme/year=2026/month=11/day=20/"
DAY_MS = int(datetime(2026, 11, 20, tzinfo=UTC).timestamp() * 1000)


def seed(s3) -> int:
    rng = random.Random(11)
    s3.create_bucket(Bucket=LAKE)
    total = 0
    for index in range(FILES):
        hour = index * 24 // FILES
        lines = []
        for line in range(LINES_PER_FILE):
            number = index * LINES_PER_FILE + line
            event_id = f"e-{number - 7 if number % DUPLICATE_EVERY == 0 and number else number}"
            lines.append(
                json.dumps(
                    {
                        "event_id": event_id,
                        "event_type": "page_view",
                        "tenant": "acme",
                        "received_at": DAY_MS + hour * 3_600_000 + line,
                        "timestamp": DAY_MS + hour * 3_600_000,
                        "url": f"https://example.com/p/{rng.randrange(300)}",
                        "session_id": f"s-{rng.randrange(10**5)}",
                        "useragent": "Mozilla/5.0 (X11; Linux x86_64)",
                    },
                    separators=(",", ":"),
                )
            )
        body = gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=6)
        s3.put_object(Bucket=LAKE, Key=f"{PREFIX}hour={hour:02d}/{index:04d}.json.gz", Body=body)
        total += len(body)
    return total


def run_compaction(s3) -> dict:
    import boto3

    from event_collector.adapters.glue_catalog import GlueCatalog
    from event_collector.adapters.s3_objects import S3ObjectStore
    from event_collector.compaction.compact import compact_partition
    from event_collector.compaction.partitions import DayPartition

    boto3.client("glue").create_database(DatabaseInput={"Name": "bench"})

    class NoState:
        def record(self, *_: object) -> None:
            return None

    result = compact_partition(
        DayPartition("page_view", "acme", "2026", "11", "20"),
        datetime(2026, 11, 22, tzinfo=UTC),
        lake_bucket=LAKE,
        store=S3ObjectStore(s3),
        catalog=GlueCatalog(boto3.client("glue"), "bench"),
        state=NoState(),
        now=datetime.now(UTC),
    )
    return {"rows_out": result["rows_out"], "files_out": result["files_out"], "bytes_out": result["bytes_out"]}


def run_floor(s3) -> dict:
    import pyarrow as pa
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    tables = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=LAKE, Prefix=PREFIX):
        for item in page["Contents"]:
            raw = gzip.decompress(s3.get_object(Bucket=LAKE, Key=item["Key"])["Body"].read())
            tables.append(pj.read_json(io.BytesIO(raw)))
    table = pa.concat_tables(tables)
    out = io.BytesIO()
    pq.write_table(table, out, compression="snappy")
    s3.put_object(Bucket=LAKE, Key="floor/one.parquet", Body=out.getvalue())
    return {"rows_out": table.num_rows, "files_out": 1, "bytes_out": out.tell()}


def child(mode: str) -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3")
        bytes_in = seed(s3)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        start = time.perf_counter()
        outcome = run_compaction(s3) if mode == "compact" else run_floor(s3)
        seconds = time.perf_counter() - start
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {
                **outcome,
                "seconds": seconds,
                "bytes_in": bytes_in,
                "rss_growth": rss_after - rss_before,
                "rss_peak": rss_after,
            }
        )
    )


def measure(mode: str) -> dict:
    done = subprocess.run([sys.executable, __file__, mode], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    rows_in = FILES * LINES_PER_FILE
    floor, compact = measure("floor"), measure("compact")
    mb_in = compact["bytes_in"] / 1024 / 1024
    print(
        f"partition: {FILES} GZIP JSON files, {rows_in} rows (about 1 in {DUPLICATE_EVERY} a duplicate), {mb_in:.1f} MB"
    )
    for name, run in (
        ("floor (pyarrow read + one Parquet)", floor),
        ("compaction (pyarrow + exact parse + dedup)", compact),
    ):
        print(
            f"{name:<36} {rows_in / run['seconds']:10,.0f} rows/s {mb_in / run['seconds']:6.2f} MB/s "
            f"{run['seconds']:6.2f} s  peak RSS {run['rss_peak'] / 2**20:5.0f} MB (+{run['rss_growth'] / 2**20:.0f} MB)"
        )
    print(
        f"ratio compaction/floor time: {compact['seconds'] / floor['seconds']:.2f}x; "
        f"memory growth ratio: {compact['rss_growth'] / max(1, floor['rss_growth']):.2f}x"
    )
    print(
        f"files: {FILES} -> {compact['files_out']} ({FILES / compact['files_out']:.0f}x fewer); "
        f"bytes: {compact['bytes_in']:,} -> {compact['bytes_out']:,} ({compact['bytes_in'] / compact['bytes_out']:.1f}x smaller); "
        f"rows {rows_in} -> {compact['rows_out']}"
    )


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] in ("compact", "floor"):
        child(sys.argv[1])
    else:
        main()
