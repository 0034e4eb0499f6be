"""The API Gateway adapter against moto: the account's CloudWatch Logs role read, set, and refusals described."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from event_collector.aws.apigateway import ApiGatewayAccount
from event_collector.errors import AccountSettingError
from tests.conftest import fail_calls

ROLE = "arn:aws:iam::123456789012:role/api-gateway-logs"


@pytest.fixture
def apigateway() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("apigateway", region_name="us-east-1")


def test_given_an_account_without_a_role_when_read_then_none(apigateway):
    assert ApiGatewayAccount(apigateway).logging_role() is None


def test_given_a_role_set_when_read_then_it_is_the_account_s_role(apigateway):
    account = ApiGatewayAccount(apigateway)

    account.set_logging_role(ROLE)

    assert account.logging_role() == ROLE
    assert apigateway.get_account()["cloudwatchRoleArn"] == ROLE


def test_given_api_gateway_refuses_the_role_when_set_then_the_error_keeps_its_reason(apigateway):
    fail_calls(apigateway, "UpdateAccount", "BadRequestException")

    with pytest.raises(AccountSettingError, match="BadRequestException: injected by the test"):
        ApiGatewayAccount(apigateway).set_logging_role(ROLE)


def test_given_the_account_cannot_be_read_when_read_then_an_account_setting_error(apigateway):
    fail_calls(apigateway, "GetAccount", "AccessDeniedException")

    with pytest.raises(AccountSettingError, match="AccessDeniedException"):
        ApiGatewayAccount(apigateway).logging_role()
