"""Resolve CloudFormation intrinsics (Ref, GetAtt, Sub, Join, Select, Split, If, conditions) against a stack of a
given name (in the commercial partition unless told another): each resource's physical name and ARN, each
parameter's value. Works on the SAM-transformed template
(tools/sam.py). The local mode provisions from it; tools/sam.py uses it for functions' environments. It imports
nothing of the project, so tools/ never needs local/."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

ACCOUNT_ID = "123456789012"
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
# Where a resource type takes an explicit physical name.
_EXPLICIT_NAME = {
    "AWS::S3::Bucket": ("BucketName",),
    "AWS::DynamoDB::Table": ("TableName",),
    "AWS::SQS::Queue": ("QueueName",),
    "AWS::Glue::Database": ("DatabaseInput", "Name"),
    "AWS::Lambda::Function": ("FunctionName",),
    "AWS::StepFunctions::StateMachine": ("StateMachineName",),
    "AWS::Athena::WorkGroup": ("Name",),
}


# Resource types whose Ref is their ARN, not their name.
_REF_IS_ARN = {"AWS::StepFunctions::StateMachine", "AWS::SNS::Topic"}


class UnsupportedIntrinsic(ValueError):
    pass


# ``Ref: AWS::NoValue``: the property or list entry it stands for is removed.
NO_VALUE: Any = type("NoValue", (), {"__repr__": lambda self: "AWS::NoValue"})()


class Resolver:
    """Knows each resource's physical name and ARN, and each parameter's value."""

    def __init__(
        self,
        template: Mapping[str, Any],
        stack_name: str,
        region: str,
        parameter_overrides: Mapping[str, str] | None = None,
        partition: str = "aws",
        url_suffix: str = "amazonaws.com",
    ) -> None:
        self.template = template
        self.stack_name = stack_name
        self.region = region
        self.partition = partition
        self.url_suffix = url_suffix
        self._parameters = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
        self._parameters.update(parameter_overrides or {})
        self._conditions: Mapping[str, Any] = template.get("Conditions", {})

    # -- conditions -----------------------------------------------------------
    def condition(self, name: str) -> bool:
        return self._truth(self._conditions[name])

    def is_active(self, logical_id: str) -> bool:
        """False for a resource whose ``Condition`` is false (CloudFormation does not create it)."""
        name = self.template["Resources"][logical_id].get("Condition")
        return name is None or self.condition(name)

    def _truth(self, value: Any) -> bool:
        ((key, argument),) = value.items()
        if key == "Condition":
            return self.condition(argument)
        if key == "Fn::Equals":
            left, right = (self.resolve(item) for item in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self._truth(argument[0])
        if key == "Fn::And":
            return all(self._truth(item) for item in argument)
        if key == "Fn::Or":
            return any(self._truth(item) for item in argument)
        raise UnsupportedIntrinsic(key)

    # -- names and ARNs ---------------------------------------------------
    def resource_type(self, logical_id: str) -> str:
        return str(self.template["Resources"][logical_id]["Type"])

    def physical_name(self, logical_id: str) -> str:
        resource_type = self.resource_type(logical_id)
        properties = self.template["Resources"][logical_id].get("Properties", {})
        explicit = _EXPLICIT_NAME.get(resource_type)
        if explicit:
            value: Any = properties
            for part in explicit:
                value = value.get(part) if isinstance(value, dict) else None
            if value is not None:
                return str(self.resolve(value))
        if resource_type == "AWS::S3::Bucket":
            return f"{self.stack_name}-{logical_id}".lower()
        if resource_type == "AWS::Glue::Database":
            return f"{self.stack_name}_{logical_id}".lower().replace("-", "_")
        return f"{self.stack_name}-{logical_id}"

    def arn(self, logical_id: str) -> str:
        name = self.physical_name(logical_id)
        regional = f"arn:{self.partition}:{{}}:{self.region}:{ACCOUNT_ID}:"
        prefix = {
            "AWS::S3::Bucket": f"arn:{self.partition}:s3:::",
            "AWS::DynamoDB::Table": regional.format("dynamodb") + "table/",
            "AWS::KinesisFirehose::DeliveryStream": regional.format("firehose") + "deliverystream/",
            "AWS::Lambda::Function": regional.format("lambda") + "function:",
            "AWS::StepFunctions::StateMachine": regional.format("states") + "stateMachine:",
            "AWS::SQS::Queue": regional.format("sqs"),
            "AWS::IAM::Role": f"arn:{self.partition}:iam::{ACCOUNT_ID}:role/",
            "AWS::Logs::LogGroup": regional.format("logs") + "log-group:",
            "AWS::Glue::Database": regional.format("glue") + "database/",
            "AWS::SNS::Topic": regional.format("sns"),
        }.get(self.resource_type(logical_id))
        if prefix is None:
            raise UnsupportedIntrinsic(f"no ARN for {logical_id} ({self.resource_type(logical_id)})")
        return prefix + name

    def ref(self, name: str) -> Any:
        """A parameter's value, a resource's name (or ARN, or queue URL), a pseudo parameter, or NO_VALUE."""
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.stack_id,
        }
        if name in pseudo:
            return pseudo[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._parameters:
            return self._parameters[name]
        if name in self.template["Resources"]:
            if self.resource_type(name) == "AWS::SQS::Queue":
                return self.queue_url(name)
            if self.resource_type(name) in _REF_IS_ARN:
                return self.arn(name)
            return self.physical_name(name)
        raise UnsupportedIntrinsic(f"unknown Ref {name}")

    @property
    def stack_id(self) -> str:
        stable = uuid.uuid5(uuid.NAMESPACE_URL, f"local-stack/{self.stack_name}")
        return f"arn:{self.partition}:cloudformation:{self.region}:{ACCOUNT_ID}:stack/{self.stack_name}/{stable}"

    def queue_url(self, logical_id: str) -> str:
        return f"https://sqs.{self.region}.{self.url_suffix}/{ACCOUNT_ID}/{self.physical_name(logical_id)}"

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute in ("QueueName", "Name"):
            return self.physical_name(logical_id)
        if attribute == "QueueUrl":
            return self.queue_url(logical_id)
        raise UnsupportedIntrinsic(f"GetAtt {logical_id}.{attribute}")

    # -- values -------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::If":
                name, when_true, when_false = argument
                return self.resolve(when_true if self.condition(name) else when_false)
            if key == "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.get_att(logical_id, attribute)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            if key.startswith("Fn::"):
                raise UnsupportedIntrinsic(key)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        resolved_variables = {name: self.resolve(item) for name, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in resolved_variables:
                return str(resolved_variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text)
