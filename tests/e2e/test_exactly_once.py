"""Every acknowledged event ends up exactly once in the compacted tables, under faults (docs/guarantees.md).

One local stack for the module; scenarios run in order and each ends with the
same check: compacted (tenant, event_id) rows == the acknowledged set, with
no duplicate row and nothing under the wrong tenant.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest

from tests.e2e.conftest import Ledger, Outcome, batch
from tools.template import ROOT

FIGURES: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def report_figures(pytestconfig):
    """After the module, print each scenario's figures (docs/guarantees.md quotes them); not a test."""
    yield
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    if capture is not None and FIGURES:
        with capture.global_and_fixture_disabled():
            print("\nexactly-once end to end (events):")
            for line in FIGURES:
                print("  " + line)


@pytest.fixture(scope="module")
def ledger(stack) -> Ledger:
    return Ledger(stack)


def arm(stack, **faults: Any) -> dict[str, Any]:
    answer = stack.request("POST", "/__local/faults", body=faults)
    assert answer.status == 200
    return answer.json()


def check_exactly_once(ledger: Ledger, scenario: str, outcome: Outcome) -> dict[str, Any]:
    settled = ledger.settle()
    assert settled["compaction"]["status"] == "SUCCEEDED", settled
    rows = ledger.compacted_rows()
    duplicates = [row for row, count in Counter(rows).items() if count > 1]
    assert duplicates == [], f"{scenario}: duplicated rows {duplicates[:5]}"
    assert set(rows) == ledger.acknowledged, (
        f"{scenario}: missing {list(ledger.acknowledged - set(rows))[:5]}, extra {list(set(rows) - ledger.acknowledged)[:5]}"
    )
    FIGURES.append(
        f"{scenario:<34} sent {outcome.sent:>5}  acknowledged {outcome.acknowledged:>5}  "
        f"compacted rows so far {len(rows):>5}  answers {dict(outcome.statuses)}"
    )
    return settled


def send_batches(ledger: Ledger, prefix: str, batches: int, size: int, event_type: str = "track") -> Outcome:
    outcome = Outcome()
    for index in range(batches):
        status = ledger.send(index % 2, batch(prefix, size, event_type), outcome)
        assert status == 200, f"{prefix}: batch {index} ended with {status}"
    return outcome


def test_given_two_tenants_when_they_send_then_compacted_rows_equal_the_acknowledged_events(ledger, stack):
    outcome = send_batches(ledger, "baseline", batches=6, size=25)

    check_exactly_once(ledger, "baseline (no fault)", outcome)
    for index in (0, 1):
        tenant, key = stack.demo_auth(index)
        total = stack.request("GET", "/v1/counts?event_type=track", auth=(tenant, key)).json()["total"]
        assert total >= ledger.acknowledged_per_tenant[tenant]
    rows = ledger.compacted_rows()
    assert {tenant for tenant, event_id in rows if event_id.startswith("baseline")} == {"demo", "demo-two"}
    for tenant, event_id in rows:  # nothing from one tenant under the other
        assert (tenant, event_id) in ledger.acknowledged


def test_given_firehose_rejects_records_when_sending_then_retries_deliver_them(ledger, stack):
    arm(stack, firehose_rejects=2)

    outcome = send_batches(ledger, "firehose-rejects", batches=3, size=10)

    state = arm(stack)
    assert state["fired"].get("firehose_rejects") == 2
    check_exactly_once(ledger, "Firehose FailedPutCount x2", outcome)


def test_given_a_firehose_outage_when_sending_then_503_is_not_acknowledged_and_the_resend_is(ledger, stack):
    arm(stack, firehose_outage=4)  # the collector's 4 attempts all fail: one 503

    outcome = send_batches(ledger, "firehose-outage", batches=2, size=10)

    assert outcome.statuses[503] == 1
    check_exactly_once(ledger, "Firehose outage (one 503)", outcome)


def test_given_dynamodb_throttles_when_sending_then_events_are_still_stored_once(ledger, stack):
    arm(stack, dynamodb_throttles=40)

    outcome = send_batches(ledger, "dynamodb-throttle", batches=2, size=10)
    arm(stack, dynamodb_throttles=0)  # the throttling ends; compaction (and its recount) then runs clean

    check_exactly_once(ledger, "DynamoDB throttling", outcome)


