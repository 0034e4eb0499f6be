"""The custom resource that empties the Athena results bucket when the stack is deleted: it always answers
SUCCESS (a FAILED Delete blocks `sam delete`), before the function's timeout, and names what it left."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from tests.conftest import fail_calls, load_function
from tools.template import ROOT, template

EVENT = json.loads((ROOT / "events/empty-bucket-delete.json").read_text(encoding="utf-8"))
TIMEOUT_MS = int(template()["Resources"]["EmptyBucketFunction"]["Properties"]["Timeout"]) * 1000


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


def context(remaining_ms: int) -> SimpleNamespace:
    return SimpleNamespace(
        function_name="empty-bucket",
        function_version="$LATEST",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:empty-bucket",
        aws_request_id="00000000-0000-0000-0000-000000000000",
        log_group_name="/aws/lambda/empty-bucket",
        log_stream_name="test",
        get_remaining_time_in_millis=lambda: remaining_ms,
    )


@pytest.fixture
def empty_bucket(aws, monkeypatch):
    from event_collector.aws.s3 import S3ObjectStore

    module = load_function("empty_bucket")
    monkeypatch.setattr(module, "store", S3ObjectStore(aws.s3))
    monkeypatch.setattr(module, "Timer", FakeTimer, raising=False)
    FakeTimer.made.clear()
    answers: list[dict[str, Any]] = []

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *_):
            return None

        def read(self):
            return b""

    def capture(request, timeout):
        answers.append({"url": request.full_url, "method": request.get_method(), **json.loads(request.data)})
        return Response()

    monkeypatch.setattr(urllib.request, "urlopen", capture)
    return SimpleNamespace(lambda_handler=module.lambda_handler, answers=answers, module=module)


def event(request_type: str, bucket: str) -> dict[str, Any]:
    return {
        **EVENT,
        "RequestType": request_type,
        "ResourceProperties": {**EVENT["ResourceProperties"], "BucketName": bucket},
    }


def versions(aws, bucket: str) -> int:
    listed = aws.s3.list_object_versions(Bucket=bucket)
    return len(listed.get("Versions", [])) + len(listed.get("DeleteMarkers", []))


def versioned_bucket(aws, bucket: str, writes: int) -> None:
    aws.s3.create_bucket(Bucket=bucket)
    aws.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for index in range(writes):
        aws.s3.put_object(Bucket=bucket, Key="results/q.csv", Body=f"v{index}".encode())


def test_given_stack_deletion_when_the_bucket_holds_versions_then_it_is_emptied_and_cloudformation_told(
    empty_bucket, aws
):
    versioned_bucket(aws, "results", 3)
    aws.s3.delete_object(Bucket="results", Key="results/q.csv")  # leaves a delete marker

    empty_bucket.lambda_handler(event("Delete", "results"), context(TIMEOUT_MS))

    assert versions(aws, "results") == 0
    (answer,) = empty_bucket.answers
    assert (answer["Status"], answer["method"], answer["url"]) == ("SUCCESS", "PUT", EVENT["ResponseURL"])
    assert answer["RequestId"] == EVENT["RequestId"]
    assert answer["Data"] == {"Bucket": "results", "Deleted": 4, "Left": "0"}


def test_given_creation_when_invoked_then_nothing_is_deleted_and_cloudformation_told(empty_bucket, aws):
    aws.s3.put_object(Bucket="test-lake", Key="keep.txt", Body=b"x")

    empty_bucket.lambda_handler(event("Create", "test-lake"), context(TIMEOUT_MS))

    assert [item["Key"] for item in aws.s3.list_objects_v2(Bucket="test-lake")["Contents"]] == ["keep.txt"]
    assert empty_bucket.answers[0]["Status"] == "SUCCESS"


def test_given_a_bucket_already_gone_when_deleted_then_success(empty_bucket):
    empty_bucket.lambda_handler(event("Delete", "no-such-bucket"), context(TIMEOUT_MS))

    assert empty_bucket.answers[0]["Status"] == "SUCCESS"


def test_given_s3_refuses_when_deleting_then_deletion_proceeds_and_the_answer_names_what_was_left(
    empty_bucket, aws, caplog
):
    aws.s3.put_object(Bucket="test-lake", Key="a", Body=b"x")
    fail_calls(aws.s3, "DeleteObjects", "AccessDenied")

    empty_bucket.lambda_handler(event("Delete", "test-lake"), context(TIMEOUT_MS))

    (answer,) = empty_bucket.answers
    assert answer["Status"] == "SUCCESS"  # FAILED would block the stack's deletion
    assert "Left 1 object version in s3://test-lake" in answer["Reason"]
    assert "AccessDenied" in answer["Reason"]
    assert answer["Data"] == {"Bucket": "test-lake", "Deleted": 0, "Left": "1 object version"}
    assert any(r.levelname == "ERROR" and getattr(r, "left", None) == "1 object version" for r in caplog.records)


def test_given_too_little_time_left_when_deleting_then_it_stops_and_answers_naming_what_it_left(empty_bucket, aws):
    versioned_bucket(aws, "results", 3)
    answering = empty_bucket.module.ANSWER_MARGIN_SECONDS * 1000

    empty_bucket.lambda_handler(event("Delete", "results"), context(answering - 1))

    assert versions(aws, "results") == 3  # it did not start what it could not finish before answering
    (answer,) = empty_bucket.answers
    assert answer["Status"] == "SUCCESS"
    assert answer["Reason"].startswith("Left 3 object versions in s3://results (out of time)")


def test_given_any_request_when_handled_then_a_watchdog_is_set_to_answer_before_the_timeout(empty_bucket, aws):
    empty_bucket.lambda_handler(event("Delete", "test-lake"), context(TIMEOUT_MS))

    (watchdog,) = FakeTimer.made
    assert watchdog.started
    assert watchdog.daemon
    assert watchdog.cancelled  # once the handler answered
    assert watchdog.interval == TIMEOUT_MS / 1000 - empty_bucket.module.ANSWER_MARGIN_SECONDS


def test_given_an_s3_call_that_hangs_when_the_watchdog_fires_then_cloudformation_gets_one_success_answer(
    empty_bucket, monkeypatch
):
    class HangingStore:
        def empty(self, bucket, keep_going):
            FakeTimer.made[0].function()  # the timer fires while this call still runs
            raise AssertionError("unreachable in the cloud: Lambda ends the invocation at its timeout")

        def versions_left(self, bucket):
            return 0, False

    monkeypatch.setattr(empty_bucket.module, "store", HangingStore())

    empty_bucket.lambda_handler(event("Delete", "results"), context(TIMEOUT_MS))

    (answer,) = empty_bucket.answers  # the watchdog's; the handler's own came second and was not sent
    assert answer["Status"] == "SUCCESS"
    assert answer["Reason"].startswith("Out of time emptying s3://results")
    assert answer["Data"]["Left"] == "unknown"


def test_given_the_answer_s_put_fails_once_when_answering_then_it_is_sent_again(empty_bucket, monkeypatch):
    delivered = urllib.request.urlopen
    failures = [OSError("connection reset")]

    def flaky(request, timeout):
        if failures:
            raise failures.pop()
        return delivered(request, timeout)

    monkeypatch.setattr(urllib.request, "urlopen", flaky)

    empty_bucket.lambda_handler(event("Delete", "no-such-bucket"), context(TIMEOUT_MS))

    assert [answer["Status"] for answer in empty_bucket.answers] == ["SUCCESS"]
    assert failures == []
