"""The admin CLI's schema commands against (moto) DynamoDB: registering types and plans, refusals one problem a
line, listing, the unplanned-name policy, files and stdin, and the schemas table from --local."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from event_collector_cli import admin
from tests.cli.test_admin import LOCAL_REGION, LOCAL_TABLE, local_aws, nothing_set  # noqa: F401 - fixtures
from tests.conftest import create_table

TABLES = ["--table", os.environ["TENANT_KEYS_TABLE_NAME"], "--schemas-table", os.environ["SCHEMAS_TABLE_NAME"]]
ORDER = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "total": {"type": "integer", "minimum": 0}},
    "required": ["order_id"],
    "additionalProperties": False,
}


def schema_file(directory: Path, document: Any, name: str = "schema.json") -> str:
    path = directory / name
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return str(path)


def with_field(document: dict[str, Any], name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {**document, "properties": {**document["properties"], name: schema}}


def stored_items(aws: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = aws.dynamodb.scan(TableName=os.environ["SCHEMAS_TABLE_NAME"])["Items"]
    return items


def cli(aws: Any, capsys: Any, *command: str) -> tuple[int, str, str]:
    status = admin.main([*TABLES, *command], client=aws.dynamodb)
    output = capsys.readouterr()
    return status, output.out, output.err


@pytest.fixture
def tenants(aws, capsys) -> list[str]:
    for tenant in ("acme", "globex"):
        assert admin.main([*TABLES, "create-tenant", tenant], client=aws.dynamodb) == 0
    capsys.readouterr()
    return ["acme", "globex"]


def test_given_a_type_when_put_evolved_and_listed_then_each_version_is_reported_and_the_latest_listed(
    aws, capsys, tenants, tmp_path
):
    first = cli(aws, capsys, "put-schema", "acme", "order_completed", schema_file(tmp_path, ORDER))
    evolved = with_field(ORDER, "coupon", {"type": "string"})
    second = cli(aws, capsys, "put-schema", "acme", "order_completed", schema_file(tmp_path, evolved, "v2.json"))
    again = cli(aws, capsys, "put-schema", "acme", "order_completed", schema_file(tmp_path, evolved, "v2.json"))
    listed = cli(aws, capsys, "schemas", "acme")
    as_json = cli(aws, capsys, "schemas", "acme", "--json")

    assert first == (0, "event type 'order_completed': registered version 1; new fields: /order_id, /total\n", "")
    assert second == (0, "event type 'order_completed': registered version 2; new fields: /coupon\n", "")
    assert again == (0, "event type 'order_completed': unchanged, still version 2\n", "")
    status, out, _ = listed
    assert status == 0
    assert out.splitlines()[0] == "unplanned track names: accept"
    assert out.splitlines()[1] == "event types:"
    assert out.splitlines()[2].startswith('  "order_completed"  version 2  registered ')
    assert out.splitlines()[2].endswith("(order_id, total, coupon)")
    assert out.splitlines()[3] == "track plans: none"
    document = json.loads(as_json[1])
    assert document["types"]["order_completed"]["version"] == 2
    assert document["types"]["order_completed"]["document"] == evolved
    assert (document["tracks"], document["unplanned"]) == ({}, "accept")


def test_given_a_retyped_field_when_put_then_refused_one_problem_a_line_and_nothing_stored(
    aws, capsys, tenants, tmp_path
):
    cli(aws, capsys, "put-schema", "acme", "order_completed", schema_file(tmp_path, ORDER))
    retyped = with_field(ORDER, "total", {"type": "string"})
    retyped["properties"].pop("order_id")
    retyped["required"] = []

    status, out, err = cli(aws, capsys, "put-schema", "acme", "order_completed", schema_file(tmp_path, retyped))

    assert (status, out) == (1, "")
    lines = err.splitlines()
    assert lines[0] == "error: event type 'order_completed' refused:"
    assert [line.split(":")[0] for line in lines[1:]] == ["/order_id", "/total"]
    assert "now string" in lines[2]
    assert len(stored_items(aws)) == 2  # version 1 and its owner, nothing more


def test_given_another_tenants_type_when_put_then_refused_without_naming_it(aws, capsys, tenants, tmp_path):
    cli(aws, capsys, "put-schema", "acme", "order_completed", schema_file(tmp_path, ORDER))

    status, _, err = cli(aws, capsys, "put-schema", "globex", "order_completed", schema_file(tmp_path, ORDER))

    assert status == 1
    assert "registered by another tenant" in err
    assert "acme" not in err
    assert "order_completed" not in cli(aws, capsys, "schemas", "globex")[1]


def test_given_a_track_plan_from_stdin_when_put_then_listed_under_its_name(aws, capsys, tenants, monkeypatch):
    plan = {"type": "object", "properties": {"orderId": {"type": "string"}}, "required": ["orderId"]}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(plan)))

    put = cli(aws, capsys, "put-schema", "acme", "--track", "Order Completed", "-")
    policy = cli(aws, capsys, "unplanned-policy", "acme", "reject")
    listed = json.loads(cli(aws, capsys, "schemas", "acme", "--json")[1])

    assert put == (0, "track plan 'Order Completed': registered version 1; new fields: /orderId\n", "")
    assert policy == (0, "acme: track events without a plan are now rejected\n", "")
    assert listed["tracks"]["Order Completed"]["document"] == plan
    assert listed["unplanned"] == "reject"
    assert cli(aws, capsys, "schemas", "acme")[1].splitlines()[0] == "unplanned track names: reject"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "error: cannot read {path}: No such file or directory"),
        ("{not json", "error: {path} is not JSON: Expecting property name enclosed in double quotes"),
        ('{"minimum": NaN}', "error: {path} is not JSON:"),
    ],
)
def test_given_an_unreadable_or_non_json_file_when_put_then_one_clear_line(
    aws, capsys, tenants, tmp_path, content, expected
):
    path = str(tmp_path / "missing.json") if content is None else schema_file(tmp_path, content)

    status, out, err = cli(aws, capsys, "put-schema", "acme", "order_completed", path)

    assert (status, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert err.startswith(expected.format(path=path))
    assert stored_items(aws) == []


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["put-schema", "acme", "schema.json"], "takes a type"),
        (["put-schema", "acme", "--track", "Order Completed", "order_completed", "schema.json"], "takes no TYPE"),
        (["schemas", "ghost"], "tenant 'ghost' does not exist"),
        (["schemas", "Bad_Id"], "tenant id must match"),
    ],
)
def test_given_a_wrong_command_when_run_then_nonzero_and_one_line_saying_why(aws, capsys, tenants, command, expected):
    status, _, err = cli(aws, capsys, *command)

    assert status in (1, 2)
    assert expected in err
    assert stored_items(aws) == []


def test_given_no_schemas_table_when_a_schema_command_runs_then_one_line_names_the_option_and_variable(
    aws, capsys, monkeypatch, tenants
):
    monkeypatch.delenv("SCHEMAS_TABLE_NAME", raising=False)

    status = admin.main(["--table", os.environ["TENANT_KEYS_TABLE_NAME"], "schemas", "acme"], client=aws.dynamodb)

    assert status == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: no schemas table: pass --schemas-table or set SCHEMAS_TABLE_NAME (the stack output SchemasTableName)"
    ]


def test_given_a_running_local_stack_when_local_then_the_schemas_table_comes_from_stack_json(
    nothing_set,  # noqa: F811 - the fixture
    local_aws,  # noqa: F811 - the fixture
    capsys,
):
    import boto3

    dynamodb = boto3.client(
        "dynamodb", endpoint_url=local_aws, region_name=LOCAL_REGION, aws_access_key_id="t", aws_secret_access_key="t"
    )
    create_table(dynamodb, "local-SchemasTable", "SCHEMAS_TABLE_NAME")
    state = nothing_set / ".local"
    state.mkdir()
    stack = {
        "aws_endpoint_url": local_aws,
        "region": LOCAL_REGION,
        "keys_table": LOCAL_TABLE,
        "schemas_table": "local-SchemasTable",
    }
    (state / "stack.json").write_text(json.dumps(stack), encoding="utf-8")

    assert admin.main(["--local", "create-tenant", "schemas-local"]) == 0
    path = schema_file(nothing_set, ORDER)
    assert admin.main(["--local", "put-schema", "schemas-local", "order_completed", path]) == 0
    capsys.readouterr()
    assert admin.main(["--local", "schemas", "schemas-local", "--json"]) == 0

    assert json.loads(capsys.readouterr().out)["types"]["order_completed"]["version"] == 1
    assert len(dynamodb.scan(TableName="local-SchemasTable")["Items"]) == 2
