"""Compaction step 4 (Report): the run's totals and failures as metrics; the state machine fails the
run if any tenant failed. Also records a tenant's failure for the item processor's Catch."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.aws.clients import client
from event_collector.aws.s3 import S3ObjectStore
from event_collector.compaction.contracts import TOTALS, CompactResult, ReportRequest, WorkItem
from event_collector.compaction.report import summarize
from event_collector.config import ReportSettings, load
from event_collector.lake.layout import run_result_key

logger = Logger()
metrics = Metrics()
settings = load(ReportSettings)
store = S3ObjectStore(client("s3"))


@logger.inject_lambda_context(log_event=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ReportRequest.model_validate(event)
    bucket = settings.lake_bucket_name
    if request.record_failure:
        failure = request.record_failure
        failed = CompactResult(tenant=failure.tenant, status="failed", error=str(failure.error)[:2000])
        store.put_json(bucket, run_result_key(failure.run_id, failure.tenant), failed.model_dump(mode="json"))
        return {"recorded": failure.tenant}
    plan = request.failed_run.plan if request.failed_run else request.plan
    run_error = request.failed_run.error if request.failed_run else None
    item_keys = store.keys(plan.bucket, plan.items_prefix) if plan else []
    planned = [WorkItem.model_validate(store.get_json(bucket, key)) for key in item_keys]
    keys = store.keys(bucket, plan.results_prefix) if plan else []
    results = [CompactResult.model_validate(store.get_json(bucket, key)) for key in keys]
    report = summarize(plan.run_id if plan else None, planned, results, run_error)
    if report.run_error:
        logger.error("Compaction run failed before reporting", error=report.run_error)
        metrics.add_metric(name="CompactionRunsFailed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="TenantsCompacted", unit=MetricUnit.Count, value=report.ok)
    metrics.add_metric(name="TenantsFailed", unit=MetricUnit.Count, value=report.failed)
    for total in TOTALS:
        unit = MetricUnit.Bytes if total.startswith("bytes") else MetricUnit.Count
        metrics.add_metric(name=total, unit=unit, value=getattr(report, total))
    logger.info("Compaction report", **report.model_dump(exclude={"failures"}))
    return report.model_dump(mode="json")
