"""Shared fixtures: fake AWS (moto), the real handlers, Lambda context, request builders.

In-memory fakes of each port live in tests/fakes; this module is for tests
that go through moto or a handler.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

# Every function's settings (event_collector/config.py), set before any handler module is imported,
# and fake credentials: never reach real AWS.
TEST_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "event-collector",
    "POWERTOOLS_METRICS_NAMESPACE": "EventCollector",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "DELIVERY_STREAM_NAME": "test-delivery",
    "COUNTERS_TABLE_NAME": "test-counters",
    "TENANT_KEYS_TABLE_NAME": "test-tenant-keys",
    "REGULATIONS_TABLE_NAME": "test-regulations",
    "SCHEMAS_TABLE_NAME": "test-schemas",
    "SCHEMA_CACHE_SECONDS": "60",
    "LAKE_BUCKET_NAME": "test-lake",
    "GLUE_DATABASE_NAME": "test_db",
    "COMPACTION_STATE_TABLE_NAME": "test-compaction-state",
    "COMPACTION_GRACE_MINUTES": "20",
    "COMPACT_MAX_CONCURRENCY": "2",
    "COUNTING_MODE": "realtime",
    "COUNTER_RETENTION_DAYS": "400",
    "COUNTER_KEYS_PER_HOUR": "1000",
    "DEDUP_WINDOW_DAYS": "1",
    "ATHENA_WORK_GROUP": "test-analytics",
    "ATHENA_THRESHOLD_BYTES": "805306368",
    "CORS_ALLOW_ORIGIN": "*",
    "KEY_CACHE_SECONDS": "0",
    "SUPPRESSION_CACHE_SECONDS": "60",
    "RAW_BUCKET_NAME": "test-raw",
    "FIREHOSE_BUFFER_INTERVAL_SECONDS": "300",
}
os.environ.update(TEST_ENVIRONMENT)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import boto3  # noqa: E402 - after the environment above
import pytest  # noqa: E402 - after the environment above
from botocore.exceptions import ClientError  # noqa: E402 - after the environment above
from moto import mock_aws  # noqa: E402 - after the environment above

from event_collector.aws.tenant_keys_table import TenantKeysTable  # noqa: E402 - after the environment above
from event_collector.tenants.admin import TenantAdmin  # noqa: E402 - after the environment above
from local.functions import load_function  # noqa: E402 - after the environment above
from local.gateway.events import authorizer_event, proxy_event  # noqa: E402 - after the environment above
from tests.fakes.keys import DerivedKeys  # noqa: E402 - after the environment above

RAW_BUCKET = "test-raw"
LAKE_BUCKET = "test-lake"
NOW = 1_780_000_000  # a fixed "now" (2026-05-28) for key expiry tests
# Each table's variable and its resource in template.yaml (created in moto with the template's keys and indexes).
TABLE_RESOURCES = {
    "COUNTERS_TABLE_NAME": "CountersTable",
    "TENANT_KEYS_TABLE_NAME": "TenantKeysTable",
    "COMPACTION_STATE_TABLE_NAME": "CompactionStateTable",
    "REGULATIONS_TABLE_NAME": "RegulationsTable",
    "SCHEMAS_TABLE_NAME": "SchemasTable",
}
TABLES = tuple(TABLE_RESOURCES)


@dataclass
class FakeAws:
    s3: Any
    firehose: Any
    dynamodb: Any
    glue: Any
    delivered: set[str] = field(default_factory=set)

    def fan_out(self, counting_mode: str | None = None) -> Any:
        """The fan-out as deployed: S3 in and out, the compaction queue in DynamoDB, and counting in the
        ``delivered`` counting mode (``COUNTING_MODE`` unless given)."""
        from event_collector.aws.compaction_state import CompactionStateTable
        from event_collector.aws.counters_table import CountersTable
        from event_collector.aws.s3 import S3ObjectStore
        from event_collector.lake.fan_out import Counting, FanOut

        counting = Counting(CountersTable(self.dynamodb, os.environ["COUNTERS_TABLE_NAME"]))
        delivered = (counting_mode or os.environ["COUNTING_MODE"]) == "delivered"
        return FanOut(
            S3ObjectStore(self.s3),
            LAKE_BUCKET,
            counting=counting if delivered else None,
            queue=CompactionStateTable(self.dynamodb, os.environ["COMPACTION_STATE_TABLE_NAME"]),
        )

    def deliver(self) -> list[Any]:
        """What S3 notifications do in the cloud: fan out (queue; count in the delivered mode) every raw
        object not yet delivered."""
        fan_out = self.fan_out()
        reports = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=RAW_BUCKET):
            for item in page.get("Contents", []):
                if item["Key"] not in self.delivered:
                    self.delivered.add(item["Key"])
                    reports.append(fan_out.process(RAW_BUCKET, item["Key"]))
        return reports

    def raw_lines(self) -> list[dict[str, Any]]:
        """Every event line Firehose delivered to the raw bucket."""
        lines = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=RAW_BUCKET):
            for item in page.get("Contents", []):
                body = self.s3.get_object(Bucket=RAW_BUCKET, Key=item["Key"])["Body"].read()
                lines += [json.loads(line) for line in body.splitlines() if line]
        return lines

    def lake_keys(self, prefix: str = "") -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=LAKE_BUCKET, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def counter_items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.dynamodb.scan(TableName=os.environ["COUNTERS_TABLE_NAME"])["Items"]
        return items

    def counts(self) -> dict[tuple[str, str], int]:
        """Every counter (admission and applied-marker items carry no count)."""
        items = self.counter_items()
        return {(item["pk"]["S"], item["sk"]["S"]): int(item["count"]["N"]) for item in items if "count" in item}

    def assert_nothing_stored_or_counted(self) -> None:
        assert self.raw_lines() == []
        assert self.counter_items() == []


def record_calls(client: Any, operation: str) -> list[dict[str, Any]]:
    """Record the parameters of every ``operation`` call the client makes."""
    calls: list[dict[str, Any]] = []
    service = client.meta.service_model.service_name
    client.meta.events.register(
        f"provide-client-params.{service}.{operation}", lambda params, **_: calls.append(params)
    )
    return calls


def fail_calls(client: Any, operation: str, code: str, times: int | None = None) -> list[int]:
    """Make ``operation`` raise ClientError(code), ``times`` times or forever. Returns a call counter."""
    failures = [0]
    service = client.meta.service_model.service_name

    def fail(**_: Any) -> None:
        if times is None or failures[0] < times:
            failures[0] += 1
            raise ClientError({"Error": {"Code": code, "Message": "injected by the test"}}, operation)

    client.meta.events.register(f"before-call.{service}.{operation}", fail)
    return failures


def create_table(dynamodb: Any, name: str, variable: str | None = None) -> None:
    """The table as template.yaml declares it (keys and indexes), under ``name``."""
    from tools.template import template

    logical_id = TABLE_RESOURCES.get(variable or "", "CountersTable")
    properties = template()["Resources"][logical_id]["Properties"]
    arguments = {name_: properties[name_] for name_ in ("AttributeDefinitions", "KeySchema") if name_ in properties}
    if "GlobalSecondaryIndexes" in properties:
        arguments["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **arguments)


@pytest.fixture
def aws() -> Iterator[FakeAws]:
    with mock_aws():
        s3, firehose = boto3.client("s3"), boto3.client("firehose")
        dynamodb, glue = boto3.client("dynamodb"), boto3.client("glue")
        s3.create_bucket(Bucket=RAW_BUCKET)
        s3.create_bucket(Bucket=LAKE_BUCKET)
        firehose.create_delivery_stream(
            DeliveryStreamName=os.environ["DELIVERY_STREAM_NAME"],
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "BucketARN": f"arn:aws:s3:::{RAW_BUCKET}",
                "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                "Prefix": "raw/",
            },
        )
        for table in TABLES:
            create_table(dynamodb, os.environ[table], table)
        glue.create_database(DatabaseInput={"Name": os.environ["GLUE_DATABASE_NAME"]})
        yield FakeAws(s3=s3, firehose=firehose, dynamodb=dynamodb, glue=glue)


@pytest.fixture
def lambda_context() -> SimpleNamespace:
    return SimpleNamespace(
        function_name="test-function",
        function_version="$LATEST",
        memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:test-function",
        aws_request_id="00000000-0000-0000-0000-000000000000",
        log_group_name="/aws/lambda/test-function",
        log_stream_name="test",
        get_remaining_time_in_millis=lambda: 10_000,
    )


@pytest.fixture
def collector(aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The real collector module, wired to this test's moto clients."""
    module = load_function("collector")
    built = module.build(firehose=aws.firehose, dynamodb=aws.dynamodb, keys=DerivedKeys())
    monkeypatch.setattr(module, "collector", built)
    return module


