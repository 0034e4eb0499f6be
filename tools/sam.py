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
import os
from collections.abc import Mapping
from typing import Any

from tools.template import template

CODE_BUCKET = "local-code"
_URIS = ("CodeUri", "ContentUri", "DefinitionUri")


class _NoManagedPolicies:
    """The transform asks IAM for managed policy ARNs; the template names none."""

    def load(self) -> dict[str, str]:
        return {}


def transformed_template(document: Mapping[str, Any] | None = None) -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    source = copy.deepcopy(dict(document or template()))
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
