"""The Athena adapter: against moto (which ends every query at once with stub results) for the calls and
their errors, and with botocore's Stubber where moto cannot say it (a query still running, UpdateCount)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
import requests
from botocore.stub import Stubber

from event_collector.aws.athena import AthenaQueryRunner
from event_collector.errors import StorageError

WORK_GROUP = "analytics"


@pytest.fixture
def athena(aws) -> Any:
    client = boto3.client("athena")
    client.create_work_group(Name=WORK_GROUP, Configuration={"ResultConfiguration": {"OutputLocation": "s3://r/"}})
    return client


def next_results(*rows: list[str]) -> None:
    """What moto answers for the next query's results (its documented moto-api endpoint)."""
    data = [{"Data": [{"VarCharValue": value} for value in row]} for row in rows]
    body: dict[str, Any] = {
        "account_id": "123456789012",
        "region": "us-east-1",
        "results": [{"rows": data, "column_info": []}],
    }
    requests.post("http://motoapi.amazonaws.com/moto-api/static/athena/query-results", json=body, timeout=5)


def test_given_a_select_when_started_and_waited_for_then_it_succeeds_and_its_rows_come_without_the_header(athena):
    runner = AthenaQueryRunner(athena, WORK_GROUP, sleep=lambda _: pytest.fail("moto ends queries at once"))
    next_results(["rows_in", "ids"], ["100", "90"])

    query_id = runner.start("SELECT count(*) AS rows_in, count(DISTINCT event_id) AS ids FROM candidates")
    outcome = runner.wait(query_id)

    assert (outcome.query_id, outcome.state, outcome.succeeded) == (query_id, "SUCCEEDED", True)
    assert runner.rows(query_id) == [["100", "90"]]
    sent = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    assert sent["Query"].startswith("SELECT count(*)")
    assert sent["WorkGroup"] == WORK_GROUP


def test_given_a_workgroup_that_does_not_exist_when_started_then_a_storage_error_names_the_code(athena):
    runner = AthenaQueryRunner(athena, "missing")

    with pytest.raises(StorageError, match="InvalidRequestException"):
        runner.start("SELECT 1")


def stubbed(states: list[dict[str, Any]]) -> tuple[Any, Stubber]:
    client = boto3.client("athena", region_name="us-east-1")
    stubber = Stubber(client)
    for status in states:
        execution = {"QueryExecutionId": "q-1", "Status": status, "Statistics": {"DataScannedInBytes": 4096}}
        stubber.add_response("get_query_execution", {"QueryExecution": execution}, {"QueryExecutionId": "q-1"})
    return client, stubber


def test_given_a_query_still_running_when_waited_for_then_it_polls_until_it_ends():
    client, stubber = stubbed([{"State": "QUEUED"}, {"State": "RUNNING"}, {"State": "SUCCEEDED"}])
    pauses: list[float] = []

    with stubber:
        outcome = AthenaQueryRunner(client, WORK_GROUP, poll_seconds=3, sleep=pauses.append).wait("q-1")

    assert pauses == [3, 3]
    assert (outcome.state, outcome.scanned_bytes) == ("SUCCEEDED", 4096)
    stubber.assert_no_pending_responses()


def test_given_a_query_that_failed_when_waited_for_then_the_outcome_says_how_and_why():
    client, stubber = stubbed([{"State": "FAILED", "StateChangeReason": "SYNTAX_ERROR: line 1"}])

    with stubber:
        outcome = AthenaQueryRunner(client, WORK_GROUP, sleep=lambda _: None).wait("q-1")

    assert (outcome.succeeded, outcome.state, outcome.reason) == (False, "FAILED", "SYNTAX_ERROR: line 1")


def test_given_an_insert_that_finished_when_its_rows_are_asked_then_update_count_is_returned():
    client = boto3.client("athena", region_name="us-east-1")
    stubber = Stubber(client)
    answer = {"UpdateCount": 70, "ResultSet": {"Rows": []}}
    stubber.add_response("get_query_results", answer, {"QueryExecutionId": "q-1", "MaxResults": 1})

    with stubber:
        assert AthenaQueryRunner(client, WORK_GROUP).written("q-1") == 70


def test_given_an_unknown_query_when_waited_for_then_a_storage_error_names_it():
    client = boto3.client("athena", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_client_error("get_query_execution", "InvalidRequestException", "not found")

    with stubber, pytest.raises(StorageError, match="q-9 failed: InvalidRequestException"):
        AthenaQueryRunner(client, WORK_GROUP).wait("q-9")
