"""The request path's endpoints are botocore's: its partitions data, its endpoint rule sets, and what a boto3
client built in the same environment calls, for every partition, FIPS and dual-stack setting, both services.

botocore is the oracle here only: the lean client never imports it (event_collector/aws/endpoints.py)."""

from __future__ import annotations

import itertools
import re
from functools import cache
from typing import Any

import boto3
import pytest
from botocore.endpoint_provider import EndpointProvider
from botocore.exceptions import EndpointVariantError
from botocore.loaders import create_loader

from event_collector.aws.credentials import Credentials
from event_collector.aws.endpoints import PARTITIONS, endpoint_for, partition_of
from event_collector.aws.json_client import DynamoDBClient, FirehoseClient

SERVICES = {"dynamodb": ("2012-08-10", DynamoDBClient), "firehose": ("2015-08-04", FirehoseClient)}
SETTINGS = list(itertools.product([False, True], repeat=2))  # (FIPS, dual-stack)
ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_FIREHOSE",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_ACCOUNT_ID",  # with one, botocore would pick DynamoDB's account endpoints (not followed: see the module)
)


@cache
def botocore_partitions() -> list[dict[str, Any]]:
    return list(create_loader().load_data("partitions")["partitions"])


@cache
def rule_set(service: str) -> EndpointProvider:
    loader = create_loader()
    rules = loader.load_service_model(service, "endpoint-rule-set-1", SERVICES[service][0])
    return EndpointProvider(rules, loader.load_data("partitions"))


def every_region() -> list[str]:
    """Every region botocore lists, one its patterns match but it does not list, and one no pattern matches."""
    listed = [region for partition in botocore_partitions() for region in partition["regions"]]
    return [*listed, "us-isob-west-9", "eusc-de-south-2", "xx-nowhere-1"]


def a_region_of_each_partition() -> list[str]:
    return [next(r for r in partition["regions"] if not r.endswith("global")) for partition in botocore_partitions()]


def test_the_partition_table_is_botocores_data():
    ours = [(p.name, p.region_pattern, p.dns_suffix, p.dual_stack_dns_suffix, set(p.other_regions)) for p in PARTITIONS]

    expected = [
        (
            partition["id"],
            partition["regionRegex"],
            partition["outputs"]["dnsSuffix"],
            partition["outputs"]["dualStackDnsSuffix"],
            {region for region in partition["regions"] if not re.match(partition["regionRegex"], region)},
        )
        for partition in botocore_partitions()
    ]
    assert ours == expected
    # The table has no "supports" flags: every partition must support both variants.
    assert all(p["outputs"]["supportsFIPS"] and p["outputs"]["supportsDualStack"] for p in botocore_partitions())


def botocore_partition_of(region: str) -> str:
    from botocore.endpoint_provider import RuleSetStandardLibrary

    library = RuleSetStandardLibrary({"partitions": botocore_partitions()})
    return str(library.aws_partition(region)["name"])


@pytest.mark.parametrize("region", every_region())
def test_given_any_region_when_placed_then_its_partition_is_botocores(region):
    assert partition_of(region).name == botocore_partition_of(region)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("region", every_region())
def test_given_any_region_and_setting_when_resolved_then_the_url_is_the_rule_sets(monkeypatch, service, region):
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for fips, dual_stack in SETTINGS:
        monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", str(fips).lower())
        monkeypatch.setenv("AWS_USE_DUALSTACK_ENDPOINT", str(dual_stack).lower())

        expected = rule_set(service).resolve_endpoint(Region=region, UseFIPS=fips, UseDualStack=dual_stack)

        assert endpoint_for(service, region) == expected.url, (fips, dual_stack)
        assert expected.properties.get("authSchemes") is None  # so the signing region is the region itself


class Captured(Exception):
    """Raised where boto3 would send its request, once it is signed."""


