"""How the collector answers what is not a route's own result: every exception as one JSON error (the
original collector's routes with its 422), and the OpenAPI document with Swagger UI on ``/v1/docs``.

Split from ``api.py``, which registers these on its resolver.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.metrics import MetricUnit

from event_collector.errors import (
    ClientInputError,
    DeliveryError,
    KeysUnavailable,
    RateLimited,
    RegulationsUnavailable,
    SchemasUnavailable,
    StorageError,
)
from event_collector.ingest.http import DELIVERY_RETRY_AFTER_SECONDS, client_error_response, error_response
from event_collector.ingest.routes import SEED_PATHS

logger = Logger()
metrics = Metrics()


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

    @app.exception_handler(RegulationsUnavailable)  # type: ignore[untyped-decorator]
    def handle_regulations_unavailable(error: RegulationsUnavailable) -> Response[str]:
        logger.error("Regulations table failed; answering 503", error=str(error))
        return error_response(
            503,
            "regulations_unavailable",
            "Privacy requests cannot be stored or read right now; asking again is safe",
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(SchemasUnavailable)  # type: ignore[untyped-decorator]
    def handle_schemas_unavailable(error: SchemasUnavailable) -> Response[str]:
        logger.error("Event schemas could not be read; answering 503", error=str(error))
        return error_response(
            503,
            "schemas_unavailable",
            "Event schemas cannot be read right now, so the events cannot be checked; retry with the same event_ids",
            headers={"Retry-After": "1"},
        )

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
