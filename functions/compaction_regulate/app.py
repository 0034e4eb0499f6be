"""Compaction step 3 (Regulate, when regulations are due): deletions and suppressions applied across the lake.

Runs with the Arrow layer (pyarrow reads and rewrites Parquet; no pandas, no awswrangler). Works until the
Lambda's time is nearly up, then leaves the rest of the sweep to the next run (privacy/sweep.py); its
result is recorded where Report reads it. Logs and results name request ids, never a user's id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.aws.clients import client
from event_collector.aws.compaction_state import CompactionStateTable
from event_collector.aws.counters_table import CountersTable
from event_collector.aws.regulations_table import RegulationsTable
from event_collector.aws.s3 import S3ObjectStore
from event_collector.compaction.contracts import RegulateRequest
from event_collector.compaction.rollup import Rollups
from event_collector.config import RegulateSettings, load
from event_collector.counts.record import CountingLimits
from event_collector.lake.layout import run_regulations_key
from event_collector.privacy.journal import Deadline
from event_collector.privacy.passes import Counters, Deletion
from event_collector.privacy.sweep import apply_regulations

# Time kept after the last object started: that object (a 128 MB raw object) and the final saves.
MARGIN_SECONDS = 120
logger = Logger()
settings = load(RegulateSettings)
dynamodb = client("dynamodb")
store = S3ObjectStore(client("s3"))
regulations = RegulationsTable(dynamodb, settings.regulations_table_name)
counters = CountersTable(dynamodb, settings.counters_table_name)
deletion = Deletion(
    lake_bucket=settings.lake_bucket_name,
    lake=store,
    state=CompactionStateTable(dynamodb, settings.compaction_state_table_name),
    raw_bucket=settings.raw_bucket_name,
    raw=store,
    counters=Counters(counters, CountingLimits(settings.counter_keys_per_hour, settings.counter_retention_days)),
    firehose_buffer_seconds=settings.firehose_buffer_interval_seconds,
    suppression_cache_seconds=settings.suppression_cache_seconds,
    # The rollup of the days that lost events, recomputed (no Glue here: those days' partitions exist).
    rollups=Rollups(store, settings.lake_bucket_name, None, counters),
)


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = RegulateRequest.model_validate(event)
    remaining = context.get_remaining_time_in_millis() / 1000
    budget = Deadline.within(remaining - min(MARGIN_SECONDS, remaining / 4))
    result, _ = apply_regulations(request, deletion, regulations, now=datetime.now(UTC), budget=budget)
    store.put_json(settings.lake_bucket_name, run_regulations_key(request.plan.run_id), result.model_dump(mode="json"))
    summary = result.model_dump(exclude={"outcomes"})
    logger.info("Regulations", **summary, outcomes=[o.model_dump(exclude={"removed"}) for o in result.outcomes])
    return summary
