"""The API's stage on the SAM-transformed template, for either API type: access logs into a log group kept as
long as the functions' logs, never a key in them, and throttling from the template's parameters."""

from __future__ import annotations

import json
import re
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


def log_format(resolved: Resolver, api_type: str) -> tuple[str, dict[str, Any]]:
    """A stage's access log format, and its settings."""
    logging = stage(resolved, api_type)["AccessLogSetting" if api_type == "REST" else "AccessLogSettings"]
    return str(resolved.resolve(logging["Format"])), logging


# How API Gateway fills in a variable that has no value in an access log line: "-" (the lines AWS's users publish
# show it for every absent value), or nothing at all. What $context.error.messageString writes when there was no
# error is not documented (AWS: "the quoted value of $context.error.message"): any of these, quoted or not.
NO_VALUE = ["-", ""]
MESSAGE_STRING_WITHOUT_ERROR = ['"-"', '""', "-", ""]
FAILED_REQUEST = {
    "$context.status": "502",
    "$context.error.message": "Internal server error",
    "$context.error.messageString": '"Internal server error"',
    "$context.error.responseType": "DEFAULT_5XX",
}


def logged_line(text: str, values: dict[str, str], otherwise: str = "value") -> dict[str, Any]:
    """The line API Gateway writes with this format: ``values``' variables as given, every other one ``otherwise``.
    It must be one JSON object, whatever the request."""
    filled = re.sub(r"\$context\.[A-Za-z.]+", lambda found: values.get(found.group(0), otherwise), text)
    line: dict[str, Any] = json.loads(filled)
    return line


@pytest.mark.parametrize("api_type", ["REST", "HTTP"])
def test_given_each_api_type_when_deployed_then_its_stage_logs_every_request_into_a_group_with_the_retention(
    api_type,
):
    resolved = resolver(ApiType=api_type, LogRetentionDays="90")
    text, logging = log_format(resolved, api_type)
    (group, attribute) = logging["DestinationArn"]["Fn::GetAtt"]
    log_group = resolved.template["Resources"][group]

    line = logged_line(text, FAILED_REQUEST)  # one JSON object per request

    assert (log_group["Type"], attribute) == ("AWS::Logs::LogGroup", "Arn")
    assert resolved.resolve(log_group["Properties"]["RetentionInDays"]) == "90"
    assert {"requestId", "status", "errorType", "path"} <= set(line)
    assert (line["status"], line["errorType"]) == ("502", "DEFAULT_5XX")


@pytest.mark.parametrize("api_type", ["REST", "HTTP"])
@pytest.mark.parametrize("no_value", NO_VALUE)
@pytest.mark.parametrize("message_string", MESSAGE_STRING_WITHOUT_ERROR)
def test_given_a_request_without_an_error_when_logged_then_its_line_is_still_one_json_object(
    api_type, no_value, message_string
):
    text, _ = log_format(resolver(ApiType=api_type), api_type)
    absent = {variable: no_value for variable in FAILED_REQUEST if variable != "$context.status"}

    line = logged_line(text, {**absent, "$context.error.messageString": message_string, "$context.status": "200"})

    assert (line["status"], line["errorType"]) == ("200", no_value)


@pytest.mark.parametrize("api_type", ["REST", "HTTP"])
def test_given_the_access_log_format_when_read_then_it_records_no_header_query_string_or_body(api_type):
    text, _ = log_format(resolver(ApiType=api_type), api_type)

    variables = re.findall(r"\$[A-Za-z][A-Za-z.]*", text)

    # A key travels in the Authorization header, a beacon's query string or a Segment body.
    assert variables
    assert all(variable.startswith("$context.") for variable in variables)
    assert not [v for v in variables if any(part in v.lower() for part in ("header", "querystring", "body"))]
    # What a client sends (its User-Agent, say) is not quoted by API Gateway: a quote in it would break the line.
    assert "$context.identity.userAgent" not in variables


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
