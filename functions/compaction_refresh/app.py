"""Compaction step 3 (Refresh): register the raw JSON tables' partitions for what was compacted."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.adapters.glue_catalog import GlueCatalog
from event_collector.compaction.refresh import refresh
from event_collector.settings import get_settings

logger = Logger()
settings = get_settings()
catalog = GlueCatalog(boto3.client("glue"), settings.glue_database_name)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = refresh(event.get("results") or [], catalog, settings.lake_bucket_name)
    logger.info("Refreshed", **result)
    return result
