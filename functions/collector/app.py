"""Collector Lambda: REST routes for events, counts, health and the API docs.

Thin by design: routes parse the request and call the shared package.
No ``from __future__ import annotations`` here: Powertools reads the route
signatures' annotations at runtime to validate and document requests.
"""

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import HTTPBase
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from event_collector import __version__
from event_collector.adapters.counters_table import CountersTable
from event_collector.adapters.firehose import FirehoseRecordSink
from event_collector.count_queries import read_counts, read_total
from event_collector.errors import ClientInputError, DeliveryError, StorageError
from event_collector.http import (
    DELIVERY_RETRY_AFTER_SECONDS,
    check_json_request,
    client_error_response,
    error_response,
    tenant_from_authorizer,
    validation_error_response,
)
from event_collector.ingest import EventIngestor, validate_batch
from event_collector.json_values import loads_strict
from event_collector.models import (
    BatchResult,
    ButtonClickFields,
    CountResult,
    CountsResult,
    ErrorBody,
    EventBatch,
    Health,
    PageViewFields,
    ReceivedMessage,
)
from event_collector.settings import Settings, get_settings

OPENAPI_TITLE = "Event collector API"
AUTHENTICATED: list[dict[str, list[str]]] = [{"tenantKey": []}]

logger = Logger()
metrics = Metrics()
app = APIGatewayRestResolver(
    enable_validation=True,
    cors=CORSConfig(
        allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "*"),
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    ),
    json_body_deserializer=loads_strict,
)
app.configure_openapi(
    title=OPENAPI_TITLE,
    version=__version__,
    description="Send events, read real-time counts. HTTP Basic: tenant id and API key.",
    security_schemes={"tenantKey": HTTPBase(scheme="basic")},
)
app.enable_swagger(path="/v1/docs")

# Timeouts bound every call so the request always ends in an answer (a 503 at worst), not a Lambda
# timeout (API Gateway's 502): one Firehose HTTP attempt per call (FirehoseRecordSink retries itself,
# within the time left), at most two per DynamoDB call (docs/ingestion.md).
FIREHOSE_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=1, read_timeout=2
)
DYNAMODB_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=1, read_timeout=2
)
# Time kept back for answering after delivery.
ANSWER_MARGIN_SECONDS = 0.5
# The original collector's routes answer its status for invalid input (docs/api.md).
SEED_ROUTES = ("/button/click", "/web/page_view", "/button/click/count", "/web/page_view/count")
ERRORS: dict[int, OpenAPIResponse] = {
    status: {"description": description, "content": {"application/json": {"schema": ErrorBody.model_json_schema()}}}
    for status, description in {
        400: "Invalid request",
        401: "Missing or malformed credentials",
        403: "Wrong, revoked or expired key",
        413: "Body or batch over a limit",
        415: "Body is not application/json",
        503: "Delivery failed; retry after Retry-After seconds with the same event_ids",
    }.items()
}


@dataclass(frozen=True)
class Services:
    ingestor: EventIngestor
    counters: CountersTable


def build_services(settings: Settings, firehose: Any = None, dynamodb: Any = None) -> Services:
    firehose = firehose or boto3.client("firehose", config=FIREHOSE_CLIENT_CONFIG)
    dynamodb = dynamodb or boto3.client("dynamodb", config=DYNAMODB_CLIENT_CONFIG)
    sink = FirehoseRecordSink(firehose, settings.delivery_stream_name)
    return Services(ingestor=EventIngestor(sink), counters=CountersTable(dynamodb, settings.counters_table_name))


services = build_services(get_settings())


def _tenant() -> str:
    return tenant_from_authorizer(app.current_event.raw_event.get("requestContext") or {})


def _ingest(events: list[Any], sent_at: int | None = None) -> BatchResult:
    check_json_request(app.current_event.raw_event)
    tenant = _tenant()
    received_at = int(time.time() * 1000)
    batch = validate_batch(events, tenant=tenant, received_at=received_at, sent_at=sent_at)
    metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=len(batch.rejected))
    context = app.lambda_context
    result = services.ingestor.ingest(
        batch, time_left=lambda: context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS
    )
    metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=result.accepted)
    return result


@app.post(
    "/v1/events",
    security=AUTHENTICATED,
    tags=["events"],
    summary="Send a batch of events",
    responses={200: {"description": "Accepted (possibly in part)"}, **ERRORS},
)
def post_events(batch: Annotated[EventBatch, Body()]) -> BatchResult:
    return _ingest(batch.events, batch.sent_at)


