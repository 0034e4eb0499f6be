"""Compaction step 3 (Refresh): every table exists; the raw tables get the hours just compacted.

The tables of a tenant's own event type that the run compacted follow its latest schema (the Schemas
table, read once per type per invocation).

Runs with the Arrow and Wrangler layers: awswrangler registers the tables and partitions in Glue
(docs/dependencies.md).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.aws.clients import client, session
from event_collector.aws.glue import GlueCatalog
from event_collector.aws.s3 import S3ObjectStore
from event_collector.aws.schemas_table import SchemasTable
from event_collector.compaction.contracts import CompactResult, RefreshRequest
from event_collector.compaction.refresh import refresh
from event_collector.config import RefreshSettings, load

logger = Logger()
settings = load(RefreshSettings)
store = S3ObjectStore(client("s3"))
catalog = GlueCatalog(session(), settings.glue_database_name)
schemas = SchemasTable(client("dynamodb"), settings.schemas_table_name)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    plan = RefreshRequest.model_validate(event).plan
    results = (
        CompactResult.model_validate(store.get_json(settings.lake_bucket_name, key))
        for key in store.keys(settings.lake_bucket_name, plan.results_prefix)
    )
    outcome = refresh(results, catalog, settings.lake_bucket_name, schemas)
    logger.info("Refreshed", **outcome)
    return outcome
