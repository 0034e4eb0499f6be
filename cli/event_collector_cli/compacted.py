"""Read the compacted tables' Parquet files directly (the local mode has no Athena; ``make query``, the
smoke test and the test harness use this)."""

from __future__ import annotations

import io
from typing import Any

from event_collector.lake.layout import compacted_type_prefix, parse_compacted_object_key


def read_compacted(s3: Any, lake_bucket: str, prefix: str | None = None) -> list[dict[str, Any]]:
    """Every row of the compacted files under ``prefix`` (default: all of them), with the partition
    values ``tenant``, ``year``, ``month`` and ``day`` of the file it came from."""
    import pyarrow.parquet as pq  # the operator's environment; never a lean function's

    rows: list[dict[str, Any]] = []
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=lake_bucket, Prefix=prefix or compacted_type_prefix())
    for page in pages:
        for item in page.get("Contents", []):
            parsed = parse_compacted_object_key(item["Key"])
            if parsed is None:
                continue
            body = s3.get_object(Bucket=lake_bucket, Key=item["Key"])["Body"].read()
            partition = {"tenant": parsed.tenant, "year": parsed.day.year, "month": parsed.day.month}
            partition["day"] = parsed.day.day
            # ParquetFile, not read_table: read_table loads pyarrow.dataset and its S3 module, whose C++
            # teardown aborts the interpreter at exit now and then ("terminate called without an active exception").
            rows += [{**row, **partition} for row in pq.ParquetFile(io.BytesIO(body)).read().to_pylist()]
    return rows
