"""The partition a stack runs in (aws, aws-cn, aws-us-gov): every ARN of the SAM-transformed template and of the
state machine's definition names it, none is written for the commercial partition alone."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tools.intrinsics import Resolver
from tools.sam import transformed_template
from tools.statemachines import STATEMACHINE_DIR, substitute
from tools.template import template

PARTITIONS = [
    ("aws", "eu-west-1", "amazonaws.com"),
    ("aws-cn", "cn-north-1", "amazonaws.com.cn"),
    ("aws-us-gov", "us-gov-west-1", "amazonaws.com"),
]
DEFINITIONS = sorted(STATEMACHINE_DIR.glob("*.asl.json"))


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


@pytest.fixture(scope="module", params=PARTITIONS, ids=[partition for partition, _, _ in PARTITIONS])
def stack(request: pytest.FixtureRequest) -> Resolver:
    """The template transformed as CloudFormation would in that partition's region, resolved for a stack there."""
    from samtranslator.translator.arn_generator import ArnGenerator

    partition, region, suffix = request.param
    ArnGenerator.BOTO_SESSION_REGION_NAME = region  # where SAM takes the partition of the ARNs it writes
    try:
        document = transformed_template(template())
    finally:
        ArnGenerator.BOTO_SESSION_REGION_NAME = None
    return Resolver(document, "stack", region, partition=partition, url_suffix=suffix)


def test_given_each_state_machine_definition_when_read_then_every_arn_takes_the_partition_from_a_substitution():
    for path in DEFINITIONS:
        text = path.read_text(encoding="utf-8")
        assert re.findall(r"arn:(?!\$\{Partition\}:)\S*", text) == [], path.name


def test_given_a_stack_in_a_partition_when_its_resources_are_resolved_then_every_arn_is_in_that_partition(stack):
    resources = stack.template["Resources"]
    arns = [
        text
        for name, resource in resources.items()
        if stack.is_active(name)
        for text in strings(stack.resolve(resource.get("Properties", {})))
        for text in re.findall(r"arn:[a-z-]*:", text)
    ]

    assert arns  # roles, policies, integrations, alarms
    assert set(arns) == {f"arn:{stack.partition}:"}


def test_given_a_stack_in_a_partition_when_the_state_machine_is_defined_then_every_arn_is_in_that_partition(stack):
    machine = stack.template["Resources"]["CompactionStateMachine"]["Properties"]
    values = {name: str(value) for name, value in stack.resolve(machine["DefinitionSubstitutions"]).items()}

    for path in DEFINITIONS:
        definition = json.loads(substitute(path.read_text(encoding="utf-8"), values))
        arns = [text for text in strings(definition) if text.startswith("arn:")]
        assert arns, path.name
        assert all(arn.startswith(f"arn:{stack.partition}:") for arn in arns), arns


def test_given_a_stack_in_a_partition_when_its_url_is_output_then_it_uses_that_partition_s_domain(stack):
    url = stack.resolve(stack.template["Outputs"]["ApiUrl"]["Value"])

    assert url.split("/")[2].endswith(f".{stack.region}.{stack.url_suffix}")
