"""The API's stage on the SAM-transformed template, for either API type: access logs into a log group kept as
long as the functions' logs, never a key in them, and throttling from the template's parameters."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.template.policies import resolver
from tools.intrinsics import Resolver

STAGE_TYPES = {"REST": "AWS::ApiGateway::Stage", "HTTP": "AWS::ApiGatewayV2::Stage"}


def stage(resolved: Resolver, api_type: str) -> dict[str, Any]:
    (found,) = [
        resource["Properties"]
        for name, resource in resolved.template["Resources"].items()
        if resource["Type"] == STAGE_TYPES[api_type] and resolved.is_active(name)
    ]
    return found


@pytest.mark.parametrize("api_type", ["REST", "HTTP"])
def test_given_each_api_type_when_deployed_then_its_stage_logs_every_request_into_a_group_with_the_retention(
    api_type,
):
    resolved = resolver(ApiType=api_type, LogRetentionDays="90")
    logging = stage(resolved, api_type)["AccessLogSetting" if api_type == "REST" else "AccessLogSettings"]
    (group, attribute) = logging["DestinationArn"]["Fn::GetAtt"]
    log_group = resolved.template["Resources"][group]

    fields = json.loads(resolved.resolve(logging["Format"]))  # one JSON object per request

    assert (log_group["Type"], attribute) == ("AWS::Logs::LogGroup", "Arn")
    assert resolved.resolve(log_group["Properties"]["RetentionInDays"]) == "90"
    assert {"$context.requestId", "$context.status", "$context.error.message"} <= set(fields.values())


@pytest.mark.parametrize("api_type", ["REST", "HTTP"])
def test_given_the_access_log_format_when_read_then_it_records_no_header_query_string_or_body(api_type):
    resolved = resolver(ApiType=api_type)
    logging = stage(resolved, api_type)["AccessLogSetting" if api_type == "REST" else "AccessLogSettings"]

    values = json.loads(resolved.resolve(logging["Format"])).values()

    # A key travels in the Authorization header, a beacon's query string or a Segment body.
    assert all(value.startswith("$context.") for value in values)
    assert not [value for value in values if any(part in value.lower() for part in ("header", "querystring", "body"))]


@pytest.mark.parametrize("api_type", ["REST", "HTTP"])
def test_given_throttling_parameters_when_deployed_then_the_stage_throttles_every_route_at_them(api_type):
    resolved = resolver(ApiType=api_type, ApiThrottlingRateLimit="50", ApiThrottlingBurstLimit="100")
    properties = resolved.resolve(stage(resolved, api_type))

    if api_type == "REST":
        (every_route,) = [
            s for s in properties["MethodSettings"] if (s["ResourcePath"], s["HttpMethod"]) == ("/*", "*")
        ]
    else:
        every_route = properties["DefaultRouteSettings"]

    assert (float(every_route["ThrottlingRateLimit"]), int(every_route["ThrottlingBurstLimit"])) == (50.0, 100)


def test_given_the_rest_api_when_its_stage_logs_then_the_account_has_api_gateway_s_logging_role_first():
    resolved = resolver(ApiType="REST")
    resources = resolved.template["Resources"]
    (account,) = [name for name, r in resources.items() if r["Type"] == "AWS::ApiGateway::Account"]
    role = resources[account]["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    trusted = resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]

    assert resolved.is_active(account)
    depends_on = resources["Api"].get("DependsOn", [])
    assert account in ([depends_on] if isinstance(depends_on, str) else depends_on)  # the API (so its stage) after it
    assert [s["Principal"]["Service"] for s in trusted] == ["apigateway.amazonaws.com"]
    assert resolved.resolve(resources[role]["Properties"]["ManagedPolicyArns"]) == [
        "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    ]
    # An account-wide setting: another stack may point at this role after this one is gone.
    assert resources[role]["DeletionPolicy"] == "Retain"
