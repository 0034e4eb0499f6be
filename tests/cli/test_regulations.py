"""The admin CLI's privacy commands against (moto) DynamoDB: requests stored once, listed with their status,
exactly one selector, an existing tenant, and never a user's id in what is printed or stored."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from event_collector.privacy.regulations import subject_digest
from event_collector_cli import admin
from tests.cli.test_admin import LOCAL_REGION, LOCAL_TABLE, local_aws, nothing_set  # noqa: F401 - fixtures
from tests.conftest import create_table

USER = "jane.doe@example.com"
TABLES = [
    "--table",
    os.environ["TENANT_KEYS_TABLE_NAME"],
    "--regulations-table",
    os.environ["REGULATIONS_TABLE_NAME"],
]


def stored_items(aws: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = aws.dynamodb.scan(TableName=os.environ["REGULATIONS_TABLE_NAME"])["Items"]
    return items


@pytest.fixture
def acme(aws, capsys) -> str:
    assert admin.main([*TABLES, "create-tenant", "acme"], client=aws.dynamodb) == 0
    capsys.readouterr()
    return "acme"


def test_given_requests_when_asked_and_listed_then_each_is_stored_once_and_printed_without_the_user_id(
    aws, capsys, acme
):
    printed = []
    for command in (["delete-user", acme, "--user-id", USER], ["suppress-user", acme, "--anonymous-id", "dev-1"]):
        assert admin.main([*TABLES, *command], client=aws.dynamodb) == 0
        printed.append(json.loads(capsys.readouterr().out))
    assert admin.main([*TABLES, "delete-user", acme, "--user-id", USER], client=aws.dynamodb) == 0
    again = json.loads(capsys.readouterr().out)
    assert admin.main([*TABLES, "regulations", acme], client=aws.dynamodb) == 0
    output = capsys.readouterr()
    listing = json.loads(output.out)

    deletion, suppression = printed
    assert (deletion["type"], deletion["selector"], deletion["status"], deletion["new"]) == (
        "delete",
        "user_id",
        "received",
        True,
    )
    assert deletion["subject"] == subject_digest("acme", "user_id", USER)
    assert (suppression["type"], suppression["selector"]) == ("suppress", "anonymous_id")
    assert (again["id"], again["new"], again["requested_at"]) == (deletion["id"], False, deletion["requested_at"])
    assert {request["id"] for request in listing["requests"]} == {deletion["id"], suppression["id"]}
    for request in listing["requests"]:
        assert set(request) == {
            "id",
            "type",
            "selector",
            "subject",
            "status",
            "requested_at",
            "applied_at",
            "removed",
            "source",
        }
        assert request["source"] == "cli"
    assert USER not in output.out + output.err + json.dumps(printed) + json.dumps(stored_items(aws))


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        ([], "one of the arguments --user-id --anonymous-id is required"),
        (["--user-id", USER, "--anonymous-id", "dev-1"], "not allowed with argument --user-id"),
        (["--user-id", ""], "user_id: Value should have at least 1 item"),
        (["--anonymous-id", "x" * 257], "anonymous_id: Value should have at most 256 items"),
        (["--user-id", "jane\ndoe"], "user_id: must not contain control characters"),
    ],
    ids=["none", "both", "empty", "too long", "control character"],
)
def test_given_not_exactly_one_good_selector_when_asked_then_exit_2_with_a_clear_error_and_nothing_stored(
    aws, capsys, acme, selectors, expected
):
    code = exit_code([*TABLES, "suppress-user", acme, *selectors], client=aws.dynamodb)

    error = capsys.readouterr().err
    assert code == 2
    assert expected in error
    assert USER not in error
    assert stored_items(aws) == []


def exit_code(argv: list[str], client: Any) -> int:
    """What the installed command exits with: main's answer, or argparse's own exit on a usage error."""
    try:
        return admin.main(argv, client=client)
    except SystemExit as ended:
        return int(ended.code or 0)


def test_given_an_unknown_or_malformed_tenant_when_asked_then_refused_and_nothing_stored(aws, capsys):
    assert admin.main([*TABLES, "delete-user", "ghost", "--user-id", USER], client=aws.dynamodb) == 1
    unknown = capsys.readouterr().err
    assert admin.main([*TABLES, "regulations", "Bad_Id"], client=aws.dynamodb) == 2
    malformed = capsys.readouterr().err

    assert "tenant 'ghost' does not exist" in unknown
    assert "tenant id must match" in malformed
    assert stored_items(aws) == []


def test_given_no_regulations_table_when_a_privacy_command_runs_then_one_line_names_the_option_and_variable(
    aws, capsys, monkeypatch, acme
):
    monkeypatch.delenv("REGULATIONS_TABLE_NAME", raising=False)
    keys_only = ["--table", os.environ["TENANT_KEYS_TABLE_NAME"]]

    assert admin.main([*keys_only, "regulations", acme], client=aws.dynamodb) == 2

    assert capsys.readouterr().err.splitlines() == [
        "error: no regulations table: pass --regulations-table or set REGULATIONS_TABLE_NAME "
        "(the stack output RegulationsTableName)"
    ]


def test_given_a_running_local_stack_when_local_then_the_regulations_table_comes_from_stack_json(
    nothing_set,  # noqa: F811 - the fixture
    local_aws,  # noqa: F811 - the fixture
    capsys,
):
    import boto3

    dynamodb = boto3.client(
        "dynamodb", endpoint_url=local_aws, region_name=LOCAL_REGION, aws_access_key_id="t", aws_secret_access_key="t"
    )
    create_table(dynamodb, "local-RegulationsTable", "REGULATIONS_TABLE_NAME")
    state = nothing_set / ".local"
    state.mkdir()
    stack = {
        "aws_endpoint_url": local_aws,
        "region": LOCAL_REGION,
        "keys_table": LOCAL_TABLE,
        "regulations_table": "local-RegulationsTable",
    }
    (state / "stack.json").write_text(json.dumps(stack), encoding="utf-8")

    assert admin.main(["--local", "create-tenant", "privacy-local"]) == 0
    assert admin.main(["--local", "unsuppress-user", "privacy-local", "--user-id", USER]) == 0
    capsys.readouterr()
    assert admin.main(["--local", "regulations", "privacy-local"]) == 0

    (listed,) = json.loads(capsys.readouterr().out)["requests"]
    assert (listed["type"], listed["status"]) == ("unsuppress", "applied")
    assert len(dynamodb.scan(TableName="local-RegulationsTable")["Items"]) == 1
