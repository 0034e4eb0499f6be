"""HTTP edge helpers for the collector: request checks and the one place that
turns exceptions into JSON error responses."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from event_collector.errors import ClientInputError
from event_collector.identifiers import is_tenant_id
from event_collector.ingest.models import ErrorBody
from event_collector.ingest.validation import MAX_BODY_BYTES

DELIVERY_RETRY_AFTER_SECONDS = 2
BODY_METHODS = ("POST", "PUT", "PATCH")
AUTHENTICATED: list[dict[str, list[str]]] = [{"tenantKey": []}]
# The error answers every authenticated route documents in the OpenAPI document.
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


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: Mapping[str, str] | None = None
) -> Response[str]:
    body: dict[str, Any] = {"error": code, "message": message}
    if details is not None:
        body["details"] = details
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, ensure_ascii=False),
        headers=dict(headers or {}),
    )


def client_error_response(error: ClientInputError) -> Response[str]:
    return error_response(error.status, error.code, error.message, error.details)


def body_size(event: Mapping[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return len(base64.b64decode(body, validate=True))
        except (binascii.Error, ValueError):
            return len(body)
    return len(body.encode("utf-8", errors="surrogatepass"))


def media_type(headers: Mapping[str, str]) -> str | None:
    for name, value in headers.items():
        if name.lower() == "content-type" and value:
            return value.split(";", 1)[0].strip().lower()
    return None


def check_json_request(event: Mapping[str, Any]) -> None:
    """Refuse, in this order, an oversized body and a body that is not JSON by its Content-Type."""
    size = body_size(event)
    if size > MAX_BODY_BYTES:
        raise ClientInputError(413, "payload_too_large", f"Request body is {size} bytes; the limit is {MAX_BODY_BYTES}")
    found = media_type(event.get("headers") or {})
    if found is not None and found != "application/json":
        raise ClientInputError(415, "unsupported_media_type", f"Content-Type must be application/json, not {found}")


def validation_error_response(event: Mapping[str, Any], errors: list[dict[str, Any]]) -> Response[str]:
    """Map Powertools' request validation errors to the project's 4xx answers.

    Powertools parses the body before any route code runs, so the size and
    Content-Type checks are repeated here to keep their precedence: an
    oversized body is a 413 even when it is also malformed.
    """
    if event.get("httpMethod") in BODY_METHODS:
        try:
            check_json_request(event)
        except ClientInputError as error:
            return client_error_response(error)
        for item in errors:
            if item.get("type") == "json_invalid":
                reason = (item.get("ctx") or {}).get("error", "syntax error")
                return error_response(400, "invalid_json", f"Request body is not valid JSON: {reason}")
        if not event.get("body"):
            return error_response(400, "empty_body", "Request body is required")
    details = [_describe(item) for item in errors]
    return error_response(400, "invalid_request", "Request is invalid: " + "; ".join(details[:5]), details)


def _describe(item: Mapping[str, Any]) -> str:
    location = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
    message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message


def tenant_from_authorizer(request_context: Mapping[str, Any]) -> str:
    """The tenant id comes from the authorizer's context only, never from the request."""
    authorizer = request_context.get("authorizer") or {}
    tenant = authorizer.get("tenant")
    if not is_tenant_id(tenant):
        raise ClientInputError(401, "unauthorized", "Request carries no authenticated tenant")
    return str(tenant)
