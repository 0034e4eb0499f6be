"""Authorizer Lambda: HTTP Basic (tenant id + API key) for the REST API.

401 for a missing or malformed header (raise "Unauthorized", which API Gateway
maps to 401), 403 for a wrong, revoked or expired key (Deny policy), Allow for
the whole stage so cached results work on every route. Never logs the header.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from event_collector.adapters.tenant_keys_table import TenantKeysTable
from event_collector.authorization import decide
from event_collector.settings import get_settings

logger = Logger()
keys = TenantKeysTable(
    boto3.client("dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2)),
    get_settings().tenant_keys_table_name,
)


def authorization_values(event: dict[str, Any]) -> list[str]:
    """Every Authorization header of the request, under any spelling of the name.

    API Gateway keeps only the last value in ``headers``; ``multiValueHeaders`` shows every copy.
    """
    multi = event.get("multiValueHeaders") or {}
    found = [value for name, values in multi.items() if name.lower() == "authorization" for value in values or []]
    if found:
        return found
    return [value for name, value in (event.get("headers") or {}).items() if name.lower() == "authorization"]


class Unauthorized(Exception):
    """API Gateway answers 401 when an authorizer fails with exactly this message."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = APIGatewayAuthorizerRequestEvent(event)
    values = authorization_values(event)
    if len(values) > 1:
        # Two credentials in one request: refused, never chosen from (a cache or a proxy might pick the other).
        logger.info("Authorization decision", outcome="unauthorized", reason="more than one Authorization header")
        raise Unauthorized()
    decision = decide(values[0] if values else None, keys, now=int(time.time()))
    logger.info("Authorization decision", outcome=decision.outcome, reason=decision.reason, tenant=decision.tenant)
    if decision.outcome == "unauthorized":
        raise Unauthorized()
    arn = request.parsed_arn
    response = APIGatewayAuthorizerResponse(
        principal_id=decision.tenant or "anonymous",
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context={"tenant": decision.tenant, "key_id": decision.key_id} if decision.outcome == "allow" else None,
    )
    if decision.outcome == "allow":
        response.allow_all_routes()
    else:
        response.deny_all_routes()
    return response.asdict()
