"""Fan-out Lambda: S3 ObjectCreated on raw/ -> per-tenant, per-hour objects in the lake bucket.

Thin: the work is in event_collector.fan_out. A failure fails the invocation,
so Lambda retries it and then sends it to the dead-letter queue.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from event_collector.adapters.counters_table import CountersTable
from event_collector.adapters.s3_objects import S3ObjectStore
from event_collector.counting import CountingLimits
from event_collector.fan_out import Counting, FanOut, fan_out_event
from event_collector.settings import get_settings

logger = Logger()
metrics = Metrics()
settings = get_settings()
fan_out = FanOut(
    S3ObjectStore(boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 5}))),
    lake_bucket=settings.lake_bucket_name,
    counting=Counting(
        CountersTable(
            boto3.client("dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 5})),
            settings.counters_table_name,
        ),
        CountingLimits(
            max_keys_per_hour=settings.counter_keys_per_hour,
            hourly_retention_days=settings.hourly_counter_retention_days,
        ),
    ),
)


@logger.inject_lambda_context(log_event=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    reports = fan_out_event(fan_out, event)
    for report in reports:
        logger.info("Fanned out", **report.as_dict())
        metrics.add_metric(name="LinesIn", unit=MetricUnit.Count, value=report.lines_in)
        metrics.add_metric(name="LinesOut", unit=MetricUnit.Count, value=report.lines_out)
        metrics.add_metric(name="LinesQuarantined", unit=MetricUnit.Count, value=report.lines_quarantined)
        if report.counter_error:
            # The events are safe in the lake; only the counts of this object are short. Alarmed.
            logger.error("Counting failed after the lake writes", error=report.counter_error, key=report.source.key)
            metrics.add_metric(name="CounterUpdateFailures", unit=MetricUnit.Count, value=1)
    return {"objects": [report.as_dict() for report in reports]}
