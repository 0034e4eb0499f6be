"""Compaction step 4 (Report): run totals as metrics; the state machine fails the run if any partition failed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.compaction.report import TOTALS, summarize

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(log_event=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    summary = summarize(event.get("results") or [])
    if event.get("error"):
        summary["run_error"] = event["error"]
        metrics.add_metric(name="CompactionRunsFailed", unit=MetricUnit.Count, value=1)
        logger.error("Compaction run failed before reporting", error=event["error"])
    metrics.add_metric(name="PartitionsCompacted", unit=MetricUnit.Count, value=summary["ok"])
    metrics.add_metric(name="PartitionsFailed", unit=MetricUnit.Count, value=summary["failed"])
    for total in TOTALS:
        unit = MetricUnit.Bytes if total.startswith("bytes") else MetricUnit.Count
        metrics.add_metric(name=total, unit=unit, value=summary[total])
    logger.info("Compaction report", **{k: v for k, v in summary.items() if k != "failures"})
    return summary
