"""Every AWS client is made in event_collector.aws.clients: lean and bounded on the request path, the SDK's
standard retries elsewhere; and the SDK's set-up errors are classified for the operator CLIs."""

from __future__ import annotations

import pytest
from botocore import exceptions

from event_collector.aws.clients import client, operator_client, session
from event_collector.aws.errors import setup_error
from event_collector.aws.json_client import DynamoDBClient, FirehoseClient


@pytest.mark.parametrize(("service", "kind"), [("dynamodb", DynamoDBClient), ("firehose", FirehoseClient)])
def test_given_a_request_path_client_when_made_then_it_is_the_lean_client_with_short_bounded_calls(service, kind):
    made = client(service, "request")

    assert type(made) is kind
    assert (made._connect_timeout, made._read_timeout, made._max_attempts) == (1, 2, 2)
    assert client(service, "request", single_attempt=True)._max_attempts == 1


def test_given_a_service_the_request_path_does_not_call_when_asked_then_it_is_refused():
    with pytest.raises(ValueError, match="no request-path client for s3"):
        client("s3", "request")


def test_given_a_background_client_when_made_then_it_is_boto3_with_standard_retries():
    made = client("s3")

    config = made.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 6}
    assert (config.connect_timeout, config.read_timeout) == (5, 60)


def test_given_the_awswrangler_adapters_when_their_session_is_made_then_it_is_the_one_background_clients_use():
    import awswrangler as wr
    import boto3

    import event_collector.aws.wrangler  # noqa: F401 - sets awswrangler's client settings

    made = session()

    assert made is session() is boto3.DEFAULT_SESSION  # what boto3.client() builds from: one set of hooks
    config = wr.config.botocore_config  # every client awswrangler makes
    assert config is not None
    assert config.retries == {"mode": "standard", "total_max_attempts": 6}
    assert (config.connect_timeout, config.read_timeout) == (5, 60)


def test_given_the_local_stack_s_credentials_when_an_operator_client_is_made_then_it_gives_up_quickly():
    local = operator_client(
        "dynamodb",
        region="us-east-1",
        endpoint_url="http://127.0.0.1:1",
        credentials={"aws_access_key_id": "local", "aws_secret_access_key": "local"},
    )
    cloud = operator_client("dynamodb", region="us-east-1")

    assert local.meta.config.retries["total_max_attempts"] == 2
    assert local.meta.endpoint_url == "http://127.0.0.1:1"
    assert cloud.meta.config.retries["total_max_attempts"] == 6


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (exceptions.NoRegionError(), ("no_region", "")),
        (exceptions.NoCredentialsError(), ("no_credentials", "")),
        (exceptions.PartialCredentialsError(provider="env", cred_var="secret"), ("no_credentials", "")),
        (
            exceptions.ProfileNotFound(profile="ops"),
            ("profile_not_found", "The config profile (ops) could not be found"),
        ),
        (exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), ("unreachable", "http://127.0.0.1:1")),
        (ValueError("not the SDK's"), None),
    ],
)
def test_given_an_sdk_set_up_error_when_classified_then_the_kind_names_what_to_set(error, expected):
    assert setup_error(error) == expected
