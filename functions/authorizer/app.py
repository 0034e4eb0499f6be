"""Authorizer Lambda: HTTP Basic (tenant id + API key, or a write key) for the routes that read counts
(event_collector.auth); the routes that send events authenticate in the collector (beacons carry no
header; docs/authentication.md). A publishable key is denied here: it may only send.

401 for a missing, malformed or repeated header (raise "Unauthorized", which
API Gateway maps to 401), 403 for a wrong, revoked or expired key (Deny
policy), Allow for the whole stage so cached results work on every route.
Never logs the header. On the request path: its DynamoDB client is the lean
one (event_collector.aws.json_client), not boto3.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.auth.decision import authorization_values, decide, for_reading
from event_collector.auth.gateway import policy_answer
from event_collector.aws.clients import client
from event_collector.aws.tenant_keys_table import TenantKeysTable
from event_collector.config import AuthorizerSettings, load

logger = Logger()
keys = TenantKeysTable(client("dynamodb", "request"), load(AuthorizerSettings).tenant_keys_table_name)


class Unauthorized(Exception):
    """API Gateway answers 401 when an authorizer fails with exactly this message."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    decision = for_reading(decide(authorization_values(event), keys, now=int(time.time())))
    logger.info("Authorization decision", outcome=decision.outcome, reason=decision.reason, tenant=decision.tenant)
    if decision.outcome == "unauthorized":
        raise Unauthorized()
    return policy_answer(decision, event)
