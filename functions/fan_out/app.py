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

from event_collector.adapters.s3_objects import S3ObjectStore
from event_collector.fan_out import FanOut, fan_out_event
from event_collector.settings import get_settings

logger = Logger()
metrics = Metrics()
fan_out = FanOut(
    S3ObjectStore(boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 5}))),
    lake_bucket=get_settings().lake_bucket_name,
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
    return {"objects": [report.as_dict() for report in reports]}