# The fan-out's S3 client makes 6 attempts (event_collector/aws/clients.py): 6 errors in a row fail the
# invocation itself, which Lambda (here, the local mode's asynchronous invoker) then retries.
SDK_ATTEMPTS = 6


def test_given_s3_errors_during_fan_out_when_settling_then_the_retry_completes(ledger, stack):
    arm(stack, lake_put_errors=SDK_ATTEMPTS)

    outcome = send_batches(ledger, "lake-put-error", batches=1, size=10)

    settled = check_exactly_once(ledger, "S3 error during fan-out", outcome)
    assert settled["drain"]["async_failures"] == []
    assert arm(stack)["fired"]["lake_put_errors"] >= SDK_ATTEMPTS


def test_given_fan_out_crashes_mid_object_when_retried_then_nothing_is_lost_or_doubled(ledger, stack):
    arm(stack, lake_put_errors_after=1, lake_put_errors=SDK_ATTEMPTS)
    events = batch("crash-mid-object", 5) + batch("crash-mid-object", 5, event_type="page_view")

    outcome = Outcome()
    assert ledger.send(0, events, outcome) == 200

    check_exactly_once(ledger, "fan-out crash mid-object", outcome)


def test_given_duplicate_s3_notifications_when_settling_then_rows_stay_single(ledger, stack):
    arm(stack, duplicate_s3_events=3)

    outcome = send_batches(ledger, "duplicate-s3-event", batches=3, size=10)

    assert arm(stack)["fired"].get("duplicate_s3_events") == 3
    check_exactly_once(ledger, "duplicate S3 event delivery", outcome)


def test_given_fan_out_fails_all_its_retries_when_redriven_then_the_events_arrive(ledger, stack):
    arm(stack, function_errors={"FanOutFunction": 3})  # 1 attempt + 2 retries: dead-lettered
    outcome = send_batches(ledger, "dead-letter", batches=1, size=10)
    assert len(stack.request("POST", "/__local/drain").json()["async_failures"]) == 1

    info = stack.info
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": info["region"],
    }
    queue_url = stack.aws("sqs").get_queue_url(QueueName=f"{info['stack_name']}-FanOutDeadLetterQueue")["QueueUrl"]
    redrive = subprocess.run(
        [
            sys.executable,
            "-m",
            "event_collector_cli.lake",
            "--endpoint-url",
            info["aws_endpoint_url"],
            "redrive",
            "--function",
            info["fan_out_function"],
            "--queue-url",
            queue_url,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    assert json.loads(redrive.stdout) == {"redriven": 1, "failed": 0}
    check_exactly_once(ledger, "fan-out dead-lettered, redriven", outcome)


def test_given_a_compaction_task_that_fails_once_when_run_then_the_retry_succeeds(ledger, stack):
    outcome = send_batches(ledger, "compact-retry", batches=1, size=10)
    arm(stack, function_errors={"CompactionCompactFunction": 1})

    settled = check_exactly_once(ledger, "Compact task fails once", outcome)

    assert settled["compaction"]["report"]["failed"] == 0
    assert arm(stack)["fired"].get("function_errors.CompactionCompactFunction") == 1


def test_given_a_lost_response_when_the_client_resends_then_the_event_is_stored_once(ledger, stack):
    arm(stack, drop_responses=2)

    outcome = send_batches(ledger, "lost-response", batches=2, size=10)

    assert outcome.statuses["connection lost"] == 2
    check_exactly_once(ledger, "response lost, client resends", outcome)


def test_given_the_authorizer_fails_when_counts_are_read_then_503_with_retry_after_and_the_failure_is_not_cached(
    stack,
):
    # A credential no earlier test sent, so the gateway's authorizer cache cannot answer for it.
    credential = (stack.demo_auth(0)[0], "k00000000deadbeef.never-issued")
    arm(stack, function_errors={"AuthorizerFunction": 1})

    failed = stack.request("GET", "/v1/counts?event_type=track", auth=credential)
    again = stack.request("GET", "/v1/counts?event_type=track", auth=credential)

    assert (failed.status, failed.headers.get("Retry-After"), failed.json()["error"]) == (503, "1", "unavailable")
    assert again.status == 403  # the authorizer ran again and decided: a failure is never cached
    assert arm(stack)["fired"].get("function_errors.AuthorizerFunction") == 1
