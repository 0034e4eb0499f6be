"""Compact one day partition: raw GZIP JSON lines -> deduplicated Parquet, registered in Glue.

The only module that imports pandas and awswrangler (from the AWS SDK for
pandas layer in the cloud). Re-running it gives the same rows: the output
partition is overwritten (``mode="overwrite_partitions"``) and duplicates on
(``tenant``, ``event_id``) keep the earliest ``received_at``.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any, Protocol

import awswrangler as wr
import pandas as pd

from .partitions import DayPartition, closed, fingerprint, parse_lake_object

PARTITION_COLUMNS = ["tenant", "year", "month", "day"]
CORE_TEXT = ["event_id", "event_type"]
CORE_TIMES = ["received_at", "timestamp"]
TARGET_FILE_BYTES = 256 * 1024 * 1024  # aim inside 128-512 MB per Parquet file
MIN_ROWS_PER_FILE = 100_000


class Listing(Protocol):
    def listing(self, bucket: str, prefix: str) -> Any: ...


class StateRecorder(Protocol):
    def record(self, partition_id: str, fingerprint: str, rows: int, compacted_at: str) -> None: ...


def _as_text(value: Any) -> Any:
    """Every non-core column is text: nested values as canonical JSON, missing as NA."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return pd.NA
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def normalize(frame: pd.DataFrame) -> pd.DataFrame:
    """Stable types and column order whatever fields the events carried; then deduplicate."""
    frame = frame.copy()
    frame["received_at"] = frame["received_at"].astype("int64")
    if "timestamp" not in frame:
        frame["timestamp"] = frame["received_at"]
    frame["timestamp"] = frame["timestamp"].fillna(frame["received_at"]).astype("int64")
    others = sorted(c for c in frame.columns if c not in {*CORE_TEXT, *CORE_TIMES, "tenant"})
    for column in [*CORE_TEXT, "tenant", *others]:
        frame[column] = frame[column].map(_as_text).astype("string")
    frame = frame.sort_values(["received_at", "event_id"], kind="mergesort")
    frame = frame.drop_duplicates(subset=["tenant", "event_id"], keep="first")
    return frame[[*CORE_TEXT, *CORE_TIMES, *others, "tenant"]].reset_index(drop=True)


def compact_partition(
    partition: DayPartition,
    cutoff: datetime,
    *,
    lake_bucket: str,
    database: str,
    listing: Listing,
    state: StateRecorder,
    now: datetime,
) -> dict[str, Any]:
    parsed = [
        parse_lake_object(key, etag, size) for key, etag, size in listing.listing(lake_bucket, partition.raw_prefix)
    ]
    objects = closed([item for item in parsed if item is not None], cutoff)
    result: dict[str, Any] = {"partition": partition.as_dict(), "status": "skipped", "files_in": len(objects)}
    if not objects:
        return result
    frame = wr.s3.read_json(
        path=[f"s3://{lake_bucket}/{item.key}" for item in objects],
        lines=True,
        dtype=False,
        compression="gzip",
    )
    rows_in = len(frame)
    compacted = normalize(frame)
    for column, value in (("year", partition.year), ("month", partition.month), ("day", partition.day)):
        compacted[column] = value
    bytes_in = sum(item.size for item in objects)
    rows_per_file = max(MIN_ROWS_PER_FILE, int(TARGET_FILE_BYTES / max(1.0, bytes_in / max(1, rows_in))))
    text_columns = [c for c in compacted.columns if c not in CORE_TIMES]
    written = wr.s3.to_parquet(
        compacted,
        path=f"s3://{lake_bucket}/compacted/{partition.event_type}/",
        dataset=True,
        mode="overwrite_partitions",
        partition_cols=PARTITION_COLUMNS,
        database=database,
        table=partition.event_type,
        compression="zstd",
        max_rows_by_file=rows_per_file,
        schema_evolution=True,
        dtype={**dict.fromkeys(text_columns, "string"), "received_at": "bigint", "timestamp": "bigint"},
    )
    output_prefix = partition.raw_prefix.replace("events/", "compacted/", 1)
    bytes_out = sum(size for _, _, size in listing.listing(lake_bucket, output_prefix))
    state.record(partition.id, fingerprint(objects), len(compacted), now.isoformat())
    result.update(
        status="ok",
        hours=sorted({item.hour for item in objects}),
        files_out=len(written["paths"]),
        rows_in=rows_in,
        rows_out=len(compacted),
        duplicates_removed=rows_in - len(compacted),
        bytes_in=bytes_in,
        bytes_out=bytes_out,
    )
    return result
