"""The collector's API: routes (``routes.py``), request reading and validation (``http.py``), who may
send (``auth/access.py``), the one place errors become answers, CORS, and the OpenAPI document with
Swagger UI on ``/v1/docs``.

Built by :func:`create_collector` from its services, so the Lambda handler
only wires clients and the tests hand in their own. The resolver runs
without Powertools' validation: each route validates with the pydantic
models itself, and the OpenAPI document is built on the first request for
it, so neither costs a cold start (docs/decisions.md).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.metrics import MetricUnit

from event_collector import __version__
from event_collector.auth.access import Admission, SendAccess
from event_collector.auth.basic import MalformedCredentials, parse_basic_authorization
from event_collector.auth.decision import authorization_values
from event_collector.auth.rates import RateLimiter
from event_collector.counts.queries import CounterReader, read_counts, read_total
from event_collector.errors import ClientInputError, DeliveryError, KeysUnavailable, RateLimited, StorageError
from event_collector.ingest import segment, validation
from event_collector.ingest.delivery import EventIngestor
from event_collector.ingest.http import (
    DELIVERY_RETRY_AFTER_SECONDS,
    client_error_response,
    error_response,
    header,
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
    SegmentBatch,
    SegmentResult,
)
from event_collector.ingest.routes import DOCS_PATH, SEED_PATHS, SEGMENT_ROUTES
from event_collector.ingest.validation import ValidatedBatch
from event_collector.ingest.volume import EventVolume

# Time kept back for answering after delivery (docs/ingestion.md).
ANSWER_MARGIN_SECONDS = 0.5

logger = Logger()
metrics = Metrics()


@dataclass(frozen=True)
class Services:
    ingestor: EventIngestor
    counters: CounterReader
    access: SendAccess
    clock: Callable[[], float] = time.time
    rates: RateLimiter | None = None  # keys issued with a rate limit (auth/rates.py); None: no limits


@dataclass
class RequestState:
    """What one request decided about CORS: the origin a publishable key was admitted for, or that its
    origin was refused (then no CORS header at all, so no page elsewhere reads the answer)."""

    admission: Admission | None = None
    origin_refused: bool = False


@dataclass
class Collector:
    app: APIGatewayRestResolver
    services: Services
    volume: EventVolume
    cors_allow_origin: str = "*"
    state: RequestState = field(default_factory=RequestState)

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """One invocation: route it, add CORS, publish the event volume when due."""
        self.state = RequestState()
        response: dict[str, Any] = self.app.resolve(event, context)
        self._add_cors(event, response)
        for name, value in self.volume.due().items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        return response

    def _add_cors(self, event: dict[str, Any], response: dict[str, Any]) -> None:
        if self.state.origin_refused:
            return
        admission = self.state.admission
        headers = response.setdefault("multiValueHeaders", {})
        if admission is not None and admission.origin is not None:
            headers["Access-Control-Allow-Origin"] = [admission.origin]
            headers["Vary"] = ["Origin"]
        else:
            headers["Access-Control-Allow-Origin"] = [self.cors_allow_origin]
        headers["Access-Control-Expose-Headers"] = ["Retry-After"]


def create_collector(services: Services, *, cors_allow_origin: str = "*") -> Collector:
    app = APIGatewayRestResolver()
    collector = Collector(app=app, services=services, volume=EventVolume(), cors_allow_origin=cors_allow_origin)

    def event() -> dict[str, Any]:
        raw: dict[str, Any] = app.current_event.raw_event
        return raw

    def reader() -> str:
        """The tenant of a route behind API Gateway's authorizer (reading counts)."""
        return tenant_from_authorizer(event().get("requestContext") or {})

    def sender(body: Any = None) -> Admission:
        """The tenant of a route that sends events: its key from the Authorization header, or a
        ``writeKey`` in the query string or (a beacon) the body, which it leaves."""
        request = event()
        write_key = query_parameter(request, "writeKey")
        if isinstance(body, dict) and "writeKey" in body:
            if write_key is not None:
                raise ClientInputError(401, "unauthorized", "Send one writeKey, in the query string or the body")
            found = body.pop("writeKey")
            write_key = found if isinstance(found, str) else ""
        origin = header(request, "origin")
        try:
            admission = services.access.admit(authorization_values(request), write_key, origin)
        except ClientInputError as refused:
            collector.state.origin_refused = refused.code == "origin_not_allowed"
            raise
        collector.state.admission = admission
        if services.rates is not None:
            services.rates.check(admission.key_id, admission.rate_per_minute)
        return admission

    def received_at() -> int:
        return int(services.clock() * 1000)

    def deliver(batch: ValidatedBatch) -> BatchResult:
        collector.volume.add("EventsRejected", len(batch.rejected))
        context = app.lambda_context
        result = services.ingestor.ingest(
            batch, time_left=lambda: context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS
        )
        collector.volume.add("EventsAccepted", result.accepted)
        return result

    def ingest(tenant: str, events: list[Any], sent_at: int | None = None) -> BatchResult:
        return deliver(validation.validate_batch(events, tenant=tenant, received_at=received_at(), sent_at=sent_at))

    def answer(model: Any) -> dict[str, Any]:
        document: dict[str, Any] = model.model_dump(mode="json")
        return document

    def body_for_sending(limit: int = validation.MAX_BODY_BYTES) -> tuple[Admission, Any]:
        """Authenticate first when the key is not in the body (a header or the query string), so an
        unknown caller never learns more than 401; a beacon's key is in its body, read first. A key is
        never stored: a body's ``writeKey`` is taken out, and besides a header or query key it must be
        that same key (Segment's Python library sends both), else two credentials: 401."""
        request = event()
        if authorization_values(request) or query_parameter(request, "writeKey") is not None:
            admission = sender()
            body = json_body(request, limit=limit, beacon=True)
            if isinstance(body, dict) and "writeKey" in body:
                given = body.pop("writeKey")
                if not isinstance(given, str) or given not in credential_keys(request):
                    raise ClientInputError(
                        401, "unauthorized", "Send one credential: the body's writeKey is not the key of the request"
                    )
            return admission, body
        body = json_body(request, limit=limit, beacon=True)
        return sender(body), body

    @app.post("/v1/events")
    def post_events() -> dict[str, Any]:
        admission, body = body_for_sending()
        batch = validated(EventBatch, body)
        return answer(ingest(admission.tenant, batch.events, batch.sent_at))

    @app.post("/v1/batch")
    def post_segment_batch() -> dict[str, Any]:
        admission, body = body_for_sending(segment.MAX_BATCH_BYTES)
        batch = validated(SegmentBatch, body)
        messages = [_with_batch_defaults(message, batch) for message in batch.batch]
        validated_batch = segment.validate_messages(
            messages, tenant=admission.tenant, received_at=received_at(), sent_at=batch.sentAt
        )
        result = deliver(validated_batch)
        return answer(SegmentResult(accepted=result.accepted, rejected=result.rejected))

    def segment_route(message_type: str) -> Callable[[], dict[str, Any]]:
        def post_segment_message() -> dict[str, Any]:
            admission, body = body_for_sending(segment.MAX_BATCH_BYTES)
            validated_batch = segment.validate_messages(
                [body], tenant=admission.tenant, received_at=received_at(), message_type=message_type
            )
            result = deliver(validated_batch)
            return answer(SegmentResult(accepted=result.accepted, rejected=result.rejected))

        return post_segment_message

    for route in SEGMENT_ROUTES:
        app.post(route.path)(segment_route(str(route.segment_type)))

    @app.post("/button/click")
    def post_button_click() -> dict[str, Any]:
        admission, body = body_for_sending()
        click = validated(ButtonClickFields, body)
        ingest(admission.tenant, [{"event_type": "button_click", **click.model_dump()}])
        return answer(ReceivedMessage())

    @app.post("/web/page_view")
    def post_page_view() -> dict[str, Any]:
        admission, body = body_for_sending()
        view = validated(PageViewFields, body)
        ingest(admission.tenant, [{"event_type": "page_view", **view.model_dump(exclude_none=True)}])
        return answer(ReceivedMessage())

    @app.get("/button/click/count")
    def get_button_click_count() -> dict[str, Any]:
        button_id = str(query_parameter(event(), "button_id", required=True))
        return answer(CountResult(count=read_total(services.counters, reader(), "button_click", button_id)))

    @app.get("/web/page_view/count")
    def get_page_view_count() -> dict[str, Any]:
        url = str(query_parameter(event(), "url", required=True))
        return answer(CountResult(count=read_total(services.counters, reader(), "page_view", url)))

    @app.get("/v1/counts")
    def get_counts() -> dict[str, Any]:
        request = event()
        event_type = str(query_parameter(request, "event_type", required=True))
        counts = read_counts(
            services.counters,
            tenant=reader(),
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
    return collector


def credential_keys(request: dict[str, Any]) -> set[str]:
    """The API keys a request carries in its ``Authorization`` header or ``writeKey`` query parameter."""
    keys: set[str] = set()
    for value in authorization_values(request):
        with contextlib.suppress(MalformedCredentials):  # a malformed header was refused already
            keys.add(parse_basic_authorization(value).api_key)
    written = query_parameter(request, "writeKey")
    if written is not None:
        keys.add(str(written))
    return keys


def _with_batch_defaults(message: Any, batch: SegmentBatch) -> Any:
    """A batch's top-level ``context`` and ``integrations`` apply to each message, whose own keys win."""
    if not isinstance(message, dict):
        return message
    merged = dict(message)
    for name in ("context", "integrations"):
        defaults = getattr(batch, name)
        own = message.get(name)
        if defaults and (own is None or isinstance(own, dict)):
            merged[name] = {**defaults, **(own or {})}
    return merged


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


UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Basic realm="event-collector", charset="UTF-8"'}


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    """The one place exceptions become HTTP answers: JSON bodies, never a bare 500."""

    def as_seed_answer(response: Response[str]) -> Response[str]:
        """The original collector answered 422 to input it could not validate; its routes still do."""
        if app.current_event.path in SEED_PATHS and response.status_code in (400, 415):
            response.status_code = 422
        return response

    @app.exception_handler(ClientInputError)  # type: ignore[untyped-decorator]
    def handle_client_input(error: ClientInputError) -> Response[str]:
        response = client_error_response(error)
        if error.status == 401:
            response.headers.update(UNAUTHORIZED_HEADERS)
        if isinstance(error, RateLimited):
            response.headers["Retry-After"] = str(error.retry_after)
        return as_seed_answer(response)

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

    @app.exception_handler(KeysUnavailable)  # type: ignore[untyped-decorator]
    def handle_keys_unavailable(error: KeysUnavailable) -> Response[str]:
        logger.error("Key lookup failed; answering 503", error=str(error))
        return error_response(503, "keys_unavailable", "Keys cannot be checked right now", headers={"Retry-After": "1"})

    @app.exception_handler(StorageError)  # type: ignore[untyped-decorator]
    def handle_storage_failure(error: StorageError) -> Response[str]:
        logger.error("Counter read failed", error=str(error))
        return error_response(
            503, "counters_unavailable", "Counts are unavailable right now", headers={"Retry-After": "1"}
        )

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def handle_unexpected(error: Exception) -> Response[str]:
        # A bug, not a bad input: say so in JSON and keep the traceback in the logs.
        logger.exception("Unhandled error")
        metrics.add_metric(name="UnhandledErrors", unit=MetricUnit.Count, value=1)
        return error_response(500, "internal_error", "The collector failed unexpectedly; nothing was acknowledged")

    @app.not_found
    def handle_not_found(_: NotFoundError) -> Response[str]:
        return error_response(404, "not_found", "No such route")
