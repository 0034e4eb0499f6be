"""The collector's REST API: routes, request validation, error mapping and the OpenAPI document.

Built by :func:`create_collector` from its services, so the Lambda handler
only wires clients and the tests hand in their own. No ``from __future__
import annotations``: Powertools reads the route signatures' annotations at
run time to validate and document requests.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import HTTPBase
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.metrics import MetricUnit

from event_collector import __version__
from event_collector.counts.queries import CounterReader, read_counts, read_total
from event_collector.errors import ClientInputError, DeliveryError, StorageError
from event_collector.ingest import validation
from event_collector.ingest.delivery import EventIngestor
from event_collector.ingest.http import (
    AUTHENTICATED,
    DELIVERY_RETRY_AFTER_SECONDS,
    ERRORS,
    check_json_request,
    client_error_response,
    error_response,
    tenant_from_authorizer,
    validation_error_response,
)
from event_collector.ingest.models import (
    BatchResult,
    ButtonClickFields,
    CountResult,
    CountsResult,
    EventBatch,
    Health,
    PageViewFields,
    ReceivedMessage,
)
from event_collector.json_values import loads_strict

OPENAPI_TITLE = "Event collector API"
# Time kept back for answering after delivery (docs/ingestion.md).
ANSWER_MARGIN_SECONDS = 0.5
# The original collector's routes answer its status for invalid input (docs/api.md).
SEED_ROUTES = ("/button/click", "/web/page_view", "/button/click/count", "/web/page_view/count")

logger = Logger()
metrics = Metrics()


@dataclass(frozen=True)
class Services:
    ingestor: EventIngestor
    counters: CounterReader
    clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class Collector:
    app: APIGatewayRestResolver
    services: Services


def create_collector(services: Services, *, cors_allow_origin: str = "*") -> Collector:
    app = APIGatewayRestResolver(
        enable_validation=True,
        cors=CORSConfig(allow_origin=cors_allow_origin, allow_headers=["Authorization", "Content-Type"], max_age=600),
        json_body_deserializer=loads_strict,
    )
    app.configure_openapi(
        title=OPENAPI_TITLE,
        version=__version__,
        description="Send events, read counts. HTTP Basic: tenant id and API key.",
        security_schemes={"tenantKey": HTTPBase(scheme="basic")},
    )
    app.enable_swagger(path="/v1/docs")

    def tenant() -> str:
        return tenant_from_authorizer(app.current_event.raw_event.get("requestContext") or {})

    def ingest(events: list[Any], sent_at: int | None = None) -> BatchResult:
        check_json_request(app.current_event.raw_event)
        owner = tenant()
        received_at = int(services.clock() * 1000)
        batch = validation.validate_batch(events, tenant=owner, received_at=received_at, sent_at=sent_at)
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
        return ingest(batch.events, batch.sent_at)

    @app.post(
        "/button/click",
        security=AUTHENTICATED,
        tags=["seed"],
        summary="Record a button click (original API)",
        responses=ERRORS,
    )
    def post_button_click(click: Annotated[ButtonClickFields, Body()]) -> ReceivedMessage:
        ingest([{"event_type": "button_click", **click.model_dump()}])
        return ReceivedMessage()

    @app.post(
        "/web/page_view",
        security=AUTHENTICATED,
        tags=["seed"],
        summary="Record a page view (original API)",
        responses=ERRORS,
    )
    def post_page_view(view: Annotated[PageViewFields, Body()]) -> ReceivedMessage:
        ingest([{"event_type": "page_view", **view.model_dump(exclude_none=True)}])
        return ReceivedMessage()

    @app.get(
        "/button/click/count",
        security=AUTHENTICATED,
        tags=["seed"],
        summary="Total clicks of one button",
        responses=ERRORS,
    )
    def get_button_click_count(button_id: Annotated[str, Query()]) -> CountResult:
        return CountResult(count=read_total(services.counters, tenant(), "button_click", button_id))

    @app.get(
        "/web/page_view/count",
        security=AUTHENTICATED,
        tags=["seed"],
        summary="Total views of one URL",
        responses=ERRORS,
    )
    def get_page_view_count(url: Annotated[str, Query()]) -> CountResult:
        return CountResult(count=read_total(services.counters, tenant(), "page_view", url))

    @app.get("/v1/counts", security=AUTHENTICATED, tags=["counts"], summary="Total and hourly series", responses=ERRORS)
    def get_counts(
        event_type: Annotated[str, Query(min_length=1, max_length=64)],
        key: Annotated[str | None, Query(description="Counter key; all keys when absent")] = None,
        start: Annotated[
            str | None, Query(alias="from", description="Epoch ms or ISO 8601; default 23 h before 'to'")
        ] = None,
        end: Annotated[str | None, Query(alias="to", description="Epoch ms or ISO 8601; default now")] = None,
    ) -> CountsResult:
        now = datetime.fromtimestamp(services.clock(), tz=UTC)
        return read_counts(
            services.counters, tenant=tenant(), event_type=event_type, key=key, start=start, end=end, now=now
        )

    @app.get("/v1/health", tags=["health"], summary="Liveness (no authentication)")
    def get_health() -> Health:
        return Health(version=__version__)

    register_error_handlers(app)
    return Collector(app=app, services=services)


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    """The one place exceptions become HTTP answers: JSON bodies, CORS included, never a bare 500."""

    def as_seed_answer(response: Response[str]) -> Response[str]:
        """The original collector answered 422 to input it could not validate; its routes still do."""
        if app.current_event.resource in SEED_ROUTES and response.status_code in (400, 415):
            response.status_code = 422
        return response

    @app.exception_handler(ClientInputError)  # type: ignore[untyped-decorator]
    def handle_client_input(error: ClientInputError) -> Response[str]:
        return as_seed_answer(client_error_response(error))

    @app.exception_handler([RequestValidationError, RequestUnsupportedContentType])  # type: ignore[untyped-decorator]
    def handle_validation(error: RequestValidationError) -> Response[str]:
        return as_seed_answer(validation_error_response(app.current_event.raw_event, list(error.errors())))

    @app.exception_handler(UnicodeDecodeError)  # type: ignore[untyped-decorator]
    def handle_undecodable_body(_: UnicodeDecodeError) -> Response[str]:
        return as_seed_answer(error_response(400, "invalid_encoding", "Request body is not valid UTF-8"))

    @app.exception_handler(DeliveryError)  # type: ignore[untyped-decorator]
    def handle_delivery_failure(error: DeliveryError) -> Response[str]:
        logger.error("Firehose delivery failed; answering 503", failed_records=error.failed_records)
        metrics.add_metric(name="DeliveryFailures", unit=MetricUnit.Count, value=1)
        return error_response(
            503,
            "delivery_failed",
            "Events could not be stored. Retry with the same event_ids.",
            headers={"Retry-After": str(DELIVERY_RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(StorageError)  # type: ignore[untyped-decorator]
    def handle_storage_failure(error: StorageError) -> Response[str]:
        logger.error("Counter read failed", error=str(error))
        return error_response(
            503, "counters_unavailable", "Counts are unavailable right now", headers={"Retry-After": "1"}
        )

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def handle_unexpected(error: Exception) -> Response[str]:
        # A bug, not a bad input: say so in JSON (with CORS) and keep the traceback in the logs.
        logger.exception("Unhandled error")
        metrics.add_metric(name="UnhandledErrors", unit=MetricUnit.Count, value=1)
        return error_response(500, "internal_error", "The collector failed unexpectedly; nothing was acknowledged")

    @app.not_found
    def handle_not_found(_: NotFoundError) -> Response[str]:
        return error_response(404, "not_found", "No such route")
