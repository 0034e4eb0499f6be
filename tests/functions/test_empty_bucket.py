"""The custom resource that empties the Athena results bucket when the stack is deleted."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import load_function
from tools.template import ROOT

EVENT = json.loads((ROOT / "events/empty-bucket-delete.json").read_text(encoding="utf-8"))


@pytest.fixture
def empty_bucket(aws, monkeypatch):
    from event_collector.aws.s3 import S3ObjectStore

    module = load_function("empty_bucket")
    monkeypatch.setattr(module, "store", S3ObjectStore(aws.s3))
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

    monkeypatch.setattr(module.urllib.request, "urlopen", capture)
    return SimpleNamespace(lambda_handler=module.lambda_handler, answers=answers)


def event(request_type: str, bucket: str) -> dict[str, Any]:
    return {
        **EVENT,
        "RequestType": request_type,
        "ResourceProperties": {**EVENT["ResourceProperties"], "BucketName": bucket},
    }


def test_given_stack_deletion_when_the_bucket_holds_versions_then_it_is_emptied_and_cloudformation_told(
    empty_bucket, aws, lambda_context
):
    aws.s3.create_bucket(Bucket="results")
    aws.s3.put_bucket_versioning(Bucket="results", VersioningConfiguration={"Status": "Enabled"})
    for index in range(3):
        aws.s3.put_object(Bucket="results", Key="results/q.csv", Body=f"v{index}".encode())
    aws.s3.delete_object(Bucket="results", Key="results/q.csv")  # leaves a delete marker

    empty_bucket.lambda_handler(event("Delete", "results"), lambda_context)

    versions = aws.s3.list_object_versions(Bucket="results")
    assert versions.get("Versions", []) == versions.get("DeleteMarkers", []) == []
    (answer,) = empty_bucket.answers
    assert (answer["Status"], answer["method"], answer["url"]) == ("SUCCESS", "PUT", EVENT["ResponseURL"])
    assert answer["RequestId"] == EVENT["RequestId"]


def test_given_creation_when_invoked_then_nothing_is_deleted_and_cloudformation_told(empty_bucket, aws, lambda_context):
    aws.s3.put_object(Bucket="test-lake", Key="keep.txt", Body=b"x")

    empty_bucket.lambda_handler(event("Create", "test-lake"), lambda_context)

    assert [item["Key"] for item in aws.s3.list_objects_v2(Bucket="test-lake")["Contents"]] == ["keep.txt"]
    assert empty_bucket.answers[0]["Status"] == "SUCCESS"


def test_given_a_bucket_already_gone_when_deleted_then_success(empty_bucket, lambda_context):
    empty_bucket.lambda_handler(event("Delete", "no-such-bucket"), lambda_context)

    assert empty_bucket.answers[0]["Status"] == "SUCCESS"


def test_given_s3_refuses_when_deleting_then_cloudformation_still_gets_a_failed_answer(
    empty_bucket, aws, lambda_context
):
    from tests.conftest import fail_calls

    aws.s3.put_object(Bucket="test-lake", Key="a", Body=b"x")
    fail_calls(aws.s3, "DeleteObjects", "AccessDenied")

    empty_bucket.lambda_handler(event("Delete", "test-lake"), lambda_context)

    (answer,) = empty_bucket.answers
    assert answer["Status"] == "FAILED"
    assert "AccessDenied" in answer["Reason"]
