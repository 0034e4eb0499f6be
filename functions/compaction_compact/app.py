"""Compaction step 2 (Compact, one Map item): one tenant's closed pending objects into its tables.

Runs with the Arrow layer (pyarrow from PyPI) and the Wrangler layer (awswrangler, which registers
the tables and partitions in Glue and runs the Athena engine; docs/dependencies.md); hands a unit
too large for one Lambda to Athena, unless it holds a tenant's own event type: the Lambda engine types
that from its latest schema in the Schemas table, read once per invocation. The result is recorded
where Report reads it, the counters of the hours the unit touched are recounted from the ledger
(compaction/recount.py), and the daily rollup of its days recomputed (compaction/rollup.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.aws.athena import AthenaQueryRunner
from event_collector.aws.clients import client, session
from event_collector.aws.compaction_state import CompactionStateTable
from event_collector.aws.counters_table import CountersTable
from event_collector.aws.glue import GlueCatalog
from event_collector.aws.s3 import S3ObjectStore
from event_collector.aws.schemas_table import SchemasTable
from event_collector.compaction.athena import AthenaEngine
from event_collector.compaction.compact import Compaction, S3ResultLog, compact_tenant, result_summary
from event_collector.compaction.contracts import CompactRequest
from event_collector.compaction.recount import Recount
from event_collector.compaction.rollup import Rollups
from event_collector.config import CompactSettings, load
from event_collector.counts.record import CountingLimits

logger = Logger()
settings = load(CompactSettings)
dynamodb = client("dynamodb")
store = S3ObjectStore(client("s3"))
wrangler_session = session()  # awswrangler makes its Glue, Athena and S3 clients from it
catalog = GlueCatalog(wrangler_session, settings.glue_database_name)
counters = CountersTable(dynamodb, settings.counters_table_name)
compaction = Compaction(
    lake_bucket=settings.lake_bucket_name,
    store=store,
    state=CompactionStateTable(dynamodb, settings.compaction_state_table_name),
    catalog=catalog,
    dedup_window_days=settings.dedup_window_days,
    large_unit_bytes=settings.athena_threshold_bytes,
    large_units=AthenaEngine(
        settings.glue_database_name,
        settings.lake_bucket_name,
        AthenaQueryRunner(wrangler_session, settings.athena_work_group),
        catalog,
        store,
        settings.dedup_window_days,
    ),
    results=S3ResultLog(store, settings.lake_bucket_name),
    schemas=SchemasTable(dynamodb, settings.schemas_table_name),
    recount=Recount(counters, CountingLimits(settings.counter_keys_per_hour, settings.counter_retention_days)),
    # The daily_counts rollup of the days a unit touched: Parquet and Glue for Athena, items for the API.
    rollups=Rollups(store, settings.lake_bucket_name, catalog, counters),
)


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = CompactRequest.model_validate(event)
    result = compact_tenant(request, compaction, now=datetime.now(UTC))  # records the result where Report reads it
    logger.info("Compacted", **result_summary(result))
    return result_summary(result)
