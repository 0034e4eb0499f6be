"""The Athena adapter (awswrangler): against moto (which ends every query at once with the results it is told)
for the calls, the results and their errors, and with botocore's Stubber where moto cannot say it (a query
still running, a failed one, UpdateCount)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
import requests
from botocore.stub import Stubber

from event_collector.aws.athena import AthenaQueryRunner
from event_collector.errors import StorageError

WORK_GROUP = "analytics"
RESULTS = "athena-results"


def work_group(aws: Any) -> Any:
    """The stack's workgroup as the template declares it (its results in its own bucket, enforced); its client."""
    aws.s3.create_bucket(Bucket=RESULTS)
    client = boto3.client("athena")
    client.create_work_group(
        Name=WORK_GROUP,
        Configuration={
            "ResultConfiguration": {"OutputLocation": f"s3://{RESULTS}/results/"},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    return client


@pytest.fixture
def athena(aws) -> Any:
    return work_group(aws)


def next_results(columns: dict[str, str], *rows: list[str | None]) -> None:
    """What moto answers for the next query's results (its documented moto-api endpoint); it also writes
    them as the query's result file, where Athena would."""
    data = [{"Data": [{"VarCharValue": name} for name in columns]}]
    data += [{"Data": [{} if value is None else {"VarCharValue": value} for value in row]} for row in rows]
    info = [
        {"Name": name, "Type": kind, "Label": name, "CatalogName": "hive", "SchemaName": "", "TableName": ""}
        for name, kind in columns.items()
    ]
    body: dict[str, Any] = {
        "account_id": "123456789012",
        "region": "us-east-1",
        "results": [{"rows": data, "column_info": info}],
    }
    requests.post("http://motoapi.amazonaws.com/moto-api/static/athena/query-results", json=body, timeout=5)


def test_given_a_select_when_started_and_waited_for_then_it_ran_in_the_workgroup_and_its_rows_come_as_text(athena):
    runner = AthenaQueryRunner(boto3.Session(), WORK_GROUP, poll_seconds=0)
    next_results({"rows_in": "bigint", "ids": "bigint", "note": "varchar"}, ["100", "90", None])

    query_id = runner.start("SELECT count(*) AS rows_in, count(DISTINCT event_id) AS ids, NULL AS note FROM c")
    outcome = runner.wait(query_id)

    assert (outcome.query_id, outcome.state, outcome.succeeded) == (query_id, "SUCCEEDED", True)
    assert runner.poll(query_id) == outcome
    assert runner.rows(query_id) == [["100", "90", None]]
    sent = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    assert sent["Query"].startswith("SELECT count(*)")
    assert sent["WorkGroup"] == WORK_GROUP
    assert sent["ResultConfiguration"]["OutputLocation"].startswith(f"s3://{RESULTS}/results/")  # the workgroup's


class StubbedSession(boto3.Session):  # type: ignore[misc]
    """A session whose every client is the one stubbed client (awswrangler makes a client per call)."""

    def __init__(self, client: Any) -> None:
        super().__init__(region_name="us-east-1")
        self.stubbed = client

    def client(self, *_: Any, **__: Any) -> Any:
        return self.stubbed


def stubbed(states: list[dict[str, Any]]) -> tuple[StubbedSession, Stubber]:
    client = boto3.client("athena", region_name="us-east-1")
    stubber = Stubber(client)
    for status in states:
        execution = {"QueryExecutionId": "q-1", "Status": status, "Statistics": {"DataScannedInBytes": 4096}}
        stubber.add_response("get_query_execution", {"QueryExecution": execution}, {"QueryExecutionId": "q-1"})
    return StubbedSession(client), stubber


def test_given_a_query_still_running_when_waited_for_then_it_polls_at_its_interval_until_it_ends(monkeypatch):
    session, stubber = stubbed([{"State": "QUEUED"}, {"State": "RUNNING"}, {"State": "SUCCEEDED"}])
    pauses: list[float] = []
    monkeypatch.setattr("awswrangler.athena._executions.time.sleep", pauses.append)  # no real waiting

    with stubber:
        outcome = AthenaQueryRunner(session, WORK_GROUP, poll_seconds=3).wait("q-1")

    assert pauses == [3, 3]
    assert (outcome.state, outcome.scanned_bytes) == ("SUCCEEDED", 4096)
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_given_a_query_that_ended_badly_when_waited_for_then_the_outcome_says_how_and_why(state):
    ended = {"State": state, "StateChangeReason": "SYNTAX_ERROR: line 1"}
    session, stubber = stubbed([ended, ended])  # awswrangler raises on it; the adapter reads the end back

    with stubber:
        outcome = AthenaQueryRunner(session, WORK_GROUP, poll_seconds=0).wait("q-1")

    assert (outcome.succeeded, outcome.state, outcome.reason, outcome.scanned_bytes) == (
        False,
        state,
        "SYNTAX_ERROR: line 1",
        4096,
    )


def test_given_a_query_still_running_when_polled_then_there_is_no_outcome_yet():
    session, stubber = stubbed([{"State": "RUNNING"}])

    with stubber:
        assert AthenaQueryRunner(session, WORK_GROUP).poll("q-1") is None


def test_given_an_insert_that_finished_when_its_rows_are_asked_then_update_count_is_returned():
    client = boto3.client("athena", region_name="us-east-1")
    stubber = Stubber(client)
    answer = {"UpdateCount": 70, "ResultSet": {"Rows": []}}
    stubber.add_response("get_query_results", answer, {"QueryExecutionId": "q-1", "MaxResults": 1})

    with stubber:
        assert AthenaQueryRunner(StubbedSession(client), WORK_GROUP).written("q-1") == 70


def test_given_a_workgroup_that_does_not_exist_when_started_then_a_storage_error_names_the_code():
    # Athena's answer (moto answers an empty GetWorkGroup instead).
    client = boto3.client("athena", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_client_error("get_work_group", "InvalidRequestException", "WorkGroup missing is not found.")

    with stubber, pytest.raises(StorageError, match="starting an Athena query failed: InvalidRequestException"):
        AthenaQueryRunner(StubbedSession(client), "missing").start("SELECT 1")


def test_given_an_unknown_query_when_waited_for_then_a_storage_error_names_it():
    client = boto3.client("athena", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_client_error("get_query_execution", "InvalidRequestException", "not found")

    with stubber, pytest.raises(StorageError, match="q-9 failed: InvalidRequestException"):
        AthenaQueryRunner(StubbedSession(client), WORK_GROUP).wait("q-9")
