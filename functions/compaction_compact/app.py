"""Compaction step 2 (Compact, one Map item): one day partition into deduplicated Parquet.

Runs with the Arrow layer (pyarrow from PyPI, docs/dependencies.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.adapters.compaction_state import CompactionStateTable
from event_collector.adapters.glue_catalog import GlueCatalog
from event_collector.adapters.s3_objects import S3ObjectStore
from event_collector.compaction.compact import compact_partition
from event_collector.compaction.partitions import DayPartition
from event_collector.settings import get_settings

logger = Logger()
settings = get_settings()
store = S3ObjectStore(boto3.client("s3"))
catalog = GlueCatalog(boto3.client("glue"), settings.glue_database_name)
state = CompactionStateTable(boto3.client("dynamodb"), settings.compaction_state_table_name)


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = compact_partition(
        DayPartition.from_dict(event["partition"]),
        datetime.fromisoformat(event["cutoff"]),
        lake_bucket=settings.lake_bucket_name,
        store=store,
        catalog=catalog,
        state=state,
        now=datetime.now(UTC),
    )
    logger.info("Compacted", **result)
    return result
