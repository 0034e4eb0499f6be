"""Report: totals of a compaction run; a run with a failed partition must fail."""

from __future__ import annotations

from typing import Any

TOTALS = ("files_in", "files_out", "rows_in", "rows_out", "duplicates_removed", "bytes_in", "bytes_out")


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {"partitions": len(results)}
    for status in ("ok", "skipped", "failed"):
        summary[status] = sum(1 for result in results if result.get("status") == status)
    for total in TOTALS:
        summary[total] = sum(int(result.get(total, 0)) for result in results)
    summary["failures"] = [
        {"partition": result.get("partition"), "error": result.get("error")}
        for result in results
        if result.get("status") == "failed"
    ][:20]
    return summary
