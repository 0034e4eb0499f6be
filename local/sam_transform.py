"""Apply the SAM transform offline, as CloudFormation would, and find dependency cycles.

cfn-lint validates SAM resources without running the transform, so it cannot
see the resources SAM generates (roles, permissions, bucket notifications)
nor the cycles they close. ``make test`` runs this through tests/test_template.py.
"""

from __future__ import annotations

import copy
import os
import re
from typing import Any

from .template import template

_SUB_NAME = re.compile(r"\$\{([^}!.]+)")


class _NoManagedPolicies:
    """The transform asks IAM for managed policy ARNs; our template names none."""

    def load(self) -> dict[str, str]:
        return {}


def transformed_template() -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    document = copy.deepcopy(template())
    for resource in document["Resources"].values():
        properties = resource.get("Properties", {})
        for uri in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(properties.get(uri), str):
                properties[uri] = "s3://placeholder-bucket/placeholder.zip"  # what `sam package` does
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    result: dict[str, Any] = transform(document, {}, _NoManagedPolicies())
    return result


def _references(value: Any, found: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item[0] if isinstance(item, list) else str(item).split(".", 1)[0])
            elif key == "Fn::Sub":
                text = item if isinstance(item, str) else item[0]
                found.update(_SUB_NAME.findall(text))
                _references(item, found)
            else:
                _references(item, found)
    elif isinstance(value, list):
        for item in value:
            _references(item, found)
    return found


def dependency_cycle(document: dict[str, Any]) -> list[str] | None:
    """The first cycle among resources (Ref, GetAtt, Sub, DependsOn), or None."""
    resources = document["Resources"]
    graph: dict[str, set[str]] = {}
    for name, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        edges = _references(resource.get("Properties", {}), set())
        edges |= {depends_on} if isinstance(depends_on, str) else set(depends_on)
        graph[name] = {edge for edge in edges if edge in resources}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        if state.get(node) == 1:
            return [*path[path.index(node) :], node]
        if state.get(node) == 2:
            return None
        state[node] = 1
        for neighbour in sorted(graph[node]):
            cycle = visit(neighbour, [*path, node])
            if cycle:
                return cycle
        state[node] = 2
        return None

    for node in sorted(graph):
        cycle = visit(node, [])
        if cycle:
            return cycle
    return None
