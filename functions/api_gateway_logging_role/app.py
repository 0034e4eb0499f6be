"""CloudFormation custom resource: give API Gateway a CloudWatch Logs role when the account has none.

A REST API's stage may log access only once the account has API Gateway's CloudWatch Logs role, a setting of
the account and Region, not of an API or a stack. ``AWS::ApiGateway::Account`` overwrote it on every deploy of
every stack, replacing a role a landing zone or another stack had set. This resource sets the stack's role
only when the account has none, and never changes or clears it afterwards: on Delete it leaves the setting
as it is, since the account's other REST APIs may log through it (docs/decisions.md).

A role created seconds before may still be refused while IAM propagates it ("The role ARN does not have
required permissions..."), so setting it is retried with growing waits while time remains. CloudFormation
always gets one answer, before the function's timeout (a watchdog answers if a call hangs): FAILED only when
the account was read as having no role and setting ours failed, since the stage's access logs would then
fail to deploy; otherwise SUCCESS, its Data saying whether the role was set, kept, or (the account's
setting unread) unknown, in which case the stage's deployment itself says whether a role is missing.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.aws.apigateway import ApiGatewayAccount
from event_collector.aws.clients import client
from event_collector.aws.cloudformation import CustomResourceAnswer
from event_collector.errors import AccountSettingError

# Retries stop, and the watchdog answers, this long before the timeout: the answer's PUTs fit in it.
ANSWER_MARGIN_SECONDS = 20
FIRST_WAIT_SECONDS = 2.0
LONGEST_WAIT_SECONDS = 16.0
PHYSICAL_ID = "api-gateway-cloudwatch-logs-role"

logger = Logger()
account = ApiGatewayAccount(client("apigateway"))
Timer = threading.Timer  # the watchdog's clock (tests hand in their own)
sleep = time.sleep  # the waits between attempts (tests hand in their own)

Answer = tuple[str, str, dict[str, Any]]  # status, reason, data
LEFT: Answer = (
    "SUCCESS",
    "Left the account's API Gateway CloudWatch Logs role as it is: the account's other REST APIs may log through it",
    {"Outcome": "left", "AccountRoleArn": ""},
)


@dataclass
class Progress:
    """What this invocation learnt: whether it read the account's setting, and the role it held (None: none)."""

    read: bool = False
    account_role: str | None = None


def seconds_left(context: LambdaContext) -> float:
    """The time left for attempts: the function's remaining time less what answering needs."""
    return context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS


def give_role(role_arn: str, context: LambdaContext, progress: Progress) -> Answer:
    """Set ``role_arn`` as the account's role if it has none; keep the one it has. Raises AccountSettingError
    when the setting cannot be read, or ours is still refused when the time for attempts is up."""
    current = account.logging_role()
    progress.read, progress.account_role = True, current
    if current:
        logger.info("The account already has an API Gateway CloudWatch Logs role: kept", role=current)
        return "SUCCESS", f"Kept the account's API Gateway CloudWatch Logs role {current}", _data("kept", current)
    wait, attempt = FIRST_WAIT_SECONDS, 1
    while True:
        try:
            account.set_logging_role(role_arn)
            break
        except AccountSettingError as error:
            if seconds_left(context) < wait:
                raise AccountSettingError(f"{error}, on each of {attempt} attempt(s)") from error
            # Most likely IAM still propagating the role created moments ago.
            logger.warning("Setting the role failed; trying again", attempt=attempt, problem=str(error), wait=wait)
        sleep(wait)
        wait, attempt = min(wait * 2, LONGEST_WAIT_SECONDS), attempt + 1
    logger.info("Set the account's API Gateway CloudWatch Logs role", role=role_arn, attempts=attempt)
    return "SUCCESS", f"Set the account's API Gateway CloudWatch Logs role to {role_arn}", _data("set", role_arn)


def not_given(progress: Progress, role_arn: str, problem: str) -> Answer:
    """The answer when the role could not be seen to: FAILED only if the account is known to have none."""
    if progress.read and progress.account_role is None:
        reason = f"The account has no API Gateway CloudWatch Logs role and setting {role_arn} failed ({problem})"
        return "FAILED", f"{reason}: the REST API's access logs need one (docs/deploy.md)", _data("failed", "")
    reason = f"The account's API Gateway CloudWatch Logs role is left as it is, unread ({problem})"
    return "SUCCESS", f"{reason}: the API's stage fails to deploy if the account has none", _data("unknown", "")


def _data(outcome: str, role_arn: str) -> dict[str, Any]:
    return {"Outcome": outcome, "AccountRoleArn": role_arn}


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    answer = CustomResourceAnswer(event, PHYSICAL_ID)
    deleting = event["RequestType"] == "Delete"
    role_arn = str(event.get("ResourceProperties", {}).get("RoleArn", ""))
    progress = Progress()

    def out_of_time() -> None:
        logger.error("Out of time: answering before the timeout", request=event["RequestType"])
        answer.send(*(LEFT if deleting else not_given(progress, role_arn, "out of time")))

    watchdog = Timer(max(seconds_left(context), 0), out_of_time)
    watchdog.daemon = True
    watchdog.start()
    status, reason, data = LEFT  # Delete: the account's setting stays
    try:
        if not deleting:
            status, reason, data = give_role(role_arn, context, progress)
    except Exception as error:  # the account refused, or a defect: the log has the traceback
        logger.exception("Giving API Gateway a CloudWatch Logs role failed")
        status, reason, data = not_given(progress, role_arn, f"{type(error).__name__}: {error}")
    finally:
        watchdog.cancel()
    answer.send(status, reason, data)
