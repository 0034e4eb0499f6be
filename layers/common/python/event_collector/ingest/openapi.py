"""The OpenAPI document of the collector, built from the route table and the same pydantic models that
validate requests. Built on the first request for it, never at a cold start.

Truthful by construction: each route lists the answers it can send (its 200
with the answer model's schema, and its error statuses with the error body's
schema), and the server URL is where the document was served from.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from event_collector import __version__
from event_collector.ingest.models import EVENT_MODELS, ErrorBody
from event_collector.ingest.routes import ROUTES, Route

TITLE = "Event collector API"
DESCRIPTION = (
    "Send events, read counts. Authenticated routes take HTTP Basic credentials: the tenant id as the user "
    "name and an API key as the password, or the API key alone as the user name (a Segment write key). The "
    "routes that send events also take the key as `writeKey` in the query string or the body (beacons), a "
    "publishable key from its own web origins only, and `text/plain` and gzip bodies. Segment's HTTP Tracking "
    "API is served under /v1/batch, /v1/track and its siblings. Besides the answers listed per route, API "
    "Gateway itself may answer "
    "403 for an unknown route, 413 over 10 MB, 429 when throttled and 502/504 when a function fails or times "
    "out, each with the same JSON error body."
)
ERROR_DESCRIPTIONS = {
    400: "Invalid request: the body or query is malformed or names invalid fields (see `error` and `details`)",
    401: "Missing, malformed or repeated credentials",
    403: "Wrong, revoked or expired key",
    413: "Body or batch over a limit",
    415: "Body is not application/json",
    422: "Invalid input (the original collector's status for any unreadable or invalid request)",
    429: "The key's rate limit is used up for this minute; retry after `Retry-After` seconds",
    500: "The collector failed unexpectedly; nothing was acknowledged",
    503: "Storage is unavailable; retry after `Retry-After` seconds (with the same event ids)",
}
REF = "#/components/schemas/{model}"


def _schemas(routes: tuple[Route, ...]) -> tuple[dict[Any, Any], dict[str, Any]]:
    models: list[tuple[type[BaseModel], Any]] = [(ErrorBody, "serialization")]
    models += [(model, "validation") for model in EVENT_MODELS.values()]
    for route in routes:
        models.append((route.answer, "serialization"))
        if route.body is not None:
            models.append((route.body, "validation"))
    references, definitions = models_json_schema(models, ref_template=REF)
    return dict(references), dict(definitions.get("$defs", {}))


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(route: Route, references: dict[Any, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": _json_content(references[(route.answer, "serialization")])}
    }
    error_schema = references[(ErrorBody, "serialization")]
    for status in route.errors:
        answer: dict[str, Any] = {"description": ERROR_DESCRIPTIONS[status], "content": _json_content(error_schema)}
        if status in (429, 503):
            answer["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}}
        responses[str(status)] = answer
    operation: dict[str, Any] = {
        "tags": [route.tag],
        "summary": route.summary,
        "operationId": f"{route.method.lower()}_{route.path.strip('/').replace('/', '_')}",
        "responses": responses,
    }
    if route.auth == "gateway":
        operation["security"] = [{"tenantKey": []}]
    elif route.auth == "collector":
        operation["security"] = [{"tenantKey": []}, {"writeKey": []}]
    if route.query:
        operation["parameters"] = [
            {
                "name": parameter.name,
                "in": "query",
                "required": parameter.required,
                "description": parameter.description,
                "schema": {"type": "string"},
            }
            for parameter in route.query
        ]
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": _json_content(references[(route.body, "validation")]),
        }
    return operation


# The committed docs/openapi.json names the deployed REST API's default endpoint, with variables.
DEPLOYED_SERVER = {
    "url": "https://{api_id}.execute-api.{region}.amazonaws.com/{stage}",
    "description": "The stack's ApiUrl output",
    "variables": {
        "api_id": {"default": "api-id", "description": "The REST API's id"},
        "region": {"default": "us-east-1"},
        "stage": {"default": "prod", "description": "The StageName parameter"},
    },
}


def openapi_document(server_url: str | None = None) -> dict[str, Any]:
    """The document; ``server_url``: where it is served from (default: the deployed API, with variables)."""
    references, definitions = _schemas(ROUTES)
    events = definitions["EventBatch"]["properties"]["events"]
    events["items"] = {
        "oneOf": [references[(model, "validation")] for model in EVENT_MODELS.values()],
        "discriminator": {
            "propertyName": "event_type",
            "mapping": {name: REF.format(model=model.__name__) for name, model in EVENT_MODELS.items()},
        },
    }
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, references)
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": __version__, "description": DESCRIPTION},
        "servers": [{"url": server_url} if server_url else DEPLOYED_SERVER],
        "paths": paths,
        "components": {
            "schemas": definitions,
            "securitySchemes": {
                "tenantKey": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "tenant id and API key, or an API key (a write key) with an empty password",
                },
                "writeKey": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "writeKey",
                    "description": "An API key where no header can be sent (a beacon); also accepted in the body",
                },
            },
        },
    }