def what_boto3_sends(service: str, region: str) -> tuple[str, str] | None:
    """The URL and credential scope of the request a boto3 client made now would send; None when boto3 refuses
    to make the client (its older endpoints.json check, for dual-stack in aws-iso-e and aws-iso-f)."""
    try:
        client = boto3.client(service, region_name=region)
    except EndpointVariantError:
        return None
    seen: dict[str, Any] = {}

    def capture(request: Any, **_: Any) -> None:
        seen["url"], seen["authorization"] = request.url, request.headers["Authorization"]
        raise Captured

    client.meta.events.register("before-send", capture)
    with pytest.raises(Captured):  # nothing leaves this machine
        (client.describe_limits if service == "dynamodb" else client.list_delivery_streams)()
    authorization = (
        seen["authorization"].decode() if isinstance(seen["authorization"], bytes) else seen["authorization"]
    )
    return seen["url"].rstrip("/"), authorization.split("Credential=")[1].split(",")[0].split("/", 2)[2]


def what_ours_sends(service: str, region: str) -> tuple[str, str]:
    client = SERVICES[service][1](region=region, credentials=Credentials("AKIDEXAMPLE", "secret"))
    sent: dict[str, str] = {}

    def capture(headers: dict[str, str], body: bytes) -> tuple[int, bytes, str | None]:
        sent.update(headers)
        return 200, b"{}", None

    client._exchange = capture  # type: ignore[method-assign]
    client.call("DescribeLimits" if service == "dynamodb" else "ListDeliveryStreams", {})
    return client.endpoint_url, sent["Authorization"].split("Credential=")[1].split(",")[0].split("/", 2)[2]


@pytest.mark.parametrize(("fips", "dual_stack"), SETTINGS, ids=["plain", "dual-stack", "fips", "fips-dual-stack"])
@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("region", a_region_of_each_partition())
def test_given_the_environment_lambda_sets_when_a_client_is_made_then_it_calls_and_signs_where_boto3_does(
    monkeypatch, service, region, fips, dual_stack
):
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true" if fips else "false")
    monkeypatch.setenv("AWS_USE_DUALSTACK_ENDPOINT", "true" if dual_stack else "false")

    expected = what_boto3_sends(service, region)
    if expected is None:  # boto3 makes no client there; the rule set, which its requests follow, still answers
        url = rule_set(service).resolve_endpoint(Region=region, UseFIPS=fips, UseDualStack=dual_stack).url
        expected = (url, f"{region}/{service}/aws4_request")

    assert what_ours_sends(service, region) == expected


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "https://dynamodb.eu-west-1.amazonaws.com"),
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:3001"}, "http://127.0.0.1:3001"),
        ({"AWS_ENDPOINT_URL": "http://a", "AWS_ENDPOINT_URL_DYNAMODB": "http://b"}, "http://b"),
        ({"AWS_ENDPOINT_URL_FIREHOSE": "http://f"}, "https://dynamodb.eu-west-1.amazonaws.com"),
        ({"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_DYNAMODB": ""}, "https://dynamodb.eu-west-1.amazonaws.com"),
        ({"AWS_ENDPOINT_URL": "http://a", "AWS_USE_FIPS_ENDPOINT": "true"}, "http://a"),
        ({"AWS_ENDPOINT_URL": "http://a", "AWS_USE_DUALSTACK_ENDPOINT": "true"}, "http://a"),
        ({"AWS_ENDPOINT_URL": "http://a", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "TRUE"}, None),
        ({"AWS_USE_FIPS_ENDPOINT": "True"}, "https://dynamodb-fips.eu-west-1.amazonaws.com"),
        ({"AWS_USE_FIPS_ENDPOINT": "1"}, "https://dynamodb.eu-west-1.amazonaws.com"),
        ({"AWS_USE_DUALSTACK_ENDPOINT": "yes"}, "https://dynamodb.eu-west-1.amazonaws.com"),
    ],
)
def test_given_endpoint_settings_when_resolved_then_the_sdks_precedence_holds(monkeypatch, environment, expected):
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    ours = what_ours_sends("dynamodb", "eu-west-1")
    boto3s = what_boto3_sends("dynamodb", "eu-west-1")

    assert ours == boto3s
    assert ours[0] == (expected or "https://dynamodb.eu-west-1.amazonaws.com")
