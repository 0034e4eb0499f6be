"""The collector's API: routes (``routes.py``), request reading and validation (``http.py``), the one
place errors become answers, and the OpenAPI document with Swagger UI on ``/v1/docs``.

Built by :func:`create_collector` from its services, so the Lambda handler
only wires clients and the tests hand in their own. The resolver runs
without Powertools' validation: each route validates with the pydantic
models itself, and the OpenAPI document is built on the first request for
it, so neither costs a cold start (docs/decisions.md).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.metrics import MetricUnit

from event_collector import __version__
from event_collector.counts.queries import CounterReader, read_counts, read_total
from event_collector.errors import ClientInputError, DeliveryError, StorageError
from event_collector.ingest import validation
from event_collector.ingest.delivery import EventIngestor
from event_collector.ingest.http import (
    DELIVERY_RETRY_AFTER_SECONDS,
    client_error_response,
    error_response,
    json_body,
    query_parameter,
    tenant_from_authorizer,
    validated,
)
from event_collector.ingest.models import (
    BatchResult,
    ButtonClickFields,
    CountResult,
    EventBatch,
    Health,
    PageViewFields,
    ReceivedMessage,
)
from event_collector.ingest.routes import DOCS_PATH, SEED_PATHS
from event_collector.ingest.volume import EventVolume

# Time kept back for answering after delivery (docs/ingestion.md).
ANSWER_MARGIN_SECONDS = 0.5

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
    volume: EventVolume

    def publish_volume(self) -> None:
        """Add the event volume sums to this invocation's metrics, when they are due (``volume.py``)."""
        for name, value in self.volume.due().items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def create_collector(services: Services, *, cors_allow_origin: str = "*") -> Collector:
    app = APIGatewayRestResolver(
        cors=CORSConfig(allow_origin=cors_allow_origin, allow_headers=["Authorization", "Content-Type"], max_age=600)
    )
    volume = EventVolume()

    def event() -> dict[str, Any]:
        raw: dict[str, Any] = app.current_event.raw_event
        return raw

    def tenant() -> str:
        return tenant_from_authorizer(event().get("requestContext") or {})

    def ingest(events: list[Any], sent_at: int | None = None) -> BatchResult:
        owner = tenant()
        received_at = int(services.clock() * 1000)
        batch = validation.validate_batch(events, tenant=owner, received_at=received_at, sent_at=sent_at)
        volume.add("EventsRejected", len(batch.rejected))
        context = app.lambda_context
        result = services.ingestor.ingest(
            batch, time_left=lambda: context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS
        )
        volume.add("EventsAccepted", result.accepted)
        return result

    def answer(model: Any) -> dict[str, Any]:
        document: dict[str, Any] = model.model_dump(mode="json")
        return document

    @app.post("/v1/events")
    def post_events() -> dict[str, Any]:
        batch = validated(EventBatch, json_body(event()))
        return answer(ingest(batch.events, batch.sent_at))

    @app.post("/button/click")
    def post_button_click() -> dict[str, Any]:
        click = validated(ButtonClickFields, json_body(event()))
        ingest([{"event_type": "button_click", **click.model_dump()}])
        return answer(ReceivedMessage())

    @app.post("/web/page_view")
    def post_page_view() -> dict[str, Any]:
        view = validated(PageViewFields, json_body(event()))
        ingest([{"event_type": "page_view", **view.model_dump(exclude_none=True)}])
        return answer(ReceivedMessage())

    @app.get("/button/click/count")
    def get_button_click_count() -> dict[str, Any]:
        button_id = str(query_parameter(event(), "button_id", required=True))
        return answer(CountResult(count=read_total(services.counters, tenant(), "button_click", button_id)))

    @app.get("/web/page_view/count")
    def get_page_view_count() -> dict[str, Any]:
        url = str(query_parameter(event(), "url", required=True))
        return answer(CountResult(count=read_total(services.counters, tenant(), "page_view", url)))

    @app.get("/v1/counts")
    def get_counts() -> dict[str, Any]:
        request = event()
        event_type = str(query_parameter(request, "event_type", required=True))
        counts = read_counts(
            services.counters,
            tenant=tenant(),
            event_type=event_type,
            key=query_parameter(request, "key"),
            start=query_parameter(request, "from"),
            end=query_parameter(request, "to"),
            now=datetime.fromtimestamp(services.clock(), tz=UTC),
        )
        return answer(counts)

    @app.get("/v1/health")
    def get_health() -> dict[str, Any]:
        return answer(Health(version=__version__))

    @app.get(DOCS_PATH)
    def get_docs() -> Response[str]:
        return docs_answer(event())

    register_error_handlers(app)
    return Collector(app=app, services=services, volume=volume)


def served_from(request: dict[str, Any]) -> str:
    """The base path the API was called under: API Gateway's stage (``/prod``) or ``/`` (a custom domain,
    an HTTP API's ``$default`` stage, the local mode): ``requestContext.path`` minus the route's path."""
    full = str((request.get("requestContext") or {}).get("path") or "")
    route = str(request.get("path") or "")
    prefix = full[: -len(route)] if route and full.endswith(route) else ""
    return prefix or "/"


def docs_answer(request: dict[str, Any]) -> Response[str]:
    """``?format=json``: the OpenAPI document; otherwise Swagger UI (its files bundled with Powertools)."""
    from event_collector.ingest.openapi import openapi_document

    spec = json.dumps(openapi_document(served_from(request)), ensure_ascii=False)
    if (request.get("queryStringParameters") or {}).get("format") == "json":
        return Response(200, content_types.APPLICATION_JSON, spec)
    return Response(200, "text/html; charset=utf-8", swagger_page(spec))


def swagger_page(spec: str) -> str:
    from pathlib import Path

    import aws_lambda_powertools.event_handler as handler
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    assets = Path(handler.__file__).parent / "openapi" / "swagger_ui"
    script = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    style = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    return generate_swagger_html(spec.replace("</", "<\\/"), script, style, "", None)


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    """The one place exceptions become HTTP answers: JSON bodies, CORS included, never a bare 500."""

    def as_seed_answer(response: Response[str]) -> Response[str]:
        """The original collector answered 422 to input it could not validate; its routes still do."""
        if app.current_event.path in SEED_PATHS and response.status_code in (400, 415):
            response.status_code = 422
        return response

    @app.exception_handler(ClientInputError)  # type: ignore[untyped-decorator]
    def handle_client_input(error: ClientInputError) -> Response[str]:
        return as_seed_answer(client_error_response(error))

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
