"""``make query STACK=...``: the SQL goes to Athena through awswrangler in the stack's database and workgroup
(its CloudFormation outputs). Athena does not run under moto, so awswrangler's call is a stub here that
records its arguments; what it would answer is a DataFrame."""

from __future__ import annotations

import io
import json
import subprocess
from typing import Any

import pandas as pd

from event_collector_cli.query import main
from tools.template import ROOT

OUTPUTS = {"GlueDatabaseName": "events_db", "AthenaWorkGroupName": "event-collector-analytics-1a2b3c4d"}


class FakeCloudFormation:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        self.asked.append(StackName)
        outputs = [{"OutputKey": key, "OutputValue": value} for key, value in OUTPUTS.items()]
        return {"Stacks": [{"StackName": StackName, "Outputs": outputs}]}


class FakeSession:
    def __init__(self) -> None:
        self.cloudformation = FakeCloudFormation()

    def client(self, service: str) -> Any:
        assert service == "cloudformation"
        return self.cloudformation


class RecordingQuery:
    def __init__(self, answer: pd.DataFrame | Exception) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **arguments: Any) -> pd.DataFrame:
        self.calls.append(arguments)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


ROWS = pd.DataFrame({"tenant": ["demo", "demo-two"], "events": [2, 1]})


def run(*argv: str, answer: pd.DataFrame | Exception = ROWS) -> tuple[int, str, FakeSession, RecordingQuery]:
    session, query, out = FakeSession(), RecordingQuery(answer), io.StringIO()
    status = main(list(argv), session=session, read_sql_query=query, out=out)
    return status, out.getvalue(), session, query


def test_given_a_stack_when_queried_then_awswrangler_runs_the_sql_in_its_database_and_workgroup():
    sql = "select tenant, count(*) as events from page_view group by 1"

    status, printed, session, query = run("--stack-name", "prod", "--sql", sql)

    assert status == 0
    assert session.cloudformation.asked == ["prod"]
    assert query.calls == [
        {
            "sql": sql,
            "database": "events_db",
            "workgroup": "event-collector-analytics-1a2b3c4d",
            "ctas_approach": False,
            "boto3_session": session,
        }
    ]
    assert printed == "tenant,events\ndemo,2\ndemo-two,1\n"


def test_given_format_json_when_queried_then_each_row_is_one_json_line():
    status, printed, _, _ = run("--stack-name", "prod", "--sql", "select 1", "--format", "json")

    assert status == 0
    assert [json.loads(line) for line in printed.splitlines()] == [
        {"tenant": "demo", "events": 2},
        {"tenant": "demo-two", "events": 1},
    ]


def test_given_a_query_athena_refuses_when_run_then_one_line_on_stderr_and_exit_status_2(capsys):
    refused = RuntimeError("SYNTAX_ERROR: line 1:8: Column 'nope' cannot be resolved\nmore detail")

    status, printed, _, _ = run("--stack-name", "prod", "--sql", "select nope", answer=refused)

    assert (status, printed) == (2, "")
    assert capsys.readouterr().err == (
        "make query: RuntimeError: SYNTAX_ERROR: line 1:8: Column 'nope' cannot be resolved more detail\n"
    )


def test_given_a_stack_without_sql_when_run_then_it_asks_for_sql_and_queries_nothing(capsys):
    status, _, session, query = run("--stack-name", "prod")

    assert status == 2
    assert (session.cloudformation.asked, query.calls) == ([], [])
    assert capsys.readouterr().err.count("\n") == 1


def test_given_make_query_with_a_stack_when_planned_then_the_sql_goes_to_the_athena_command():
    command = ["make", "--no-print-directory", "-n", "query", "STACK=prod", "REGION=eu-west-1", "SQL=select 1"]
    planned = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout.splitlines()

    assert planned[-1].split() == [
        ".venv/bin/python", "-m", "event_collector_cli.query", "--stack-name", '"$STACK"',
        "--region", '"$REGION"', "--sql", '"$SQL"',
    ]  # fmt: skip


def test_given_a_tenant_with_a_stack_when_run_then_it_says_the_sql_filters_itself_and_queries_nothing(capsys):
    status, _, session, query = run("--stack-name", "prod", "--sql", "select 1", "--tenant", "demo")

    assert status == 2
    assert (session.cloudformation.asked, query.calls) == ([], [])
    assert capsys.readouterr().err == (
        "make query STACK=...: TENANT narrows the local lake only; in Athena, filter in the SQL: where tenant = 'demo'\n"
    )
