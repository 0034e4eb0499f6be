"""Compaction step 1 (Plan): the tenants with closed pending objects, as the Distributed Map's work items,
and how many privacy regulations are due (the Regulate step runs if any)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.aws.clients import client
from event_collector.aws.compaction_state import CompactionStateTable
from event_collector.aws.regulations_table import RegulationsTable
from event_collector.aws.s3 import S3ObjectStore
from event_collector.compaction.contracts import PlanRequest
from event_collector.compaction.plan import plan
from event_collector.config import PlanSettings, load
from event_collector.lake.layout import run_item_key

logger = Logger()
settings = load(PlanSettings)
store = S3ObjectStore(client("s3"))
dynamodb = client("dynamodb")
state = CompactionStateTable(dynamodb, settings.compaction_state_table_name)
regulations = RegulationsTable(dynamodb, settings.regulations_table_name)


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    planned, items = plan(
        PlanRequest.model_validate(event),
        state,
        now=datetime.now(UTC),
        grace=timedelta(minutes=settings.compaction_grace_minutes),
        lake_bucket=settings.lake_bucket_name,
        max_concurrency=settings.compact_max_concurrency,
        regulations=regulations,
        firehose_buffer_seconds=settings.firehose_buffer_interval_seconds,
        suppression_cache_seconds=settings.suppression_cache_seconds,
    )
    for item in items:  # one object per work item: the Map's ItemReader lists them
        store.put_json(planned.bucket, run_item_key(planned.run_id, item.tenant), item.model_dump())
    logger.info(
        "Planned",
        items=planned.items,
        objects=planned.objects,
        waiting=planned.waiting,
        regulations=planned.regulations,
    )
    return planned.model_dump(mode="json")
