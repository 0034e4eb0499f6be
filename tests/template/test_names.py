"""Names on the SAM-transformed template for a stack of CloudFormation's longest name (128 characters): every
name the template gives a resource fits that resource type's limit, so no stack name fails a deploy."""

from __future__ import annotations

from typing import Any

import pytest

from tests.template.policies import allows, statements
from tools.intrinsics import Resolver
from tools.sam import transformed_template

LONGEST_STACK_NAME = ("event-collector-" + "production-" * 12)[:128]

# Properties naming the resource itself, by resource type, and the longest such name AWS accepts.
OWN_NAMES = {
    ("AWS::S3::Bucket", "BucketName"): 63,
    ("AWS::StepFunctions::StateMachine", "StateMachineName"): 80,
    ("AWS::Scheduler::Schedule", "Name"): 64,
    ("AWS::Athena::WorkGroup", "Name"): 128,
    ("AWS::Athena::NamedQuery", "Name"): 128,
    ("AWS::Glue::Database", "DatabaseInput.Name"): 255,
    ("AWS::Logs::LogGroup", "LogGroupName"): 512,
    ("AWS::Logs::LogStream", "LogStreamName"): 512,
    ("AWS::Lambda::LayerVersion", "LayerName"): 140,
    ("AWS::Lambda::Function", "FunctionName"): 64,
    ("AWS::ApiGateway::RestApi", "Body.info.title"): 128,
    ("AWS::ApiGateway::Stage", "StageName"): 128,
    ("AWS::ApiGatewayV2::Api", "Body.info.title"): 128,
    ("AWS::ApiGatewayV2::Stage", "StageName"): 128,
    ("AWS::DynamoDB::Table", "TableName"): 255,
    ("AWS::SQS::Queue", "QueueName"): 80,
    ("AWS::SNS::Topic", "TopicName"): 256,
    ("AWS::SNS::Topic", "DisplayName"): 100,
    ("AWS::IAM::Role", "RoleName"): 64,
    ("AWS::KinesisFirehose::DeliveryStream", "DeliveryStreamName"): 64,
    ("AWS::CloudWatch::Alarm", "AlarmName"): 255,
}
# Properties whose name ends in "Name" but name another resource or a metric.
REFERENCES = {
    ("AWS::Lambda::Permission", "FunctionName"),
    ("AWS::Lambda::EventInvokeConfig", "FunctionName"),
    ("AWS::Logs::LogStream", "LogGroupName"),
    ("AWS::CloudWatch::Alarm", "MetricName"),
    ("Custom::EmptyBucketOnDelete", "BucketName"),
}


def stack(api_type: str) -> Resolver:
    return Resolver(transformed_template(), LONGEST_STACK_NAME, "ap-southeast-2", {"ApiType": api_type})


def named(properties: dict[str, Any]) -> dict[str, Any]:
    """The properties of a resource that hold a name: top-level ``*Name``, ``DatabaseInput.Name`` and an API's
    title (API Gateway names the API after its body's)."""
    found = {key: value for key, value in properties.items() if key.endswith("Name")}
    for path in ("DatabaseInput.Name", "Body.info.title"):
        outer, *inner = path.split(".")
        value: Any = properties.get(outer)
        for part in inner:
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            found[path] = value
    return found


def test_given_every_resource_when_its_name_properties_are_listed_then_each_has_a_known_limit_or_names_another():
    resources = transformed_template()["Resources"]

    unknown = {
        (resource["Type"], key)
        for resource in resources.values()
        for key in named(resource.get("Properties", {}))
        if (resource["Type"], key) not in OWN_NAMES and (resource["Type"], key) not in REFERENCES
    }

    assert unknown == set(), "add each one's limit to OWN_NAMES (or to REFERENCES)"


@pytest.mark.parametrize("api_type", ["REST", "HTTP"])
def test_given_a_stack_of_the_longest_name_when_resolved_then_every_name_fits_its_resource_type(api_type):
    resolved = stack(api_type)
    names = {
        (logical_id, key): (str(resolved.resolve(value)), OWN_NAMES[(resource["Type"], key)])
        for logical_id, resource in resolved.template["Resources"].items()
        if resolved.is_active(logical_id)
        for key, value in named(resource.get("Properties", {})).items()
        if (resource["Type"], key) in OWN_NAMES
    }

    too_long = {where: (len(name), limit) for where, (name, limit) in names.items() if len(name) > limit}
    assert ("CompactionStateMachine", "StateMachineName") in names
    assert too_long == {}


def test_given_a_stack_of_the_longest_name_when_the_workflow_starts_children_then_its_policy_names_it():
    resolved = stack("REST")
    machine = resolved.arn("CompactionStateMachine")
    execution = machine.replace(":stateMachine:", ":execution:")

    granted = statements(resolved, "CompactionStateMachineRole")

    assert allows(granted, "states:StartExecution", machine)
    assert allows(granted, "states:DescribeExecution", f"{execution}:run-1")
    assert allows(granted, "states:StopExecution", f"{execution}/CompactTenants:0123abcd-child")
