"""Compaction step 1 (Plan): day partitions whose closed hours changed since their last compaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.adapters.compaction_state import CompactionStateTable
from event_collector.adapters.s3_objects import S3ObjectStore
from event_collector.compaction.partitions import parse_lake_object
from event_collector.compaction.plan import plan
from event_collector.settings import get_settings

logger = Logger()
settings = get_settings()
store = S3ObjectStore(boto3.client("s3"))
state = CompactionStateTable(boto3.client("dynamodb"), settings.compaction_state_table_name)


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    listed = (parse_lake_object(*entry) for entry in store.listing(settings.lake_bucket_name, "events/"))
    # An execution may pass {"cutoff": "<ISO 8601>"} to compact hours up to that instant (backfills, local runs).
    cutoff = datetime.fromisoformat(event["cutoff"]) if isinstance(event, dict) and event.get("cutoff") else None
    planned = plan(
        [item for item in listed if item is not None],
        state,
        now=datetime.now(UTC),
        grace=timedelta(minutes=settings.compaction_grace_minutes),
        max_partitions=settings.max_partitions_per_run,
        cutoff=cutoff,
    )
    planned["max_concurrency"] = settings.compact_max_concurrency
    logger.info("Planned", partitions=len(planned["partitions"]), deferred=planned["deferred"])
    return planned
