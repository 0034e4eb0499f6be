"""Collector Lambda: the API (event_collector.ingest.api) wired to Firehose and the two DynamoDB tables:
the counters (read by the GET routes; a key's rate-limit minutes written there) and the tenant keys (the
routes that send events authenticate here)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.auth.access import SendAccess
from event_collector.auth.decision import KeyLookup
from event_collector.auth.rates import RateLimiter
from event_collector.aws.clients import client
from event_collector.aws.counters_table import CountersTable
from event_collector.aws.firehose import FirehoseRecordSink
from event_collector.aws.rate_limits import RateLimitTable
from event_collector.aws.tenant_keys_table import TenantKeysTable
from event_collector.config import CollectorSettings, load
from event_collector.ingest.api import Collector, Services, create_collector
from event_collector.ingest.delivery import EventIngestor

logger = Logger()
metrics = Metrics()
settings = load(CollectorSettings)


def build(
    firehose: Any = None, dynamodb: Any = None, keys: KeyLookup | None = None, rates: RateLimiter | None = None
) -> Collector:
    sink = FirehoseRecordSink(
        firehose or client("firehose", "request", single_attempt=True), settings.delivery_stream_name
    )
    dynamodb = dynamodb or client("dynamodb", "request")
    keys = keys or TenantKeysTable(dynamodb, settings.tenant_keys_table_name)
    access = SendAccess(keys, settings.key_cache_seconds)
    rates = rates or RateLimiter(
        RateLimitTable(dynamodb, settings.counters_table_name), on_unavailable=rate_store_failed
    )
    counters = CountersTable(dynamodb, settings.counters_table_name)
    services = Services(EventIngestor(sink), counters, access, rates=rates)
    return create_collector(services, cors_allow_origin=settings.cors_allow_origin)


def rate_store_failed(error: Exception) -> None:
    """A rate-limited key's request is admitted when its minute cannot be counted (auth/rates.py)."""
    logger.warning("Rate limit not checked; request admitted", error=str(error))


collector = build()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return collector.handle(event, context)