@pytest.fixture
def fan_out_handler(aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The real fan-out module, wired to this test's moto clients (counting and the queue included)."""
    module = load_function("fan_out")
    monkeypatch.setattr(module, "fan_out", aws.fan_out())
    return module


@pytest.fixture
def authorizer(aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = load_function("authorizer")
    monkeypatch.setattr(module, "keys", TenantKeysTable(aws.dynamodb, os.environ["TENANT_KEYS_TABLE_NAME"]))
    return module


@pytest.fixture
def tenant_admin(aws: FakeAws) -> TenantAdmin:
    return TenantAdmin(TenantKeysTable(aws.dynamodb, os.environ["TENANT_KEYS_TABLE_NAME"]), clock=lambda: NOW)


def basic(tenant: str, api_key: str) -> str:
    return "Basic " + base64.b64encode(f"{tenant}:{api_key}".encode()).decode()


def api_request(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: bytes | None = None,
    content_type: str | None = "application/json",
    query: list[tuple[str, str]] | None = None,
    headers: list[tuple[str, str]] | None = None,
    tenant: str | None = "acme",
) -> dict[str, Any]:
    """A proxy event as API Gateway forwards it: for ``tenant``, with the authorizer's context (the routes
    that read counts) and the tenant's key in ``Authorization`` (the routes that send events)."""
    if raw_body is None and body is not None:
        raw_body = json.dumps(body).encode()
    all_headers = list(headers or [])
    if content_type and raw_body is not None:
        all_headers.append(("Content-Type", content_type))
    if tenant and not any(name.lower() == "authorization" for name, _ in all_headers):
        # The routes that send events authenticate in the collector: the tenant's derived key (fakes/keys.py).
        all_headers.append(("Authorization", basic(tenant, DerivedKeys.api_key_for(tenant))))
    context = {"tenant": tenant, "key_id": "k0000000000000000", "principalId": tenant} if tenant else None
    return proxy_event(
        method=method, path=path, headers=all_headers, query=query or [], body=raw_body, authorizer=context
    )


def call(module: ModuleType, event: dict[str, Any], context: Any) -> tuple[int, dict[str, str], Any]:
    """Invoke a handler; return status, headers and the decoded JSON body."""
    response = module.lambda_handler(event, context)
    body = response.get("body")
    parsed = json.loads(body) if body else None
    headers = {**(response.get("headers") or {})}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name] = values[-1]
    return response["statusCode"], headers, parsed


__all__ = [
    "LAKE_BUCKET",
    "NOW",
    "RAW_BUCKET",
    "FakeAws",
    "api_request",
    "authorizer_event",
    "basic",
    "call",
    "fail_calls",
    "load_function",
    "record_calls",
]


# Debian's chromium package, driven by Playwright; never `playwright install` (it downloads browsers). `make test`
# installs it where missing (tools/prerequisites.sh, which reads the same CHROMIUM).
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Debian's chromium is missing at {CHROMIUM}: `make test` installs it, or `apt-get install -y chromium`"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()
