"""Collector Lambda: the REST API (event_collector.ingest.api) wired to Firehose and the counters table."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.aws.clients import client
from event_collector.aws.counters_table import CountersTable
from event_collector.aws.firehose import FirehoseRecordSink
from event_collector.config import CollectorSettings, load
from event_collector.ingest.api import Collector, Services, create_collector
from event_collector.ingest.delivery import EventIngestor

logger = Logger()
metrics = Metrics()
settings = load(CollectorSettings)


def build(firehose: Any = None, dynamodb: Any = None) -> Collector:
    sink = FirehoseRecordSink(
        firehose or client("firehose", "request", single_attempt=True), settings.delivery_stream_name
    )
    counters = CountersTable(dynamodb or client("dynamodb", "request"), settings.counters_table_name)
    return create_collector(Services(EventIngestor(sink), counters), cors_allow_origin=settings.cors_allow_origin)


collector = build()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = collector.app.resolve(event, context)
    collector.publish_volume()
    return response
