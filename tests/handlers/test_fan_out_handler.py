"""The fan-out Lambda handler and its operations CLI (redrive, backfill) under moto."""

from __future__ import annotations

import json

import boto3
import pytest

from event_collector import fan_out_cli
from event_collector.adapters.s3_objects import S3ObjectStore
from event_collector.fan_out import FanOut, FanOutFailed
from local.functions import load_function
from tests.conftest import LAKE_BUCKET, RAW_BUCKET
from tests.unit.test_fan_out import event, lake, lines, put_raw, s3_event


@pytest.fixture
def handler(aws, monkeypatch):
    module = load_function("fan_out")
    monkeypatch.setattr(module, "fan_out", FanOut(S3ObjectStore(aws.s3), LAKE_BUCKET))
    return module


def test_given_an_s3_event_when_the_handler_runs_then_it_reports_every_object(aws, handler, lambda_context):
    key = put_raw(aws, lines(event("acme"), event("globex"), b"junk"))

    result = handler.lambda_handler(s3_event(key), lambda_context)

    (report,) = result["objects"]
    assert (report["lines_in"], report["lines_out"], report["lines_quarantined"]) == (3, 2, 1)
    assert report["objects_written"] == 3
    assert len(lake(aws)) == 3


def test_given_a_failing_object_when_the_handler_runs_then_the_invocation_fails_for_lambda_to_retry(
    aws, handler, lambda_context
):
    with pytest.raises(FanOutFailed):
        handler.lambda_handler(s3_event("raw/2026/05/28/20/gone"), lambda_context)


def test_given_dead_lettered_invocations_when_redriven_twice_then_the_lake_is_complete_and_the_queue_empty(aws):
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="fan-out-dlq")["QueueUrl"]
    keys = [put_raw(aws, lines(event("acme", url=str(i))), key=f"raw/2026/05/28/20/object-{i}") for i in range(3)]
    for key in keys:  # what Lambda's on-failure destination sends
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"requestPayload": s3_event(key)}))
    arguments = ["--lake-bucket", LAKE_BUCKET, "redrive", "--queue-url", queue_url]

    assert fan_out_cli.main(arguments, s3=aws.s3, sqs=sqs) == 0
    first = lake(aws)
    assert fan_out_cli.main(arguments, s3=aws.s3, sqs=sqs) == 0

    assert len(first) == 3
    assert lake(aws) == first
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages") is None


def test_given_a_message_that_still_fails_when_redriven_then_it_stays_in_the_queue(aws):
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="fan-out-dlq", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"requestPayload": s3_event("raw/x/missing")}))

    code = fan_out_cli.main(["--lake-bucket", LAKE_BUCKET, "redrive", "--queue-url", queue_url], s3=aws.s3, sqs=sqs)

    assert code == 1
    assert len(sqs.receive_message(QueueUrl=queue_url)["Messages"]) == 1


def test_given_a_raw_prefix_when_backfilled_twice_then_output_is_identical(aws, capsys):
    put_raw(aws, lines(event("acme"), event("globex")), key="raw/2026/05/28/20/a")
    put_raw(aws, lines(event("acme", url="x")), key="raw/2026/05/28/21/b")
    put_raw(aws, lines(event("initech")), key="raw/2026/05/29/00/c")
    arguments = ["--lake-bucket", LAKE_BUCKET, "backfill", "--raw-bucket", RAW_BUCKET, "--prefix", "raw/2026/05/28/"]

    assert fan_out_cli.main(arguments, s3=aws.s3, sqs=None) == 0
    first = lake(aws)
    assert fan_out_cli.main(arguments, s3=aws.s3, sqs=None) == 0

    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {
        "objects": 2,
        "lines_in": 3,
        "lines_out": 3,
        "lines_quarantined": 0,
    }
    assert lake(aws) == first
    assert not any("initech" in key for key in first)
