"""Every route of the collector's API, described once: ``api.py`` serves them, ``openapi.py`` documents
them, and tests check the two and the template's API events agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from event_collector.counts.daily import DEFAULT_DAYS, DEFAULT_LIMIT, MAX_DAYS, MAX_LIMIT, DailyCountsResult
from event_collector.ingest.daily_routes import DAILY_COUNTS_PATH
from event_collector.ingest.models import (
    BatchResult,
    ButtonClickFields,
    CountResult,
    CountsResult,
    EventBatch,
    Health,
    PageViewFields,
    ReceivedMessage,
    SchemasResult,
    SegmentBatch,
    SegmentResult,
)
from event_collector.ingest.regulations import REGULATION_PATH, REGULATIONS_PATH
from event_collector.ingest.schema_routes import SCHEMAS_PATH
from event_collector.ingest.segment import SegmentMessage
from event_collector.privacy.requests import RegulationBody, RegulationView

# gateway: API Gateway's authorizer (a secret key in the Authorization header);
# collector: the collector itself (a key in the header, or a writeKey where a beacon can carry it);
# none: public.
Auth = Literal["gateway", "collector", "none"]


@dataclass(frozen=True)
class QueryParameter:
    name: str
    description: str
    required: bool = False


@dataclass(frozen=True)
class PathParameter:
    name: str  # the path's ``{name}``
    description: str


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str
    tag: str
    answer: type[BaseModel]
    errors: tuple[int, ...]
    body: type[BaseModel] | None = None
    query: tuple[QueryParameter, ...] = field(default_factory=tuple)
    auth: Auth = "gateway"
    segment_type: str | None = None  # a Segment single-message route: the message type it implies
    path_parameters: tuple[PathParameter, ...] = field(default_factory=tuple)
    ok: tuple[int, ...] = (200,)  # the statuses that answer ``answer``


# What each kind of route can answer besides 200 (docs/api.md has every code):
# 401/403 from the authorizer or the collector, 413/415/400 from reading the body, 429 over a key's rate
# limit, 503 when storage fails, 500 for a bug.
SEND = (400, 401, 403, 413, 415, 429, 500, 503)
# The original collector's routes answer 422 where the others answer 400 or 415 (docs/api.md).
SEED_SEND = (401, 403, 413, 422, 429, 500, 503)
READ = (400, 401, 403, 500, 503)
SEED_READ = (401, 403, 422, 500, 503)
# Privacy requests: a secret key at the gateway, a small JSON body (no beacons), the regulations table.
ASK = (400, 401, 403, 413, 415, 500, 503)
LOOK_UP = (401, 403, 404, 500, 503)

SEGMENT_ROUTES: tuple[Route, ...] = tuple(
    Route("POST", f"/v1/{kind}", f"Segment {kind} (HTTP Tracking API)", "segment", SegmentResult, SEND,
          body=SegmentMessage, auth="collector", segment_type=kind)
    for kind in ("track", "page", "screen", "identify", "group", "alias")
)  # fmt: skip

ROUTES: tuple[Route, ...] = (
    Route("POST", "/v1/events", "Send a batch of events", "events", BatchResult, SEND, body=EventBatch,
          auth="collector"),
    Route(
        "GET",
        "/v1/counts",
        "Total and hourly series of one event type (and key)",
        "counts",
        CountsResult,
        READ,
        query=(
            QueryParameter("event_type", "A registered event type", required=True),
            QueryParameter("key", "Counter key (URL, button id, name); all keys when absent"),
            QueryParameter("from", "Epoch ms or ISO 8601; default 23 h before 'to'"),
            QueryParameter("to", "Epoch ms or ISO 8601; default now"),
        ),
    ),
    Route(
        "GET",
        DAILY_COUNTS_PATH,
        "Daily events of one event type (compacted rollups, else real-time counters) and its top keys",
        "counts",
        DailyCountsResult,
        READ,
        query=(
            QueryParameter("event_type", "A registered event type", required=True),
            QueryParameter("from", f"First UTC day, YYYY-MM-DD; default {DEFAULT_DAYS - 1} days before 'to'"),
            QueryParameter("to", f"Last UTC day, YYYY-MM-DD (inclusive); default today; at most {MAX_DAYS} days"),
            QueryParameter("limit", f"Top keys to answer, 0 to {MAX_LIMIT}; default {DEFAULT_LIMIT}"),
        ),
    ),
    Route("POST", "/v1/batch", "Segment batch (HTTP Tracking API)", "segment", SegmentResult, SEND,
          body=SegmentBatch, auth="collector"),
    *SEGMENT_ROUTES,
    Route("POST", "/button/click", "Record a button click (original API)", "seed", ReceivedMessage, SEED_SEND,
          body=ButtonClickFields, auth="collector"),
    Route("POST", "/web/page_view", "Record a page view (original API)", "seed", ReceivedMessage, SEED_SEND,
          body=PageViewFields, auth="collector"),
    Route("GET", "/button/click/count", "Total clicks of one button (original API)", "seed", CountResult, SEED_READ,
          query=(QueryParameter("button_id", "The button", required=True),)),
    Route("GET", "/web/page_view/count", "Total views of one URL (original API)", "seed", CountResult, SEED_READ,
          query=(QueryParameter("url", "The page's URL", required=True),)),
    Route("POST", REGULATIONS_PATH, "Ask to delete, suppress or unsuppress a user (202 recorded, 200 as stored)",
          "privacy", RegulationView, ASK, body=RegulationBody, ok=(202, 200)),
    Route("GET", REGULATION_PATH, "One privacy request, as stored", "privacy", RegulationView, LOOK_UP,
          path_parameters=(PathParameter("id", "The request's id, as POST /v1/regulations answered it"),)),
    Route("GET", SCHEMAS_PATH, "The tenant's own event types and tracking plans, latest versions", "schemas",
          SchemasResult, (401, 403, 500, 503)),
    Route("GET", "/v1/health", "Liveness (no authentication)", "health", Health, (500,), auth="none"),
)  # fmt: skip
SEED_PATHS = frozenset(route.path for route in ROUTES if route.tag == "seed")
# A GET route's query parameters (name: required); any other name, or one given twice, is a 400 (422 on the
# seed routes) that names it.
QUERY_PARAMETERS: dict[str, dict[str, bool]] = {
    route.path: {parameter.name: parameter.required for parameter in route.query}
    for route in ROUTES
    if route.method == "GET" and route.query
}
SEND_PATHS = frozenset(route.path for route in ROUTES if route.auth == "collector")
DOCS_PATH = "/v1/docs"  # the OpenAPI document (?format=json) and Swagger UI; public
