"""The custom resource that gives API Gateway a CloudWatch Logs role (REST access logs need one), against moto,
its answers caught by an HTTP server on 127.0.0.1 standing in for CloudFormation's pre-signed URL: it sets the
stack's role only when the account has none, keeps any other, retries a role IAM is still propagating, leaves
the setting on Delete, and always answers once, before the function's timeout."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any, ClassVar

import boto3
import pytest
from moto import mock_aws

from event_collector.aws.apigateway import ApiGatewayAccount
from tests.conftest import fail_calls, load_function
from tools.template import ROOT, template

EVENT = json.loads((ROOT / "events/api-gateway-logging-role-create.json").read_text(encoding="utf-8"))
TIMEOUT_MS = int(template()["Resources"]["ApiGatewayLoggingRoleFunction"]["Properties"]["Timeout"]) * 1000
OURS = EVENT["ResourceProperties"]["RoleArn"]
THEIRS = "arn:aws:iam::123456789012:role/landing-zone-api-gateway-logs"


class FakeTimer:
    """The watchdog's timer: records when it would fire; the test fires it."""

    made: ClassVar[list[FakeTimer]] = []

    def __init__(self, interval: float, function: Callable[[], None]) -> None:
        self.interval, self.function, self.daemon = interval, function, False
        self.started = self.cancelled = False
        FakeTimer.made.append(self)

    def start(self) -> None:
        self.started = True

    def cancel(self) -> None:
        self.cancelled = True


class Clock:
    """The invocation's time: the context's remaining time, which the handler's waits use up."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.remaining_ms -= int(seconds * 1000)

    def context(self) -> SimpleNamespace:
        return SimpleNamespace(
            function_name="api-gateway-logging-role",
            function_version="$LATEST",
            memory_limit_in_mb=256,
            invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:api-gateway-logging-role",
            aws_request_id="00000000-0000-0000-0000-000000000000",
            log_group_name="/aws/lambda/api-gateway-logging-role",
            log_stream_name="test",
            get_remaining_time_in_millis=lambda: self.remaining_ms,
        )


class CloudFormation(BaseHTTPRequestHandler):
    """CloudFormation's pre-signed ResponseURL: every PUT body it receives."""

    answers: ClassVar[list[dict[str, Any]]] = []

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        CloudFormation.answers.append({"path": self.path, **json.loads(self.rfile.read(length))})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        return None


@pytest.fixture
def cloudformation(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The URL of a local stand-in for CloudFormation's answer URL."""
    for variable in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    CloudFormation.answers = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), CloudFormation)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/answer"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def apigateway() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("apigateway", region_name="us-east-1")


@pytest.fixture
def logging_role(apigateway, cloudformation, monkeypatch):
    module = load_function("api_gateway_logging_role")
    clock = Clock(TIMEOUT_MS)
    monkeypatch.setattr(module, "account", ApiGatewayAccount(apigateway))
    monkeypatch.setattr(module, "Timer", FakeTimer)
    monkeypatch.setattr(module, "sleep", clock.sleep)
    FakeTimer.made.clear()

    def invoke(request_type: str) -> None:
        event = {**EVENT, "RequestType": request_type, "ResponseURL": cloudformation}
        if request_type != "Create":  # CloudFormation names the resource by the id its Create answered
            event["PhysicalResourceId"] = module.PHYSICAL_ID
        module.lambda_handler(event, clock.context())

    return SimpleNamespace(invoke=invoke, clock=clock, module=module)


def account_role(apigateway: Any) -> str | None:
    return apigateway.get_account().get("cloudwatchRoleArn")


def test_given_an_account_without_a_role_when_created_then_the_stack_s_role_is_set(logging_role, apigateway):
    logging_role.invoke("Create")

    assert account_role(apigateway) == OURS
    (answer,) = CloudFormation.answers
    assert (answer["Status"], answer["path"]) == ("SUCCESS", "/answer")
    assert (answer["RequestId"], answer["LogicalResourceId"]) == (EVENT["RequestId"], EVENT["LogicalResourceId"])
    assert answer["Data"] == {"Outcome": "set", "AccountRoleArn": OURS}
    assert answer["PhysicalResourceId"] == logging_role.module.PHYSICAL_ID
    assert logging_role.clock.waits == []


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_given_an_account_with_a_role_already_when_deployed_then_that_role_is_kept(
    logging_role, apigateway, request_type
):
    apigateway.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": THEIRS}])
    updates = fail_calls(apigateway, "UpdateAccount", "AccessDeniedException")  # any attempt to change it fails

    logging_role.invoke(request_type)

    assert account_role(apigateway) == THEIRS
    assert updates == [0]  # not even tried
    (answer,) = CloudFormation.answers
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"] == {"Outcome": "kept", "AccountRoleArn": THEIRS}
    assert THEIRS in answer["Reason"]


