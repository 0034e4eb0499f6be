"""Report: the totals of a run, and every tenant that failed; the state machine fails the run if any did.

Failures come from two places, so none is missed: a tenant whose Compact kept
failing has a ``failed`` result (recorded by the item processor's Catch), and
a planned tenant with no result at all (its item never ran, or its record
could not be written) is failed too. The run's Regulate step, when it ran,
left its result beside the tenants' (``regulations.json``): a regulation that
failed fails the run too, and the report names it by its request id.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal, Protocol

from event_collector.compaction.contracts import (
    TOTALS,
    CompactResult,
    FailureRecord,
    RegulateResult,
    Report,
    ReportRequest,
    WorkItem,
)
from event_collector.lake.layout import run_regulations_key, run_result_key

MAX_LISTED_FAILURES = 20
MAX_ERROR_CHARS = 2000


class Store(Protocol):
    def keys(self, bucket: str, prefix: str) -> Iterator[str]: ...
    def get_json(self, bucket: str, key: str) -> Any: ...
    def put_json(self, bucket: str, key: str, document: Any) -> None: ...


def handle(request: ReportRequest, store: Store, bucket: str) -> Report | dict[str, str]:
    """Report's one entry: record a tenant's failure (the item processor's Catch), or report a run,
    finished or failed (then with whatever it had: maybe no plan at all)."""
    if request.record_failure:
        return record_failure(request.record_failure, store, bucket)
    plan = request.failed_run.plan if request.failed_run else request.plan
    run_error = request.failed_run.error if request.failed_run else None
    if plan is None:
        return summarize(None, [], [], run_error)
    planned = [
        WorkItem.model_validate(store.get_json(plan.bucket, key)) for key in store.keys(plan.bucket, plan.items_prefix)
    ]
    results = [
        CompactResult.model_validate(store.get_json(bucket, key)) for key in store.keys(bucket, plan.results_prefix)
    ]
    report = summarize(plan.run_id, planned, results, run_error)
    key = run_regulations_key(plan.run_id)
    if any(found == key for found in store.keys(bucket, key)):  # listed: a failing read must not pass for none
        report = with_regulations(report, RegulateResult.model_validate(store.get_json(bucket, key)))
    return report


def with_regulations(report: Report, regulations: RegulateResult) -> Report:
    failures = [
        {"request": outcome.request, "tenant": outcome.tenant, "error": outcome.error}
        for outcome in regulations.outcomes
        if outcome.status == "failed"
    ]
    return report.model_copy(
        update={
            "regulations_applied": regulations.applied,
            "regulations_failed": regulations.failed,
            "regulations_in_progress": regulations.in_progress,
            "regulations_queued": regulations.queued,
            "regulation_failures": failures[:MAX_LISTED_FAILURES],
        }
    )


def record_failure(failure: FailureRecord, store: Store, bucket: str) -> dict[str, str]:
    failed = CompactResult(tenant=failure.tenant, status="failed", error=str(failure.error)[:MAX_ERROR_CHARS])
    store.put_json(bucket, run_result_key(failure.run_id, failure.tenant), failed.model_dump(mode="json"))
    return {"recorded": failure.tenant}


def metrics_of(report: Report) -> list[tuple[str, Literal["Count", "Bytes"], int]]:
    """(name, unit, value) of every metric a report emits."""
    found: list[tuple[str, Literal["Count", "Bytes"], int]] = []
    if report.run_error:
        found.append(("CompactionRunsFailed", "Count", 1))
    found += [("TenantsCompacted", "Count", report.ok), ("TenantsFailed", "Count", report.failed)]
    found += [("RegulationsApplied", "Count", report.regulations_applied)]
    found += [("RegulationsFailed", "Count", report.regulations_failed)]
    found += [(total, "Bytes" if total.startswith("bytes") else "Count", getattr(report, total)) for total in TOTALS]
    return found


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
