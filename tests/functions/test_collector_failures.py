"""Injected Firehose and DynamoDB failures: retry what failed, answer 503 in time, never lose an ack."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from event_collector.aws.firehose import ATTEMPT_SECONDS, FirehoseRecordSink
from event_collector.ingest.api import ANSWER_MARGIN_SECONDS
from tests.conftest import api_request, call, fail_calls, record_calls


class PartiallyFailingFirehose:
    """Forwards to the moto client, but the first ``failing_calls`` calls reject their first record."""

    def __init__(self, client: Any, failing_calls: int) -> None:
        self._client = client
        self._failing_calls = failing_calls
        self.calls: list[int] = []

    def put_record_batch(self, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        self.calls.append(len(Records))
        if len(self.calls) > self._failing_calls:
            return self._client.put_record_batch(DeliveryStreamName=DeliveryStreamName, Records=Records)
        failed, delivered = Records[:1], Records[1:]
        responses: list[dict[str, str]] = [{"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"}]
        if delivered:
            real = self._client.put_record_batch(DeliveryStreamName=DeliveryStreamName, Records=delivered)
            responses += real["RequestResponses"]
        return {"FailedPutCount": len(failed), "RequestResponses": responses, "Encrypted": False}


def with_firehose(collector, monkeypatch, firehose: Any) -> None:
    sink = FirehoseRecordSink(firehose, "test-delivery", sleep=lambda _: None)
    monkeypatch.setattr(collector.collector.services.ingestor, "_lines", sink)


def big_batch() -> dict[str, Any]:
    # Just under the 1 MiB request limit, but over one 1,000 KiB record once enriched: two records.
    return {"events": [{"event_type": "track", "name": "n", "properties": {"pad": "x" * 20_400}} for _ in range(50)]}


def test_given_firehose_rejects_a_record_once_when_posted_then_only_that_record_is_resent(
    collector, aws, lambda_context, monkeypatch
):
    firehose = PartiallyFailingFirehose(aws.firehose, failing_calls=1)
    with_firehose(collector, monkeypatch, firehose)

    status, _, body = call(collector, api_request("POST", "/v1/events", body=big_batch()), lambda_context)

    assert (status, body["accepted"]) == (200, 50)
    assert firehose.calls == [2, 1]  # two records; the retry carries only the rejected one
    lines = aws.raw_lines()
    assert len(lines) == 50
    assert len({line["event_id"] for line in lines}) == 50


def test_given_firehose_keeps_rejecting_when_posted_then_503_with_retry_after_and_nothing_counted(
    collector, aws, lambda_context, monkeypatch
):
    firehose = PartiallyFailingFirehose(aws.firehose, failing_calls=99)
    with_firehose(collector, monkeypatch, firehose)

    status, headers, body = call(collector, api_request("POST", "/v1/events", body=big_batch()), lambda_context)

    assert (status, body["error"]) == (503, "delivery_failed")
    assert int(headers["Retry-After"]) > 0
    assert len(firehose.calls) == 4


@pytest.mark.parametrize("code", ["ServiceUnavailableException", "ResourceNotFoundException", "AccessDeniedException"])
def test_given_firehose_is_down_when_posted_then_503_and_nothing_stored_or_counted(
    collector, aws, lambda_context, monkeypatch, code
):
    with_firehose(collector, monkeypatch, aws.firehose)
    failures = fail_calls(aws.firehose, "PutRecordBatch", code)

    status, headers, body = call(
        collector,
        api_request("POST", "/v1/events", body={"events": [{"event_type": "track", "name": "n"}]}),
        lambda_context,
    )

    assert (status, body["error"]) == (503, "delivery_failed")
    assert "Retry-After" in headers
    assert failures[0] == 4
    aws.assert_nothing_stored_or_counted()


def test_given_firehose_fails_once_when_posted_then_the_retry_succeeds(collector, aws, lambda_context, monkeypatch):
    with_firehose(collector, monkeypatch, aws.firehose)
    fail_calls(aws.firehose, "PutRecordBatch", "ThrottlingException", times=1)

    status, _, _ = call(
        collector,
        api_request("POST", "/v1/events", body={"events": [{"event_type": "track", "name": "n"}]}),
        lambda_context,
    )

    assert status == 200
    assert len(aws.raw_lines()) == 1


@pytest.mark.parametrize("operation", ["UpdateItem", "BatchGetItem"])
def test_given_dynamodb_failing_after_firehose_took_the_events_then_200_stored_and_the_failure_reported(
    collector, aws, lambda_context, capsys, caplog, operation
):
    # The events are stored once Firehose took them: a counting failure must not make the client resend.
    fail_calls(aws.dynamodb, operation, "ProvisionedThroughputExceededException")

    status, _, body = call(
        collector,
        api_request("POST", "/v1/events", body={"events": [{"event_type": "track", "name": "n"}]}),
        lambda_context,
    )

    assert (status, body["accepted"]) == (200, 1)
    assert len(aws.raw_lines()) == 1
    assert "Counting failed after Firehose accepted the events" in caplog.text
    assert '"CounterUpdateFailures":[1.0]' in capsys.readouterr().out  # the metric the alarm watches


def test_given_firehose_refusing_then_503_and_nothing_counted(collector, aws, lambda_context, monkeypatch):
    with_firehose(collector, monkeypatch, PartiallyFailingFirehose(aws.firehose, failing_calls=100))
    writes = record_calls(aws.dynamodb, "UpdateItem")

    status, headers, _ = call(
        collector,
        api_request("POST", "/v1/events", body={"events": [{"event_type": "track", "name": "n"}]}),
        lambda_context,
    )

    assert status == 503
    assert "Retry-After" in headers
    assert writes == []


@pytest.mark.parametrize(
    ("path", "query"),
    [("/button/click/count", [("button_id", "b")]), ("/v1/counts", [("event_type", "track")])],
)
def test_given_dynamodb_reads_fail_when_counts_are_read_then_503(collector, aws, lambda_context, path, query):
    fail_calls(aws.dynamodb, "Query", "InternalServerError")

    status, headers, body = call(collector, api_request("GET", path, query=query), lambda_context)

    assert (status, body["error"]) == (503, "counters_unavailable")
    assert "Retry-After" in headers


def test_given_a_batch_when_delivered_then_no_record_exceeds_firehose_limits(collector, aws, lambda_context):
    calls = record_calls(aws.firehose, "PutRecordBatch")
    events = [{"event_type": "track", "name": "n", "properties": {"pad": "y" * 30_000}} for _ in range(34)]

    status, _, _ = call(collector, api_request("POST", "/v1/events", body={"events": events}), lambda_context)

    assert status == 200
    (only_call,) = calls
    assert len(only_call["Records"]) == 2
    assert all(len(record["Data"]) <= 1000 * 1024 for record in only_call["Records"])
    assert all(record["Data"].endswith(b"\n") for record in only_call["Records"])


def test_given_an_unexpected_bug_when_posted_then_500_json_and_nothing_acknowledged(
    collector, aws, lambda_context, monkeypatch
):
    def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr("event_collector.ingest.validation.validate_batch", explode)

    status, headers, body = call(
        collector,
        api_request(
            "POST",
            "/v1/events",
            body={"events": [{"event_type": "track", "name": "n"}]},
            headers=[("Origin", "https://a")],
        ),
        lambda_context,
    )

    assert (status, body["error"]) == (500, "internal_error")
    assert headers["Access-Control-Allow-Origin"] == "*"
    aws.assert_nothing_stored_or_counted()


class SlowFailingFirehose:
    """Every call times out: each one costs the client's whole connect + read timeout on a fake clock."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.calls = 0

    def put_record_batch(self, **_: Any) -> dict[str, Any]:
        from botocore.exceptions import ReadTimeoutError

        self.calls += 1
        self.clock[0] += ATTEMPT_SECONDS
        raise ReadTimeoutError(endpoint_url="https://firehose")


