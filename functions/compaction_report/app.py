"""Compaction step 4 (Report): the run's totals and failures as metrics; the state machine fails the
run if any tenant failed. Also records a tenant's failure for the item processor's Catch."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.aws.clients import client
from event_collector.aws.s3 import S3ObjectStore
from event_collector.compaction.contracts import Report, ReportRequest
from event_collector.compaction.report import handle, metrics_of
from event_collector.config import ReportSettings, load

logger = Logger()
metrics = Metrics()
settings = load(ReportSettings)
store = S3ObjectStore(client("s3"))


@logger.inject_lambda_context(log_event=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcome = handle(ReportRequest.model_validate(event), store, settings.lake_bucket_name)
    if not isinstance(outcome, Report):
        return outcome  # a tenant's failure, recorded
    if outcome.run_error:
        logger.error("Compaction run failed before reporting", error=outcome.run_error)
    for name, unit, value in metrics_of(outcome):
        metrics.add_metric(name=name, unit=MetricUnit[unit], value=value)
    logger.info("Compaction report", **outcome.model_dump(exclude={"failures"}))
    return outcome.model_dump(mode="json")
