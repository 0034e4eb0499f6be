"""Create the template's resources in the emulator, from template.yaml itself.

Only what the local mode can emulate is created (see docs/local-mode.md);
everything else (IAM, alarms, log groups, the API itself) is listed as skipped.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .intrinsics import ACCOUNT_ID, Resolver
from .lambdas import LocalFunctions
from .statemachines import substitute
from .template import ROOT

log = logging.getLogger("local.provision")
LOCAL_LAMBDA_ROLE = "local-lambda-role"


@dataclass
class Clients:
    s3: Any
    dynamodb: Any
    firehose: Any
    sqs: Any
    glue: Any
    iam: Any
    lambda_: Any
    stepfunctions: Any


def static_prefix(prefix: str) -> str:
    """moto appends ``YYYY/MM/DD/HH/`` itself and does not evaluate ``!{timestamp:...}``.

    ``raw/!{timestamp:yyyy}/!{timestamp:MM}/...`` keeps ``raw/``; moto's own
    suffix then yields the same key layout Firehose would write.
    """
    return prefix.split("!{", 1)[0]


def _bucket(resolver: Resolver, clients: Clients, logical_id: str, properties: dict[str, Any]) -> None:
    name = resolver.physical_name(logical_id)
    clients.s3.create_bucket(Bucket=name)
    if properties.get("VersioningConfiguration", {}).get("Status") == "Enabled":
        clients.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    encryption = properties.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration")
    if encryption:
        # CloudFormation's property names differ from the API's.
        rules = [
            {
                "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled", False)),
            }
            for rule in resolver.resolve(encryption)
        ]
        clients.s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})


def _table(resolver: Resolver, clients: Clients, logical_id: str, properties: dict[str, Any]) -> None:
    name = resolver.physical_name(logical_id)
    arguments: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if "GlobalSecondaryIndexes" in properties:
        arguments["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    clients.dynamodb.create_table(**arguments)
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        clients.dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
        )


def _queue(resolver: Resolver, clients: Clients, logical_id: str, properties: dict[str, Any]) -> None:
    attributes = {
        key: str(resolver.resolve(value))
        for key, value in properties.items()
        if key in ("MessageRetentionPeriod", "VisibilityTimeout", "DelaySeconds", "ReceiveMessageWaitTimeSeconds")
    }
    clients.sqs.create_queue(QueueName=resolver.physical_name(logical_id), Attributes=attributes)


def _glue_database(resolver: Resolver, clients: Clients, logical_id: str, properties: dict[str, Any]) -> None:
    clients.glue.create_database(DatabaseInput={"Name": resolver.physical_name(logical_id)})


def _delivery_stream(resolver: Resolver, clients: Clients, logical_id: str, properties: dict[str, Any]) -> None:
    destination = resolver.resolve(properties["ExtendedS3DestinationConfiguration"])
    clients.firehose.create_delivery_stream(
        DeliveryStreamName=resolver.physical_name(logical_id),
        DeliveryStreamType=properties.get("DeliveryStreamType", "DirectPut"),
        ExtendedS3DestinationConfiguration={
            "BucketARN": destination["BucketARN"],
            "RoleARN": f"arn:aws:iam::{ACCOUNT_ID}:role/{LOCAL_LAMBDA_ROLE}",
            "Prefix": static_prefix(destination.get("Prefix", "")),
            "ErrorOutputPrefix": static_prefix(destination.get("ErrorOutputPrefix", "")),
            "CompressionFormat": destination.get("CompressionFormat", "UNCOMPRESSED"),
        },
    )


def placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Dispatched in-process by the local mode; see local/lambdas.py.\n")
    return buffer.getvalue()


def _functions(resolver: Resolver, clients: Clients, functions: LocalFunctions) -> None:
    clients.iam.create_role(
        RoleName=LOCAL_LAMBDA_ROLE,
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}',
    )
    code = placeholder_zip()
    for function in functions.by_name.values():
        clients.lambda_.create_function(
            FunctionName=function.name,
            Runtime="python3.12",
            Role=f"arn:aws:iam::{ACCOUNT_ID}:role/{LOCAL_LAMBDA_ROLE}",
            Handler=f"app.{function.handler_name}",
            Code={"ZipFile": code},
            Timeout=function.timeout,
            MemorySize=function.memory,
        )


def _s3_notifications(resolver: Resolver, clients: Clients, functions: LocalFunctions) -> None:
    """Wire every ``Type: S3`` function event as the bucket's notification, as SAM would."""
    per_bucket: dict[str, list[dict[str, Any]]] = {}
    for function in functions.by_name.values():
        resource = resolver.template["Resources"][function.logical_id]
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] != "S3":
                continue
            properties = event["Properties"]
            events = properties["Events"] if isinstance(properties["Events"], list) else [properties["Events"]]
            configuration: dict[str, Any] = {"LambdaFunctionArn": function.arn, "Events": events}
            if "Filter" in properties:
                rules = resolver.resolve(properties["Filter"])["S3Key"]["Rules"]  # CloudFormation's shape
                configuration["Filter"] = {"Key": {"FilterRules": rules}}
            bucket = resolver.resolve(properties["Bucket"])
            per_bucket.setdefault(bucket, []).append(configuration)
    for bucket, configurations in per_bucket.items():
        clients.s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": configurations}
        )