@pytest.mark.parametrize("remaining", [15.0, 9.0, 3.4])
def test_given_a_firehose_that_hangs_when_posted_then_503_comes_before_the_lambda_times_out(
    collector, aws, monkeypatch, remaining
):
    clock = [0.0]
    firehose = SlowFailingFirehose(clock)
    monkeypatch.setattr(
        collector.collector.services.ingestor,
        "_lines",
        FirehoseRecordSink(firehose, "test-delivery", sleep=lambda seconds: clock.__setitem__(0, clock[0] + seconds)),
    )
    context = SimpleNamespace(
        function_name="collector",
        memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:collector",
        aws_request_id="r",
        get_remaining_time_in_millis=lambda: int((remaining - clock[0]) * 1000),
    )

    status, headers, body = call(
        collector, api_request("POST", "/v1/events", body={"events": [{"event_type": "track", "name": "n"}]}), context
    )

    assert (status, body["error"]) == (503, "delivery_failed")
    assert "Retry-After" in headers
    # Every attempt that started had time to end, and the answer still had its margin.
    window = remaining - ANSWER_MARGIN_SECONDS
    assert clock[0] <= max(0.0, window)
    assert firehose.calls == min(4, max(0, int(window // ATTEMPT_SECONDS)))
    aws.assert_nothing_stored_or_counted()


def test_given_the_deployed_function_when_its_timeout_is_read_then_it_covers_four_attempts_and_the_answer(collector):
    from tools.template import template

    timeout = template()["Resources"]["CollectorFunction"]["Properties"]["Timeout"]

    assert timeout >= 4 * ATTEMPT_SECONDS + ANSWER_MARGIN_SECONDS
    assert timeout < 29  # API Gateway REST integrations time out at 29 s


@pytest.fixture
def firehose_server(aws) -> Any:
    """A moto server in this process, sharing the ``aws`` fixture's moto backend: the lean client calls it over HTTP
    and what it delivers lands in the same raw bucket."""
    from moto.server import ThreadedMotoServer

    from tools.harness import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_given_container_credentials_when_their_endpoint_fails_then_503_and_once_it_answers_then_stored(
    collector, aws, lambda_context, monkeypatch, firehose_server
):
    # SnapStart: Lambda sets no keys, only the container endpoint. The lean Firehose client must use it.
    import time

    from event_collector.aws.json_client import FirehoseClient
    from tests.fakes.container_credentials import ContainerCredentialsServer

    container = ContainerCredentialsServer([time.time()])
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", container.full_uri)
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "lambda-token")
    with_firehose(collector, monkeypatch, FirehoseClient(endpoint_url=firehose_server, max_attempts=1))
    event = {"events": [{"event_type": "track", "name": "snapstart", "event_id": "s-1"}]}
    container.status = 500

    try:
        refused = call(collector, api_request("POST", "/v1/events", body=event), lambda_context)
        aws.assert_nothing_stored_or_counted()
        container.status = 200
        accepted = call(collector, api_request("POST", "/v1/events", body=event), lambda_context)
    finally:
        container.stop()

    status, headers, body = refused
    assert (status, body["error"]) == (503, "delivery_failed")
    assert "Retry-After" in headers
    assert (accepted[0], accepted[2]["accepted"]) == (200, 1)
    assert [line["event_id"] for line in aws.raw_lines()] == ["s-1"]
