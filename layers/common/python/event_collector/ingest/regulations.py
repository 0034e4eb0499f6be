"""``POST /v1/regulations`` and ``GET /v1/regulations/{id}``: a tenant's privacy requests over HTTP
(docs/privacy.md, "Requests").

Both sit behind API Gateway's authorizer, like the count routes, so only a tenant's secret key reaches them
(the authorizer denies publishable keys): the tenant comes from its context alone. A new request (or one
asked anew) answers ``202``; the same request asked again while it stands answers ``200`` with the request as
stored. Every answer is the stored request (``RegulationView``): the subject digest, never the user's id.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types

from event_collector.errors import ClientInputError, RegulationsUnavailable, StorageError
from event_collector.ingest.http import json_body, tenant_from_authorizer, validated
from event_collector.privacy.regulations import Regulation
from event_collector.privacy.requests import RegulationBody, RegulationRequests, RegulationView

REGULATIONS_PATH = "/v1/regulations"
REGULATION_PATH = "/v1/regulations/{id}"
# Two ids of at most 256 characters, each escaped at worst 12 bytes a character, and the rest: far under this.
MAX_REGULATION_BODY_BYTES = 16 * 1024


def powertools_path(path: str) -> str:
    """A route table path (``{id}``, OpenAPI's and API Gateway's form) in Powertools' form (``<id>``)."""
    return path.replace("{", "<").replace("}", ">")


class RegulationRoutes:
    """The two routes, registered on the collector's resolver with the requests service they answer from."""

    def __init__(self, app: APIGatewayRestResolver, requests: RegulationRequests) -> None:
        self._app = app
        self._requests = requests

    def register(self) -> None:
        self._app.post(REGULATIONS_PATH)(self.post_regulation)
        self._app.get(powertools_path(REGULATION_PATH))(self.get_regulation)

    def post_regulation(self) -> Response[str]:
        tenant = self._tenant()
        body = validated(RegulationBody, json_body(self._app.current_event.raw_event, limit=MAX_REGULATION_BODY_BYTES))
        try:
            stored, recorded = self._requests.ask(tenant, body, source="api")
        except StorageError as error:
            raise RegulationsUnavailable(str(error)) from error
        return _answer(202 if recorded else 200, stored)

    def get_regulation(self, **path: str) -> Response[str]:
        tenant = self._tenant()
        try:
            found = self._requests.get(tenant, path["id"])
        except StorageError as error:
            raise RegulationsUnavailable(str(error)) from error
        if found is None:
            raise ClientInputError(404, "not_found", "No privacy request with this id for this tenant")
        return _answer(200, found)

    def _tenant(self) -> str:
        request: dict[str, Any] = self._app.current_event.raw_event
        return tenant_from_authorizer(request.get("requestContext") or {})


def _answer(status: int, regulation: Regulation) -> Response[str]:
    body = json.dumps(RegulationView.of(regulation).model_dump(mode="json"))
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)
