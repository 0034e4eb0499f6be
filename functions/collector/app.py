"""Collector Lambda: the API (event_collector.ingest.api) wired to Firehose and four DynamoDB tables:
the counters (written once Firehose took a request's events, in the default counting mode; read by the
GET routes, with the compaction's daily rollups; a rate-limited key's minutes), the tenant keys (the routes
that send events authenticate here), the regulations (privacy requests; the suppressed users whose events it
drops, cached) and the schemas (tenants' own event types and tracking plans the events are checked against,
cached)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.auth.access import SendAccess
from event_collector.auth.decision import KeyLookup
from event_collector.auth.rates import RateLimiter
from event_collector.aws.clients import client
from event_collector.aws.counters_table import CountersTable
from event_collector.aws.firehose import FirehoseRecordSink
from event_collector.aws.rate_limits import RateLimitTable
from event_collector.aws.regulations_table import RegulationsTable
from event_collector.aws.schemas_table import SchemasTable
from event_collector.aws.tenant_keys_table import TenantKeysTable
from event_collector.config import CollectorSettings, load
from event_collector.counts.realtime import RequestCounter
from event_collector.counts.record import CountingLimits
from event_collector.errors import StorageError
from event_collector.ingest.api import Collector, Services, create_collector
from event_collector.ingest.delivery import EventIngestor
from event_collector.privacy.requests import RegulationRequests
from event_collector.privacy.suppression import SuppressionCache
from event_collector.schemas.cache import SchemaCache

logger = Logger()
metrics = Metrics()
settings = load(CollectorSettings)


def build(
    firehose: Any = None,
    dynamodb: Any = None,
    keys: KeyLookup | None = None,
    rates: RateLimiter | None = None,
    counting: Any = None,
) -> Collector:
    """The deployed composition; tests may hand in AWS clients (``counting``: the counters' writer, by
    default ``dynamodb`` when that is given)."""
    sink = FirehoseRecordSink(
        firehose or client("firehose", "request", single_attempt=True), settings.delivery_stream_name
    )
    counter = None
    if settings.counting_mode == "realtime":
        writer = CountersTable(counting or dynamodb or client("dynamodb", "counting"), settings.counters_table_name)
        limits = CountingLimits(settings.counter_keys_per_hour, settings.counter_retention_days)
        counter = RequestCounter(writer, limits)
    dynamodb = dynamodb or client("dynamodb", "request")
    keys = keys or TenantKeysTable(dynamodb, settings.tenant_keys_table_name)
    access = SendAccess(keys, settings.key_cache_seconds)
    rates = rates or RateLimiter(
        RateLimitTable(dynamodb, settings.counters_table_name), on_unavailable=rate_store_failed
    )
    regulations_table = RegulationsTable(dynamodb, settings.regulations_table_name)
    suppressions = SuppressionCache(
        regulations_table, settings.suppression_cache_seconds, on_load_failed=suppressions_not_loaded
    )
    ingestor = EventIngestor(sink, counter, on_counting_failed=counting_failed, suppressions=suppressions)
    counters = CountersTable(dynamodb, settings.counters_table_name)
    regulations = RegulationRequests(regulations_table, on_suppressions_changed=suppressions.forget)
    schemas = SchemasTable(dynamodb, settings.schemas_table_name)
    schema_cache = SchemaCache(schemas, settings.schema_cache_seconds, on_load_failed=schemas_not_loaded)
    services = Services(
        ingestor,
        counters,
        access,
        rates=rates,
        regulations=regulations,
        schemas=schemas,
        schema_cache=schema_cache,
        rollups=counters,  # the daily rollups live in the counters table (counts/rollups.py)
    )
    return create_collector(services, cors_allow_origin=settings.cors_allow_origin)


def rate_store_failed(error: Exception) -> None:
    """A rate-limited key's request is admitted when its minute cannot be counted (auth/rates.py)."""
    logger.warning("Rate limit not checked; request admitted", error=str(error))


def counting_failed(error: Exception, events: int) -> None:
    """The events are stored (Firehose took them) and the client gets 200; only their counts are short."""
    message = "Counting failed after Firehose accepted the events"
    if isinstance(error, StorageError):
        logger.error(message, error=str(error), events=events)
    else:  # not an AWS answer: a defect, logged with its traceback
        logger.exception(message, error=str(error), events=events)
    metrics.add_metric(name="CounterUpdateFailures", unit=MetricUnit.Count, value=1)


def load_failure_reporter(message: str, metric: str) -> Callable[[str, Exception], None]:
    """What a per-container cache calls when a tenant's entry could not be read: one log line (with its
    traceback when the failure is not an AWS answer, i.e. a defect) and one ``metric`` (alarmed)."""

    def report(tenant: str, error: Exception) -> None:
        if isinstance(error, StorageError):
            logger.error(message, tenant=tenant, error=str(error))
        else:
            logger.exception(message, tenant=tenant, error=str(error))
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)

    return report


# The request goes on with the suppressions loaded before, or none: its events are delivered rather than lost
# (docs/privacy.md, "Suppression").
suppressions_not_loaded = load_failure_reporter(
    "Suppressions not loaded; the tenant's last known list applies", "SuppressionLoadFailures"
)
# The request goes on with the tenant's schemas read before, or is answered 503 without them (schemas/cache.py).
schemas_not_loaded = load_failure_reporter(
    "Event schemas not read; the tenant's last known schemas apply, if any", "SchemaLoadFailures"
)


collector = build()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return collector.handle(event, context)