@app.post(
    "/button/click",
    security=AUTHENTICATED,
    tags=["seed"],
    summary="Record a button click (original API)",
    responses=ERRORS,
)
def post_button_click(click: Annotated[ButtonClickFields, Body()]) -> ReceivedMessage:
    _ingest([{"event_type": "button_click", **click.model_dump()}])
    return ReceivedMessage()


@app.post(
    "/web/page_view",
    security=AUTHENTICATED,
    tags=["seed"],
    summary="Record a page view (original API)",
    responses=ERRORS,
)
def post_page_view(view: Annotated[PageViewFields, Body()]) -> ReceivedMessage:
    _ingest([{"event_type": "page_view", **view.model_dump(exclude_none=True)}])
    return ReceivedMessage()


@app.get(
    "/button/click/count", security=AUTHENTICATED, tags=["seed"], summary="Total clicks of one button", responses=ERRORS
)
def get_button_click_count(button_id: Annotated[str, Query()]) -> CountResult:
    return CountResult(count=read_total(services.counters, _tenant(), "button_click", button_id))


@app.get(
    "/web/page_view/count", security=AUTHENTICATED, tags=["seed"], summary="Total views of one URL", responses=ERRORS
)
def get_page_view_count(url: Annotated[str, Query()]) -> CountResult:
    return CountResult(count=read_total(services.counters, _tenant(), "page_view", url))


@app.get("/v1/counts", security=AUTHENTICATED, tags=["counts"], summary="Total and hourly series", responses=ERRORS)
def get_counts(
    event_type: Annotated[str, Query(min_length=1, max_length=64)],
    key: Annotated[str | None, Query(description="Counter key; all keys when absent")] = None,
    start: Annotated[
        str | None, Query(alias="from", description="Epoch ms or ISO 8601; default 23 h before 'to'")
    ] = None,
    end: Annotated[str | None, Query(alias="to", description="Epoch ms or ISO 8601; default now")] = None,
) -> CountsResult:
    return read_counts(
        services.counters, tenant=_tenant(), event_type=event_type, key=key, start=start, end=end, now=datetime.now(UTC)
    )


@app.get("/v1/health", tags=["health"], summary="Liveness (no authentication)")
def get_health() -> Health:
    return Health(version=__version__)


def as_seed_answer(response: Response[str]) -> Response[str]:
    """The original collector answered 422 to input it could not validate; its routes still do."""
    if app.current_event.resource in SEED_ROUTES and response.status_code in (400, 415):
        response.status_code = 422
    return response


@app.exception_handler(ClientInputError)
def handle_client_input(error: ClientInputError) -> Response[str]:
    return as_seed_answer(client_error_response(error))


@app.exception_handler([RequestValidationError, RequestUnsupportedContentType])
def handle_validation(error: RequestValidationError) -> Response[str]:
    return as_seed_answer(validation_error_response(app.current_event.raw_event, list(error.errors())))


@app.exception_handler(UnicodeDecodeError)
def handle_undecodable_body(_: UnicodeDecodeError) -> Response[str]:
    return as_seed_answer(error_response(400, "invalid_encoding", "Request body is not valid UTF-8"))


@app.exception_handler(DeliveryError)
def handle_delivery_failure(error: DeliveryError) -> Response[str]:
    logger.error("Firehose delivery failed; answering 503", failed_records=error.failed_records)
    metrics.add_metric(name="DeliveryFailures", unit=MetricUnit.Count, value=1)
    return error_response(
        503,
        "delivery_failed",
        "Events could not be stored. Retry with the same event_ids.",
        headers={"Retry-After": str(DELIVERY_RETRY_AFTER_SECONDS)},
    )


@app.exception_handler(StorageError)
def handle_storage_failure(error: StorageError) -> Response[str]:
    logger.error("Counter read failed", error=str(error))
    return error_response(503, "counters_unavailable", "Counts are unavailable right now", headers={"Retry-After": "1"})


@app.exception_handler(Exception)
def handle_unexpected(error: Exception) -> Response[str]:
    # A bug, not a bad input: say so in JSON (with CORS) and keep the traceback in the logs.
    logger.exception("Unhandled error")
    metrics.add_metric(name="UnhandledErrors", unit=MetricUnit.Count, value=1)
    return error_response(500, "internal_error", "The collector failed unexpectedly; nothing was acknowledged")


@app.not_found
def handle_not_found(_: NotFoundError) -> Response[str]:
    return error_response(404, "not_found", "No such route")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
