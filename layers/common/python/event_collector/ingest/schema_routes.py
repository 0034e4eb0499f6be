"""``GET /v1/schemas``: a tenant's own event types and tracking plans, each with its latest version and
document, and its policy for track events without a plan (docs/schemas.md, docs/api.md).

Behind API Gateway's authorizer, like the count routes, so only a tenant's secret key reaches it: the tenant
comes from the authorizer's context alone, and a tenant sees its own schemas only (another tenant's event
types do not exist for it). The answer is read from the registry the collector is given (one Query of the
tenant's partition), not from the validators' per-container cache, so a type registered a moment ago is
listed at once. The admin CLI's ``schemas TENANT --json`` prints the same document.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from event_collector.errors import StorageError
from event_collector.ingest.http import error_response, tenant_from_authorizer
from event_collector.ingest.models import SchemasResult
from event_collector.schemas.registry import SchemaRegistry

SCHEMAS_PATH = "/v1/schemas"

logger = Logger()


class SchemaRoutes:
    """The route, registered on the collector's resolver with the registry it answers from."""

    def __init__(self, app: APIGatewayRestResolver, registry: SchemaRegistry) -> None:
        self._app = app
        self._registry = registry

    def register(self) -> None:
        self._app.get(SCHEMAS_PATH)(self.get_schemas)

    def get_schemas(self) -> Response[str]:
        request: dict[str, Any] = self._app.current_event.raw_event
        tenant = tenant_from_authorizer(request.get("requestContext") or {})
        try:
            schemas = self._registry.tenant_schemas(tenant)
        except StorageError as error:
            logger.error("Schemas table failed; answering 503", error=str(error))
            return error_response(
                503, "schemas_unavailable", "Schemas cannot be read right now", headers={"Retry-After": "1"}
            )
        body = json.dumps(SchemasResult.of(schemas).model_dump(mode="json"), ensure_ascii=False)
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body)
