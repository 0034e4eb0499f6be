"""The OpenAPI document of the collector, built from the route table and the same pydantic models that
validate requests. Built on the first request for it, never at a cold start.

Truthful by construction: each route lists the answers it can send (its 200
with the answer model's schema, and its error statuses with the error body's
schema), and the server URL is where the document was served from.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from event_collector import __version__
from event_collector.ingest.http import BEACON_MEDIA_TYPE
from event_collector.ingest.models import EVENT_MODELS, CustomEvent, ErrorBody
from event_collector.ingest.routes import ROUTES, Route
from event_collector.ingest.segment import SegmentMessage

TITLE = "Event collector API"
DESCRIPTION = (
    "Send events, read counts. Authenticated routes take HTTP Basic credentials: the tenant id as the user "
    "name and an API key as the password, or the API key alone as the user name (a Segment write key). The "
    "routes that send events also take the key as `writeKey` in the query string or the body (beacons), a "
    "publishable key from its own web origins only, and a `text/plain` body holding JSON (what "
    "`navigator.sendBeacon` sends) as well as `application/json`, either of them gzip-compressed "
    "(`Content-Encoding: gzip`). Segment's HTTP Tracking API is served under /v1/batch, /v1/track and its "
    "siblings. Besides the answers listed per route, API Gateway itself may answer 404 for a route or method "
    "the API does not have, 413 over 10 MB, 429 when throttled, 503 when the authorizer is unavailable and "
    "502/504 when a function fails or times out: on the REST API each with the same JSON error body (`error`, "
    '`message`); the HTTP API (`ApiType` HTTP) answers its own with a fixed `{"message": ...}` body instead, '
    "except the 404, which comes from the collector."
)
ERROR_DESCRIPTIONS = {
    400: "Invalid request: the body or query is malformed or names invalid fields (see `error` and `details`)",
    401: "Missing, malformed or repeated credentials",
    403: "Wrong, revoked or expired key (or a publishable key on a route that takes a secret key)",
    404: "No such resource for this tenant",
    413: "Body or batch over a limit",
    415: (
        "`Content-Type` present and neither `application/json` nor `text/plain`, or a `Content-Encoding` "
        "other than `gzip`"
    ),
    422: "Invalid input (the original collector's status for any unreadable or invalid request)",
    429: "The key's rate limit is used up for this minute; retry after `Retry-After` seconds",
    500: "The collector failed unexpectedly; nothing was acknowledged",
    503: "Storage is unavailable; retry after `Retry-After` seconds (with the same event ids)",
}
OK_DESCRIPTIONS = {
    200: "OK",
    202: "Accepted: recorded now, applied later",
}
REF = "#/components/schemas/{model}"


def _schemas(routes: tuple[Route, ...]) -> tuple[dict[Any, Any], dict[str, Any]]:
    models: list[tuple[type[BaseModel], Any]] = [(ErrorBody, "serialization")]
    events: list[type[BaseModel]] = [*EVENT_MODELS.values(), CustomEvent]
    models += [(model, "validation") for model in events]
    for route in routes:
        models.append((route.answer, "serialization"))
        if route.body is not None:
            models.append((route.body, "validation"))
    references, definitions = models_json_schema(models, ref_template=REF)
    return dict(references), dict(definitions.get("$defs", {}))


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


# Routes that take no beacon and store no events (reads, privacy requests) say so in their 415 and 503.
NOT_SENDING_DESCRIPTIONS = {
    415: "`Content-Type` present and not `application/json`, or a `Content-Encoding` other than `gzip`",
    503: "Storage is unavailable; retry after `Retry-After` seconds (reads and privacy requests are idempotent)",
}


def _error_description(route: Route, status: int) -> str:
    if route.auth != "collector" and status in NOT_SENDING_DESCRIPTIONS:
        return NOT_SENDING_DESCRIPTIONS[status]
    return ERROR_DESCRIPTIONS[status]


def _operation(route: Route, references: dict[Any, Any]) -> dict[str, Any]:
    answer_schema = references[(route.answer, "serialization")]
    responses: dict[str, Any] = {
        str(status): {"description": OK_DESCRIPTIONS[status], "content": _json_content(answer_schema)}
        for status in route.ok
    }
    error_schema = references[(ErrorBody, "serialization")]
    for status in route.errors:
        answer: dict[str, Any] = {
            "description": _error_description(route, status),
            "content": _json_content(error_schema),
        }
        if status in (429, 503):
            answer["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}}
        responses[str(status)] = answer
    operation: dict[str, Any] = {
        "tags": [route.tag],
        "summary": route.summary,
        "operationId": f"{route.method.lower()}_{re.sub(r'[^a-z0-9_]', '', route.path.strip('/').replace('/', '_'))}",
        "responses": responses,
    }
    if route.auth == "gateway":
        operation["security"] = [{"tenantKey": []}]
    elif route.auth == "collector":
        operation["security"] = [{"tenantKey": []}, {"writeKey": []}]
    parameters = [
        {"name": parameter.name, "in": "path", "required": True, "description": parameter.description}
        for parameter in route.path_parameters
    ]
    parameters += [
        {"name": parameter.name, "in": "query", "required": parameter.required, "description": parameter.description}
        for parameter in route.query
    ]
    if parameters:
        operation["parameters"] = [{**parameter, "schema": {"type": "string"}} for parameter in parameters]
    if route.body is not None:
        schema = references[(route.body, "validation")]
        if route.segment_type is not None:
            schema = _segment_route_body(route.segment_type)
        operation["requestBody"] = _request_body(route, schema)
    return operation


def _request_body(route: Route, schema: dict[str, Any]) -> dict[str, Any]:
    """Every route with a body reads it with ``json_body``: JSON, or (the routes that send events, all of
    them ``collector`` routes) also ``text/plain`` holding JSON; either one may be gzip-compressed."""
    content = _json_content(schema)
    description = "JSON"
    if route.auth == "collector":
        content[BEACON_MEDIA_TYPE] = {"schema": schema}
        description = (
            "JSON, as `application/json` or as `text/plain` (what `navigator.sendBeacon` sends without a CORS "
            "preflight)"
        )
    description += (
        ". A gzip-compressed body (`Content-Encoding: gzip`, of one member or several, read in order) is "
        "accepted too; the size limit applies to what was sent and to the unpacked body, and bytes after the "
        "last member are refused (400)."
    )
    return {"required": True, "description": description, "content": content}


# A single-message Segment route's body: a SegmentMessage whose ``type`` the route implies.
SEGMENT_ROUTE_MESSAGE = "SegmentRouteMessage"


def _segment_route_body(kind: str) -> dict[str, Any]:
    """/v1/<kind> implies the message's ``type``: optional there, and when sent it must be ``kind``
    (event_collector.ingest.segment: ``_one`` with ``message_type``)."""
    return {
        "allOf": [{"$ref": REF.format(model=SEGMENT_ROUTE_MESSAGE)}],
        "properties": {"type": {"const": kind}},
        "description": f"One {kind} message; `type` may be left out, and when sent it must be `{kind}`",
    }


def _segment_route_message(definitions: dict[str, Any]) -> dict[str, Any]:
    """SegmentMessage without ``type`` required: what /v1/track and its siblings take."""
    schema: dict[str, Any] = copy.deepcopy(definitions[SegmentMessage.__name__])
    schema["title"] = SEGMENT_ROUTE_MESSAGE
    schema["description"] = (
        "One message as Segment's libraries send it to /v1/track, /v1/page and their siblings: the route implies "
        "`type`, which may be left out (when sent it must be the route's). Unknown top-level fields are kept."
    )
    required = [name for name in schema.get("required", []) if name != "type"]
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)
    return schema


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
    # No discriminator: a custom type's name is the tenant's, so no mapping could list it; each built-in
    # model's event_type is a constant, and CustomEvent's excludes them, so one schema matches each event.
    events["items"] = {
        "oneOf": [references[(model, "validation")] for model in (*EVENT_MODELS.values(), CustomEvent)],
    }
    definitions[SEGMENT_ROUTE_MESSAGE] = _segment_route_message(definitions)
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
