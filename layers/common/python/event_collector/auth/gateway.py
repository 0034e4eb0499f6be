"""What API Gateway expects back from a REQUEST authorizer: an IAM policy for the stage, and a context.

The policy covers every method and route of the stage (``<api>/<stage>/*/*``), so
a cached answer (keyed by the Authorization header) holds for every route.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from event_collector.auth.decision import Decision


def stage_wildcard(method_arn: str) -> str:
    """``arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`` -> ``.../<api>/<stage>/*/*``."""
    parts = method_arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "execute-api":
        raise ValueError("not an execute-api ARN")
    api, stage = [*parts[5].split("/"), "", ""][:2]
    if not api or not stage:
        raise ValueError("the ARN names no API and stage")
    return f"{':'.join(parts[:5])}:{api}/{stage}/*/*"


def policy_answer(decision: Decision, event: Mapping[str, Any]) -> dict[str, Any]:
    """The authorizer's answer for an allow or deny ``decision`` (an unauthorized one raises instead)."""
    effect: Literal["Allow", "Deny"] = "Allow" if decision.outcome == "allow" else "Deny"
    arn = str(event.get("methodArn") or event.get("routeArn") or "")
    answer: dict[str, Any] = {
        "principalId": decision.tenant or "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": [stage_wildcard(arn)]}],
        },
    }
    if decision.outcome == "allow":
        answer["context"] = {"tenant": decision.tenant, "key_id": decision.key_id}
    return answer
