"""Report: the totals of a run, and every tenant that failed; the state machine fails the run if any did.

Failures come from two places, so none is missed: a tenant whose Compact kept
failing has a ``failed`` result (recorded by the item processor's Catch), and
a planned tenant with no result at all (its item never ran, or its record
could not be written) is failed too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from event_collector.compaction.contracts import TOTALS, CompactResult, Report, WorkItem

MAX_LISTED_FAILURES = 20


def summarize(
    run_id: str | None,
    planned: Iterable[WorkItem],
    results: Iterable[CompactResult],
    run_error: dict[str, Any] | None = None,
) -> Report:
    planned = list(planned)
    by_tenant = {result.tenant: result for result in results}
    counts = {"ok": 0, "skipped": 0, "failed": 0}
    totals = dict.fromkeys(TOTALS, 0)
    failures: list[dict[str, Any]] = []
    for item in planned:
        result = by_tenant.get(item.tenant)
        if result is None:
            counts["failed"] += 1
            failures.append({"tenant": item.tenant, "error": "no result recorded (see the map run)"})
            continue
        counts[result.status] += 1
        if result.status == "failed":
            failures.append({"tenant": item.tenant, "error": result.error})
        for name in TOTALS:
            totals[name] += getattr(result, name)
    return Report(
        run_id=run_id,
        items=len(planned),
        **counts,
        **totals,
        failures=failures[:MAX_LISTED_FAILURES],
        run_error=run_error,
    )
