"""What a role of the transformed template may do: its inline statements resolved for one stack, and a
minimal IAM evaluation (Allow statements, ``*`` and ``?`` wildcards in actions and resources)."""

from __future__ import annotations

import fnmatch
from typing import Any

from tools.intrinsics import Resolver
from tools.sam import transformed_template

STACK = "stack"
REGION = "eu-west-1"


def resolver(**parameters: str) -> Resolver:
    return Resolver(transformed_template(), STACK, REGION, parameters)


def statements(resolved: Resolver, role: str) -> list[dict[str, Any]]:
    """The inline policy statements of ``role``, every intrinsic resolved."""
    policies = resolved.resolve(resolved.template["Resources"][role]["Properties"].get("Policies", []))
    return [statement for policy in policies for statement in policy["PolicyDocument"]["Statement"]]


def _listed(value: Any) -> list[str]:
    return [str(item) for item in (value if isinstance(value, list) else [value])]


def allows(found: list[dict[str, Any]], action: str, resource: str) -> bool:
    """True when an Allow statement without a condition grants ``action`` on ``resource``."""
    return any(
        statement["Effect"] == "Allow"
        and "Condition" not in statement
        and any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in _listed(statement["Action"]))
        and any(fnmatch.fnmatchcase(resource, pattern) for pattern in _listed(statement["Resource"]))
        for statement in found
    )
