"""Every route of the collector's API, described once: ``api.py`` serves them, ``openapi.py`` documents
them, and a test checks the two and the template's ``Api`` events agree."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

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


@dataclass(frozen=True)
class QueryParameter:
    name: str
    description: str
    required: bool = False


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
    authenticated: bool = True


# What each kind of route can answer besides 200 (docs/api.md has every code):
# 401/403 from the authorizer, 413/415/400 from reading the body, 503 when storage fails, 500 for a bug.
SEND = (400, 401, 403, 413, 415, 500, 503)
# The original collector's routes answer 422 where the others answer 400 or 415 (docs/api.md).
SEED_SEND = (401, 403, 413, 422, 500, 503)
READ = (400, 401, 403, 500, 503)
SEED_READ = (401, 403, 422, 500, 503)

ROUTES: tuple[Route, ...] = (
    Route("POST", "/v1/events", "Send a batch of events", "events", BatchResult, SEND, body=EventBatch),
    Route(
        "GET",
        "/v1/counts",
        "Total and hourly series of one event type (and key)",
        "counts",
        CountsResult,
        READ,
        query=(
            QueryParameter("event_type", "A registered event type", required=True),
            QueryParameter("key", "Counter key (URL, button id, track name); all keys when absent"),
            QueryParameter("from", "Epoch ms or ISO 8601; default 23 h before 'to'"),
            QueryParameter("to", "Epoch ms or ISO 8601; default now"),
        ),
    ),
    Route("POST", "/button/click", "Record a button click (original API)", "seed", ReceivedMessage, SEED_SEND,
          body=ButtonClickFields),
    Route("POST", "/web/page_view", "Record a page view (original API)", "seed", ReceivedMessage, SEED_SEND,
          body=PageViewFields),
    Route("GET", "/button/click/count", "Total clicks of one button (original API)", "seed", CountResult, SEED_READ,
          query=(QueryParameter("button_id", "The button", required=True),)),
    Route("GET", "/web/page_view/count", "Total views of one URL (original API)", "seed", CountResult, SEED_READ,
          query=(QueryParameter("url", "The page's URL", required=True),)),
    Route("GET", "/v1/health", "Liveness (no authentication)", "health", Health, (500,), authenticated=False),
)  # fmt: skip
SEED_PATHS = frozenset(route.path for route in ROUTES if route.tag == "seed")
DOCS_PATH = "/v1/docs"  # the OpenAPI document (?format=json) and Swagger UI; public
