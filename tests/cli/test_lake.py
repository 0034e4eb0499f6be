"""The lake CLI (redrive, backfill, enqueue) under moto, driving the real fan-out handler through a fake
Lambda Invoke (the local mode's end-to-end suite drives it through the local stack's Lambda)."""

from __future__ import annotations

import json
import os

import boto3
import pytest

import event_collector_cli.lake as lake_cli
from tests.conftest import LAKE_BUCKET, RAW_BUCKET
from tests.event_collector.lake.test_fan_out import event, lake, lines, put_raw, s3_event
from tests.fakes.lambdas import FakeLambda
from tests.functions.test_fan_out import queue

FUNCTION = "stack-FanOutFunction"


@pytest.fixture
def cli(aws, fan_out_handler, lambda_context):
    fake_lambda = FakeLambda(fan_out_handler, lambda_context, FUNCTION)
    made = {"s3": aws.s3, "dynamodb": aws.dynamodb, "sqs": boto3.client("sqs"), "lambda": fake_lambda}

    def run(*arguments: str) -> int:
        return lake_cli.main(list(arguments), clients=made.__getitem__)

    run.lambda_ = fake_lambda  # type: ignore[attr-defined]
    run.sqs = made["sqs"]  # type: ignore[attr-defined]
    return run


def test_given_dead_lettered_invocations_when_redriven_twice_then_the_lake_is_complete_and_the_queue_empty(
    aws, cli, capsys
):
    queue_url = cli.sqs.create_queue(QueueName="fan-out-dlq")["QueueUrl"]
    keys = [put_raw(aws, lines(event("acme", url=str(i))), key=f"raw/2026/05/28/20/object-{i}") for i in range(3)]
    for key in keys:  # what Lambda's on-failure destination sends
        cli.sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"requestPayload": s3_event(key)}))
    arguments = ["redrive", "--function", FUNCTION, "--queue-url", queue_url]

    assert cli(*arguments) == 0
    first = lake(aws)
    counts = aws.counts()
    assert cli(*arguments) == 0

    outputs = [line for line in capsys.readouterr().out.splitlines() if '"redriven"' in line]
    assert [json.loads(line) for line in outputs] == [{"redriven": 3, "failed": 0}, {"redriven": 0, "failed": 0}]
    assert cli.lambda_.calls == 3
    assert len(first) == 3
    assert lake(aws) == first
    assert aws.counts() == counts
    assert sum(1 for _ in queue(aws).all_pending()) == 3
    assert cli.sqs.receive_message(QueueUrl=queue_url).get("Messages") is None


def test_given_a_message_that_still_fails_when_redriven_then_it_stays_in_the_queue(aws, cli, capsys):
    queue_url = cli.sqs.create_queue(QueueName="fan-out-dlq", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    cli.sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"requestPayload": s3_event("raw/x/missing")}))

    code = cli("redrive", "--function", FUNCTION, "--queue-url", queue_url)

    assert code == 1
    assert "raw/x/missing" in capsys.readouterr().err
    assert len(cli.sqs.receive_message(QueueUrl=queue_url)["Messages"]) == 1


def test_given_a_raw_prefix_when_backfilled_twice_then_output_and_counts_are_identical(aws, cli, capsys):
    put_raw(aws, lines(event("acme"), event("globex")), key="raw/2026/05/28/20/a")
    put_raw(aws, lines(event("acme", url="x"), b"junk"), key="raw/2026/05/28/21/b")
    put_raw(aws, lines(event("initech")), key="raw/2026/05/29/00/c")
    arguments = ["backfill", "--function", FUNCTION, "--raw-bucket", RAW_BUCKET, "--prefix", "raw/2026/05/28/"]

    assert cli(*arguments) == 0
    first, counts = lake(aws), aws.counts()
    assert cli(*arguments) == 0

    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {
        "objects": 2,
        "lines_in": 4,
        "lines_out": 3,
        "lines_quarantined": 1,
        "failed": 0,
    }
    assert lake(aws) == first
    assert aws.counts() == counts
    assert not any("initech" in key for key in first)


def test_given_no_function_when_redriving_then_the_cli_says_what_to_pass(cli, monkeypatch, capsys):
    monkeypatch.delenv("FAN_OUT_FUNCTION_NAME", raising=False)

    assert cli("redrive", "--queue-url", "q") == 2
    assert "--function" in capsys.readouterr().err


def test_given_lake_objects_outside_the_queue_when_enqueued_then_compaction_sees_each_once(
    aws, fan_out_handler, cli, lambda_context
):
    fan_out_handler.lambda_handler(s3_event(put_raw(aws, lines(event("acme"), event("globex")))), lambda_context)
    for tenant, consumed in list(queue(aws).all_pending()):
        queue(aws).done(tenant, [consumed.key])
    aws.s3.put_object(Bucket=LAKE_BUCKET, Key="events/not-a-lake-object.txt", Body=b"x")

    assert cli("enqueue", "--lake-bucket", LAKE_BUCKET, "--state-table", os.environ["COMPACTION_STATE_TABLE_NAME"]) == 0
    assert cli("enqueue", "--lake-bucket", LAKE_BUCKET, "--state-table", os.environ["COMPACTION_STATE_TABLE_NAME"]) == 0

    pending = sorted(queue(aws).all_pending(), key=lambda item: item[0])
    assert [tenant for tenant, _ in pending] == ["acme", "globex"]
    for _, item in pending:
        listed = aws.s3.head_object(Bucket=LAKE_BUCKET, Key=item.key)
        assert (item.etag, item.size) == (listed["ETag"].strip('"'), listed["ContentLength"])