def test_given_a_role_iam_still_propagates_when_set_then_it_is_set_on_a_later_attempt(logging_role, apigateway):
    refused = fail_calls(apigateway, "UpdateAccount", "BadRequestException", times=2)

    logging_role.invoke("Create")

    assert refused == [2]
    assert account_role(apigateway) == OURS
    (answer,) = CloudFormation.answers
    assert answer["Data"] == {"Outcome": "set", "AccountRoleArn": OURS}
    assert logging_role.clock.waits == [2.0, 4.0]  # growing waits between attempts


def test_given_the_role_is_refused_until_the_time_is_up_when_created_then_failed_before_the_timeout(
    logging_role, apigateway
):
    refused = fail_calls(apigateway, "UpdateAccount", "BadRequestException")
    margin = logging_role.module.ANSWER_MARGIN_SECONDS

    logging_role.invoke("Create")

    assert account_role(apigateway) is None
    (answer,) = CloudFormation.answers
    assert answer["Status"] == "FAILED"  # the stage's access logs could not deploy without a role
    assert answer["Data"]["Outcome"] == "failed"
    assert f"on each of {refused[0]} attempt(s)" in answer["Reason"]
    assert "BadRequestException" in answer["Reason"]
    assert refused[0] > 2
    assert max(logging_role.clock.waits) == logging_role.module.LONGEST_WAIT_SECONDS
    assert logging_role.clock.remaining_ms >= margin * 1000  # it stopped with the answer's time left


def test_given_the_account_cannot_be_read_when_created_then_success_saying_the_role_is_unknown(
    logging_role, apigateway
):
    fail_calls(apigateway, "GetAccount", "AccessDeniedException")
    updates = fail_calls(apigateway, "UpdateAccount", "AccessDeniedException")

    logging_role.invoke("Create")

    (answer,) = CloudFormation.answers
    # The account may well have a role: the stage's own deployment says so if it has none.
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["Outcome"] == "unknown"
    assert "AccessDeniedException" in answer["Reason"]
    assert updates == [0]


@pytest.mark.parametrize("role", [OURS, THEIRS, None])
def test_given_stack_deletion_when_deleted_then_the_account_s_setting_is_left_as_it_is(logging_role, apigateway, role):
    if role:
        apigateway.update_account(patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}])

    logging_role.invoke("Delete")

    assert account_role(apigateway) == role
    (answer,) = CloudFormation.answers
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"]["Outcome"] == "left"
    assert answer["PhysicalResourceId"] == logging_role.module.PHYSICAL_ID


def test_given_any_request_when_handled_then_a_watchdog_is_set_to_answer_before_the_timeout(logging_role):
    logging_role.invoke("Create")

    (watchdog,) = FakeTimer.made
    assert watchdog.started
    assert watchdog.daemon
    assert watchdog.cancelled  # once the handler answered
    assert watchdog.interval == TIMEOUT_MS / 1000 - logging_role.module.ANSWER_MARGIN_SECONDS


@pytest.mark.parametrize(
    ("request_type", "read_first", "status", "outcome"),
    [
        ("Create", True, "FAILED", "failed"),  # the account had no role, and ours was not set in time
        ("Create", False, "SUCCESS", "unknown"),  # the account's setting was never read
        ("Delete", False, "SUCCESS", "left"),
    ],
)
def test_given_a_call_that_hangs_when_the_watchdog_fires_then_cloudformation_gets_one_answer(
    logging_role, monkeypatch, request_type, read_first, status, outcome
):
    class HangingAccount:
        def logging_role(self) -> str | None:
            if not read_first:
                FakeTimer.made[0].function()  # the timer fires while this call still runs
                raise AssertionError("unreachable in the cloud: Lambda ends the invocation at its timeout")
            return None

        def set_logging_role(self, role_arn: str) -> None:
            FakeTimer.made[0].function()
            raise AssertionError("unreachable in the cloud: Lambda ends the invocation at its timeout")

    monkeypatch.setattr(logging_role.module, "account", HangingAccount())

    logging_role.invoke(request_type)

    (answer,) = CloudFormation.answers  # the watchdog's; the handler's own came second and was not sent
    assert (answer["Status"], answer["Data"]["Outcome"]) == (status, outcome)