def _state_machines(resolver: Resolver, clients: Clients) -> None:
    """The real ASL definition, its ``${...}`` filled from DefinitionSubstitutions as SAM would."""
    for logical_id, resource in resolver.template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::StateMachine":
            continue
        properties = resource["Properties"]
        definition = (ROOT / properties["DefinitionUri"]).read_text(encoding="utf-8")
        values = {
            name: str(value) for name, value in resolver.resolve(properties.get("DefinitionSubstitutions", {})).items()
        }
        clients.stepfunctions.create_state_machine(
            name=resolver.physical_name(logical_id),
            definition=substitute(definition, values),
            roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{LOCAL_LAMBDA_ROLE}",
            type="STANDARD",
        )


Creator = Callable[[Resolver, Clients, str, dict[str, Any]], None]
# Creation order matters: buckets and queues before the streams and functions that use them.
CREATORS: list[tuple[str, Creator]] = [
    ("AWS::S3::Bucket", _bucket),
    ("AWS::DynamoDB::Table", _table),
    ("AWS::SQS::Queue", _queue),
    ("AWS::Glue::Database", _glue_database),
    ("AWS::KinesisFirehose::DeliveryStream", _delivery_stream),
]
HANDLED_ELSEWHERE = {
    "AWS::Serverless::Function",
    "AWS::Serverless::Api",
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::StateMachine",
}


def provision_data_resources(resolver: Resolver, clients: Clients) -> None:
    """Buckets, tables, queues, the Glue database and the delivery stream (no functions)."""
    resources = resolver.template["Resources"]
    for resource_type, create in CREATORS:
        for logical_id, resource in resources.items():
            if resource["Type"] == resource_type and resolver.is_active(logical_id):
                create(resolver, clients, logical_id, resource.get("Properties", {}))


def provision(resolver: Resolver, clients: Clients, functions: LocalFunctions) -> list[str]:
    """Create every emulated resource; return the logical ids that were skipped."""
    resources = resolver.template["Resources"]
    provision_data_resources(resolver, clients)
    _functions(resolver, clients, functions)
    _s3_notifications(resolver, clients, functions)
    _state_machines(resolver, clients)
    emulated = {resource_type for resource_type, _ in CREATORS} | HANDLED_ELSEWHERE
    skipped = sorted(logical_id for logical_id, r in resources.items() if r["Type"] not in emulated)
    log.debug("not emulated: %s", ", ".join(skipped))
    return skipped
