"""CloudFormation custom resource: empty a scratch bucket when the stack is deleted.

Used for the Athena results bucket only, so `sam delete` needs no manual step;
the data buckets are retained by design (docs/deploy.md). CloudFormation always
gets an answer, and on Delete always SUCCESS: a FAILED answer would block the
stack's deletion, and no answer at all would block it for an hour. So the
function stops emptying while time remains and answers before its timeout (a
watchdog answers even if an S3 call hangs); whatever it could not delete it
names in the answer's Reason and Data and in its log. The bucket's own deletion
then fails (BucketNotEmpty) until those versions are deleted (docs/deploy.md).
"""

from __future__ import annotations

import threading
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from event_collector.aws.clients import client
from event_collector.aws.cloudformation import CustomResourceAnswer
from event_collector.aws.s3 import S3ObjectStore
from event_collector.errors import StorageError

# Emptying stops, and the watchdog answers, this long before the timeout: the answer's PUTs fit in it.
ANSWER_MARGIN_SECONDS = 20

logger = Logger()
store = S3ObjectStore(client("s3"))
Timer = threading.Timer  # the watchdog's clock (tests hand in their own)


def seconds_left(context: LambdaContext) -> float:
    """The time left for emptying: the function's remaining time less what answering needs."""
    return context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS


def what_is_left(bucket: str) -> str:
    try:
        count, more = store.versions_left(bucket)
    except StorageError as error:
        return f"an unknown number of object versions ({error})"
    return f"{'more than ' if more else ''}{count} object version{'' if count == 1 and not more else 's'}"


def empty(bucket: str, context: LambdaContext) -> tuple[str, dict[str, Any]]:
    """Empty the bucket while time remains; the answer's Reason and Data, naming what was left."""
    problem = "out of time"
    deleted = 0
    try:
        emptied = store.empty(bucket, keep_going=lambda: seconds_left(context) > 0)
        if emptied.complete:
            logger.info("Emptied bucket before deletion", bucket=bucket, objects=emptied.deleted)
            return f"Emptied s3://{bucket}", {"Bucket": bucket, "Deleted": emptied.deleted, "Left": "0"}
        deleted = emptied.deleted
    except StorageError as error:
        problem = str(error)
    left = what_is_left(bucket)
    logger.error("Bucket not emptied; its deletion will fail until it is", bucket=bucket, left=left, problem=problem)
    reason = (
        f"Left {left} in s3://{bucket} ({problem}); the stack's deletion proceeds, and the bucket's fails until "
        "they are deleted (docs/deploy.md)"
    )
    return reason, {"Bucket": bucket, "Deleted": deleted, "Left": left}


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    bucket = str(event.get("ResourceProperties", {}).get("BucketName", ""))
    answer = CustomResourceAnswer(event, f"empty-{bucket}")

    def out_of_time() -> None:
        logger.error("Out of time emptying the bucket; answering before the timeout", bucket=bucket)
        reason = f"Out of time emptying s3://{bucket}: object versions may be left; the bucket's deletion fails until"
        answer.send("SUCCESS", f"{reason} they are deleted (docs/deploy.md)", {"Bucket": bucket, "Left": "unknown"})

    watchdog = Timer(max(seconds_left(context), 0), out_of_time)
    watchdog.daemon = True
    watchdog.start()
    reason, data = "", dict[str, Any]()  # Create and Update: nothing to do
    try:
        if event["RequestType"] == "Delete":
            reason, data = empty(bucket, context)
    except Exception as error:  # a defect: deletion still proceeds, the log has the traceback
        logger.exception("Emptying the bucket failed")
        reason = f"Emptying s3://{bucket} failed ({type(error).__name__}: {error}); object versions may be left"
    finally:
        watchdog.cancel()
    answer.send("SUCCESS", reason, data)
