"""CloudFormation custom resource: empty a scratch bucket when the stack is deleted.

Used for the Athena results bucket only, so `sam delete` needs no manual step;
the data buckets are retained by design (docs/deploy.md). Whatever happens,
CloudFormation gets an answer: a custom resource that never answers blocks the
stack for an hour.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.aws.clients import client
from event_collector.aws.s3 import S3ObjectStore

logger = Logger()
store = S3ObjectStore(client("s3"))


def answer(event: dict[str, Any], status: str, reason: str = "") -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:500] or "see the function's log",
            "PhysicalResourceId": event.get("PhysicalResourceId")
            or f"empty-{event['ResourceProperties']['BucketName']}",
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
        }
    ).encode()
    # CloudFormation's pre-signed https URL, from the event CloudFormation sent.
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        response.read()


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    status, reason = "SUCCESS", ""
    try:
        if event["RequestType"] == "Delete":
            bucket = event["ResourceProperties"]["BucketName"]
            deleted = store.empty(bucket)
            logger.info("Emptied bucket before deletion", bucket=bucket, objects=deleted)
    except Exception as error:
        logger.exception("Emptying the bucket failed")
        status, reason = "FAILED", f"{type(error).__name__}: {error}"
    answer(event, status, reason)
