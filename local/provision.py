"""Create the stack's resources in the emulator from the SAM-transformed template.

The transform (tools/sam.py) is what CloudFormation runs, so the resources,
the functions' merged environments, the bucket notifications SAM generates and
the state machine's substitutions come from it, not from a copy of its rules.
Only what the local mode can emulate is created (docs/local-mode.md);
everything else is listed as skipped.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.intrinsics import ACCOUNT_ID, Resolver
from tools.sam import code_path
from tools.statemachines import substitute
from tools.template import ROOT

log = logging.getLogger("local.provision")
LOCAL_ROLE = "local-lambda-role"
LOCAL_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{LOCAL_ROLE}"


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
            "RoleARN": LOCAL_ROLE_ARN,
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


def _function(resolver: Resolver, clients: Clients, logical_id: str, properties: dict[str, Any]) -> None:
    clients.lambda_.create_function(
        FunctionName=resolver.physical_name(logical_id),
        Runtime="python3.12",  # moto's list; the handler really runs in this process
        Role=LOCAL_ROLE_ARN,
        Handler=properties["Handler"],
        Code={"ZipFile": placeholder_zip()},
        Timeout=int(resolver.resolve(properties.get("Timeout", 3))),
        MemorySize=int(resolver.resolve(properties.get("MemorySize", 128))),
    )


def _notifications(resolver: Resolver, clients: Clients, logical_id: str, properties: dict[str, Any]) -> None:
    """The bucket notifications SAM generated for ``Type: S3`` events (CloudFormation's shape to the API's)."""
    configurations = []
    for entry in resolver.resolve(properties.get("NotificationConfiguration", {}).get("LambdaConfigurations", [])):
        configuration: dict[str, Any] = {"LambdaFunctionArn": entry["Function"], "Events": [entry["Event"]]}
        if "Filter" in entry:
            configuration["Filter"] = {"Key": {"FilterRules": entry["Filter"]["S3Key"]["Rules"]}}
        configurations.append(configuration)
    if configurations:
        clients.s3.put_bucket_notification_configuration(
            Bucket=resolver.physical_name(logical_id),
            NotificationConfiguration={"LambdaFunctionConfigurations": configurations},
        )


def _state_machine(resolver: Resolver, clients: Clients, logical_id: str, properties: dict[str, Any]) -> None:
    """The real ASL definition, its ``${...}`` filled from DefinitionSubstitutions as CloudFormation does."""
    definition = (ROOT / code_path(properties["DefinitionS3Location"])).read_text(encoding="utf-8")
    values = {
        name: str(value) for name, value in resolver.resolve(properties.get("DefinitionSubstitutions", {})).items()
    }
    clients.stepfunctions.create_state_machine(
        name=resolver.physical_name(logical_id),
        definition=substitute(definition, values),
        roleArn=LOCAL_ROLE_ARN,
        type="STANDARD",
    )


Creator = Callable[[Resolver, Clients, str, dict[str, Any]], None]
# In creation order: data stores first, then what uses them.
DATA_STORES: list[tuple[str, Creator]] = [
    ("AWS::S3::Bucket", _bucket),
    ("AWS::DynamoDB::Table", _table),
    ("AWS::SQS::Queue", _queue),
    ("AWS::Glue::Database", _glue_database),
    ("AWS::KinesisFirehose::DeliveryStream", _delivery_stream),
]
COMPUTE: list[tuple[str, Creator]] = [
    ("AWS::Lambda::Function", _function),
    ("AWS::S3::Bucket", _notifications),
    ("AWS::StepFunctions::StateMachine", _state_machine),
]
# Read by the local mode itself (functions, async settings, the API), not created in moto.
MODELLED = {
    "AWS::Lambda::EventInvokeConfig",
    "AWS::ApiGateway::RestApi",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::Deployment",
    "AWS::Lambda::Permission",
}


def _create(resolver: Resolver, clients: Clients, creators: list[tuple[str, Creator]]) -> None:
    resources = resolver.template["Resources"]
    for resource_type, create in creators:
        for logical_id, resource in resources.items():
            if resource["Type"] == resource_type and resolver.is_active(logical_id):
                create(resolver, clients, logical_id, resource.get("Properties", {}))


def provision_data_resources(resolver: Resolver, clients: Clients) -> None:
    """Buckets, tables, queues, the Glue database and the delivery stream (no functions)."""
    _create(resolver, clients, DATA_STORES)


def data_store_names(resolver: Resolver) -> list[tuple[str, str, str]]:
    """``(logical id, type, physical name)`` of each active data store: what a saved state holds (local/state.py)."""
    types = {resource_type for resource_type, _ in DATA_STORES}
    return [
        (logical_id, resource["Type"], resolver.physical_name(logical_id))
        for logical_id, resource in resolver.template["Resources"].items()
        if resource["Type"] in types and resolver.is_active(logical_id)
    ]


def provision(resolver: Resolver, clients: Clients, *, data_restored: bool = False) -> list[str]:
    """Create every emulated resource of the transformed template; return the logical ids skipped.

    ``data_restored``: the data stores came back from a saved state (local/state.py); only the role,
    functions, notifications and state machine are created, from the template as it is now."""
    clients.iam.create_role(RoleName=LOCAL_ROLE, AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')
    _create(resolver, clients, COMPUTE if data_restored else DATA_STORES + COMPUTE)
    handled = {resource_type for resource_type, _ in DATA_STORES + COMPUTE} | MODELLED
    resources = resolver.template["Resources"]
    skipped = sorted(logical_id for logical_id, r in resources.items() if r["Type"] not in handled)
    log.debug("not emulated: %s", ", ".join(skipped))
    return skipped
