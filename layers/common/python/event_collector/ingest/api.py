"""The collector's API: routes (``routes.py``), request reading and validation (``http.py``), who may
send (``auth/access.py``), CORS; errors and the OpenAPI document with Swagger UI on ``/v1/docs`` are
answered by ``answers.py``.

Built by :func:`create_collector` from its services, so the Lambda handler
only wires clients and the tests hand in their own. The resolver runs
without Powertools' validation: each route validates with the pydantic
models itself, and the OpenAPI document is built on the first request for
it, so neither costs a cold start (docs/decisions.md).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit

from event_collector import __version__
from event_collector.auth.access import Admission, SendAccess
from event_collector.auth.basic import MalformedCredentials, parse_basic_authorization
from event_collector.auth.decision import authorization_values
from event_collector.auth.rates import RateLimiter
from event_collector.counts.queries import CounterReader, read_counts, read_total
from event_collector.counts.rollups import RollupStore
from event_collector.errors import ClientInputError
from event_collector.ingest import segment, validation
from event_collector.ingest.answers import docs_answer, register_error_handlers
from event_collector.ingest.daily_routes import DAILY_COUNTS_PATH, DailyCountRoutes
from event_collector.ingest.delivery import EventIngestor
from event_collector.ingest.http import (
    checked_query,
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
from event_collector.ingest.regulations import RegulationRoutes
from event_collector.ingest.routes import DOCS_PATH, QUERY_PARAMETERS, SEED_PATHS, SEGMENT_ROUTES
from event_collector.ingest.schema_routes import SchemaRoutes
from event_collector.ingest.validation import ValidatedBatch
from event_collector.ingest.volume import EventVolume
from event_collector.privacy.requests import RegulationRequests
from event_collector.schemas.cache import SchemaCache, TenantLookup
from event_collector.schemas.registry import SchemaRegistry

# Time kept back for answering after delivery (docs/ingestion.md).
ANSWER_MARGIN_SECONDS = 0.5

metrics = Metrics()


@dataclass(frozen=True)
class Services:
    ingestor: EventIngestor
    counters: CounterReader
    access: SendAccess
    clock: Callable[[], float] = time.time
    rates: RateLimiter | None = None  # keys issued with a rate limit (auth/rates.py); None: no limits
    regulations: RegulationRequests | None = None  # privacy requests (ingest/regulations.py); None: no such routes
    schemas: SchemaRegistry | None = None  # tenants' own types and plans (ingest/schema_routes.py); None: no route
    schema_cache: SchemaCache | None = None  # what events are checked against (schemas/cache.py); None: built-ins
    rollups: RollupStore | None = None  # compaction's daily rollups (ingest/daily_routes.py); None: no such route

    def schemas_of(self, tenant: str) -> TenantLookup | None:
        """One request's view of the tenant's schemas (read only if an event needs them)."""
        return None if self.schema_cache is None else self.schema_cache.for_request(tenant)


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
        collector.volume.add("EventsAccepted", result.accepted - result.suppressed)  # stored
        collector.volume.add("EventsSuppressed", result.suppressed)
        return result

    def ingest(tenant: str, events: list[Any], sent_at: int | None = None) -> BatchResult:
        schemas = services.schemas_of(tenant)
        return deliver(
            validation.validate_batch(
                events, tenant=tenant, received_at=received_at(), sent_at=sent_at, schemas=schemas
            )
        )

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
            messages,
            tenant=admission.tenant,
            received_at=received_at(),
            sent_at=batch.sentAt,
            schemas=services.schemas_of(admission.tenant),
        )
        return answer(SegmentResult(**dict(deliver(validated_batch))))

    def segment_route(message_type: str) -> Callable[[], dict[str, Any]]:
        def post_segment_message() -> dict[str, Any]:
            admission, body = body_for_sending(segment.MAX_BATCH_BYTES)
            validated_batch = segment.validate_messages(
                [body],
                tenant=admission.tenant,
                received_at=received_at(),
                message_type=message_type,
                schemas=services.schemas_of(admission.tenant),
            )
            return answer(SegmentResult(**dict(deliver(validated_batch))))

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

    def query() -> dict[str, str]:
        """The route's query parameters, each named by the route and given once (else a 400 naming them)."""
        path = app.current_event.path
        return checked_query(event(), QUERY_PARAMETERS[path], ignore_unknown=path in SEED_PATHS)

    @app.get("/button/click/count")
    def get_button_click_count() -> dict[str, Any]:
        button_id = query()["button_id"]
        count = read_total(services.counters, reader(), "button_click", button_id, parameter="button_id")
        return answer(CountResult(count=count))

    @app.get("/web/page_view/count")
    def get_page_view_count() -> dict[str, Any]:
        url = query()["url"]
        return answer(CountResult(count=read_total(services.counters, reader(), "page_view", url, parameter="url")))

    @app.get("/v1/counts")
    def get_counts() -> dict[str, Any]:
        parameters = query()
        tenant = reader()
        schemas = services.schemas_of(tenant)
        counts = read_counts(
            services.counters,
            tenant=tenant,
            event_type=parameters["event_type"],
            owns=schemas.event_type if schemas is not None else None,
            key=parameters.get("key"),
            start=parameters.get("from"),
            end=parameters.get("to"),
            now=datetime.fromtimestamp(services.clock(), tz=UTC),
        )
        return answer(counts)

    @app.get("/v1/health")
    def get_health() -> dict[str, Any]:
        return answer(Health(version=__version__))

    @app.get(DOCS_PATH)
    def get_docs() -> Response[str]:
        return docs_answer(event())

    if services.regulations is not None:
        RegulationRoutes(app, services.regulations).register()
    if services.schemas is not None:
        SchemaRoutes(app, services.schemas).register()
    if services.rollups is not None:
        DailyCountRoutes(
            app,
            services.rollups,
            services.counters,
            parameters=QUERY_PARAMETERS[DAILY_COUNTS_PATH],
            schemas_of=services.schemas_of,
            clock=services.clock,
        ).register()
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
