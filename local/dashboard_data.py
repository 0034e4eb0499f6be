"""What the dashboard shows beyond GET /v1/counts, read from the local stack's own resources.

The API has no route for a tenant's top keys or for the last compaction run's
partitions, and it stores nothing it rejects; locally the dashboard reads them
from the counters table (a small Scan is fine under moto), from the run's
result objects in the lake bucket, and from the gateway's in-memory
rejection log (local/rejections.py). None of this is deployed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from event_collector.aws.s3 import S3ObjectStore
from event_collector.compaction.contracts import TOTALS, CompactResult
from event_collector.counts.layout import ALL_KEYS, DAY_PREFIX, OVERFLOW, counter_pk
from event_collector.lake.layout import run_results_prefix

HASHED = "h:"
PLAIN = "k:"


@dataclass(frozen=True)
class DayItem:
    """One counter item of the layout in docs/counters.md: a key's hours of one UTC day."""

    encoded_key: str
    day: str  # YYYY-MM-DD
    hours: dict[str, int]  # "HH" -> events


def scan_day_items(dynamodb: Any, table: str, tenant: str, event_type: str, days: tuple[str, str]) -> Iterator[DayItem]:
    """Every key's day items of one tenant and type between two days (inclusive): a Scan, fine locally only."""
    prefix = counter_pk(tenant, event_type, "")
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="begins_with(pk, :prefix) AND sk BETWEEN :first AND :last",
        ExpressionAttributeValues={
            ":prefix": {"S": prefix},
            ":first": {"S": DAY_PREFIX + days[0]},
            ":last": {"S": DAY_PREFIX + days[1]},
        },
    )
    for page in pages:
        for item in page.get("Items", []):
            hours = {
                name[1:]: int(value["N"])
                for name, value in item.items()
                if len(name) == 3 and name[0] == "h" and name[1:].isdigit() and "N" in value
            }
            yield DayItem(item["pk"]["S"][len(prefix) :], item["sk"]["S"][len(DAY_PREFIX) :], hours)


def top_keys(items: Iterable[DayItem], hour_labels: Iterable[str], limit: int) -> dict[str, Any]:
    """Events per counter key over the hours given (labels ``YYYY-MM-DDTHH``), most first.

    ``k:<key>`` is shown as the key, ``h:<sha256>`` (a key over 1,000 bytes) as its hash, ``o:`` as
    the overflow of keys beyond the per-hour limit; ``*`` (every key of the type) is the total.
    """
    wanted = set(hour_labels)
    by_key: dict[str, int] = {}
    for item in items:
        in_range = sum(count for hour, count in item.hours.items() if f"{item.day}T{hour}" in wanted)
        by_key[item.encoded_key] = by_key.get(item.encoded_key, 0) + in_range
    total = by_key.pop(ALL_KEYS, 0)
    ranked = sorted(((key, count) for key, count in by_key.items() if count > 0), key=lambda kc: (-kc[1], kc[0]))
    return {"total": total, "distinct": len(ranked), "keys": [_shown(key, count) for key, count in ranked[:limit]]}


def _shown(encoded: str, count: int) -> dict[str, Any]:
    if encoded.startswith(PLAIN):
        return {"key": encoded[len(PLAIN) :], "kind": "key", "count": count}
    if encoded.startswith(HASHED):
        return {"key": encoded[len(HASHED) :], "kind": "hashed", "count": count}
    if encoded == OVERFLOW:
        return {"key": None, "kind": "overflow", "count": count}
    return {"key": encoded, "kind": "unknown", "count": count}


def run_results(store: S3ObjectStore, bucket: str, run_id: str | None) -> list[CompactResult]:
    """The per-tenant results a compaction run left in the lake bucket (what its Report summed)."""
    if not run_id:
        return []
    prefix = run_results_prefix(run_id)
    return [CompactResult.model_validate(store.get_json(bucket, key)) for key in store.keys(bucket, prefix)]


def compaction_summary(last: dict[str, Any] | None, results: Iterable[CompactResult]) -> dict[str, Any] | None:
    """The last run as the dashboard shows it: its Report's totals plus the raw partitions it compacted."""
    if last is None:
        return None
    report = last.get("report") or {}
    by_tenant = [
        {
            "tenant": result.tenant,
            "status": result.status,
            "engine": result.engine,
            "partitions": len(result.raw_partitions),
            "rows_in": result.rows_in,
            "rows_out": result.rows_out,
            "duplicates_removed": result.duplicates_removed,
            "event_types": result.event_types,
            "error": result.error,
        }
        for result in sorted(results, key=lambda r: r.tenant)
    ]
    return {
        "status": last.get("status"),
        "finished_at": last.get("finished_at"),
        "error": last.get("error"),
        "run_id": report.get("run_id"),
        "tenants": {name: int(report.get(name) or 0) for name in ("items", "ok", "skipped", "failed")},
        "partitions": sum(tenant["partitions"] for tenant in by_tenant),
        **{name: int(report.get(name) or 0) for name in TOTALS},
        "failures": list(report.get("failures") or []),
        "run_error": report.get("run_error"),
        "by_tenant": by_tenant,
    }
