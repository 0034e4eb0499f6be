"""The SAM transform, applied offline as CloudFormation would, and cfn-lint's dependency graph on its output.

cfn-lint lints SAM resources as written; the resources SAM generates (roles,
permissions, bucket notifications, the API's OpenAPI body) and the cycles they
can close only show after the transform. The local mode provisions from this
output too, so what it emulates is what CloudFormation creates.

Paths (``CodeUri``, ``ContentUri``, ``DefinitionUri``) become
``s3://local-code/<path>`` placeholders, as `sam package` would make them S3
locations; :func:`code_path` reads the path back.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Mapping
from typing import Any

from tools.intrinsics import Resolver
from tools.template import template

CODE_BUCKET = "local-code"
_URIS = ("CodeUri", "ContentUri", "DefinitionUri")


class _NoManagedPolicies:
    """The transform asks IAM for managed policy ARNs; the template names none."""

    def load(self) -> dict[str, str]:
        return {}


def transformed_template(document: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The transform of ``document`` (default: template.yaml, transformed once per process; a copy each call)."""
    if document is None:
        return copy.deepcopy(_transformed_repository_template())
    return _transform(document)


@functools.cache
def _transformed_repository_template() -> dict[str, Any]:
    return _transform(template())


def _transform(document: Mapping[str, Any]) -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    source = copy.deepcopy(dict(document))
    for resource in source["Resources"].values():
        properties = resource.get("Properties", {})
        for uri in _URIS:
            if isinstance(properties.get(uri), str):
                properties[uri] = f"s3://{CODE_BUCKET}/{properties[uri].strip('/')}"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    result: dict[str, Any] = transform(source, {}, _NoManagedPolicies())
    return result


def code_path(location: Mapping[str, Any]) -> str:
    """The repository path behind a transformed ``Code``/``DefinitionS3Location`` ({Bucket, Key})."""
    bucket = location.get("S3Bucket") or location.get("Bucket")
    key = location.get("S3Key") or location.get("Key")
    if bucket != CODE_BUCKET or not isinstance(key, str):
        raise ValueError(f"not a local code location: {location!r}")
    return key


def dependency_cycles(document: dict[str, Any]) -> list[tuple[str, str]]:
    """The dependency edges (source, target) that lie on a cycle of a (transformed) template, found by
    cfn-lint's own graph (the one its rule E3004 uses)."""
    from cfnlint.template import Template

    found = Template("template.yaml", document, [os.environ.get("AWS_DEFAULT_REGION", "us-east-1")])
    if found.graph is None:
        return []
    return [(str(edge[0]), str(edge[1])) for edge in found.graph.get_cycles(found)]


def depends_on(document: Mapping[str, Any], source: str, target: str) -> bool:
    """True when CloudFormation creates ``target`` before ``source``: a chain of DependsOn, Ref and GetAtt
    leads from one to the other in a (transformed) template, by cfn-lint's own graph."""
    from cfnlint.template import Template

    found = Template("template.yaml", document, [os.environ.get("AWS_DEFAULT_REGION", "us-east-1")])
    if found.graph is None:
        return False
    edges: Any = found.graph.graph  # resource -> what it names or depends on
    seen, reached = {source}, [source]
    while reached:
        for after in edges.successors(reached.pop()):
            if after == target:
                return True
            if after not in seen:
                seen.add(after)
                reached.append(after)
    return False


def function_environment(logical_id: str, stack_name: str = "stack", region: str = "us-east-1") -> dict[str, str]:
    """A function's own environment variables as CloudFormation would set them (Globals merged by the
    transform), with names resolved for a stack called ``stack_name``."""
    resolver = Resolver(transformed_template(), stack_name, region)
    variables = resolver.template["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    return {name: str(value) for name, value in resolver.resolve(variables).items()}


def function_logical_id(code_name: str) -> str:
    """The logical id of the function whose code is ``functions/<code_name>/``."""
    for logical_id, resource in transformed_template()["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        if code_path(resource["Properties"]["Code"]).rstrip("/") == f"functions/{code_name}":
            return str(logical_id)
    raise KeyError(f"no function with code functions/{code_name}/")
