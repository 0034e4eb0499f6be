"""Fan-out Lambda: S3 ObjectCreated on raw/ -> per-tenant, per-hour lake objects, queued (and counted, in
the ``delivered`` counting mode; by default the collector counts in real time: docs/counters.md).

Thin: the work is in event_collector.lake.fan_out. A failure fails the
invocation, so Lambda retries it and then sends it to the dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.aws.clients import client
from event_collector.aws.compaction_state import CompactionStateTable
from event_collector.aws.counters_table import CountersTable
from event_collector.aws.s3 import S3ObjectStore
from event_collector.config import FanOutSettings, load
from event_collector.counts.record import CountingLimits
from event_collector.lake.fan_out import Counting, FanOut, fan_out_event

logger = Logger()
metrics = Metrics()
settings = load(FanOutSettings)
dynamodb = client("dynamodb")
counting = Counting(
    CountersTable(dynamodb, settings.counters_table_name),
    CountingLimits(settings.counter_keys_per_hour, settings.counter_retention_days),
)
fan_out = FanOut(
    S3ObjectStore(client("s3")),
    lake_bucket=settings.lake_bucket_name,
    counting=counting if settings.counting_mode == "delivered" else None,
    queue=CompactionStateTable(dynamodb, settings.compaction_state_table_name),
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
