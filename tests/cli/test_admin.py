"""The admin CLI end to end against (moto) DynamoDB: keys printed once, never listed, clear exits."""

from __future__ import annotations

import json
import os

from event_collector_cli import admin


def test_given_the_cli_when_used_end_to_end_then_keys_are_printed_once_and_listed_without_secrets(aws, capsys):
    table = ["--table", os.environ["TENANT_KEYS_TABLE_NAME"]]

    assert admin.main([*table, "create-tenant", "acme"], client=aws.dynamodb) == 0
    assert admin.main([*table, "issue-key", "acme", "--expires-in-days", "30"], client=aws.dynamodb) == 0
    issued = json.loads(capsys.readouterr().out.split("\n}\n", 1)[1])
    assert admin.main([*table, "rotate-key", "acme", "--overlap-hours", "1"], client=aws.dynamodb) == 0
    rotated = json.loads(capsys.readouterr().out)
    assert admin.main([*table, "revoke-key", "acme", issued["key_id"]], client=aws.dynamodb) == 0
    capsys.readouterr()
    assert admin.main([*table, "list-keys", "acme"], client=aws.dynamodb) == 0
    listing = json.loads(capsys.readouterr().out)

    assert issued["api_key"].startswith(issued["key_id"] + ".")
    statuses = {key["key_id"]: key["status"] for key in listing["keys"]}
    assert statuses == {issued["key_id"]: "revoked", rotated["key_id"]: "active"}
    assert "secret_hash" not in json.dumps(listing)
    assert issued["api_key"] not in json.dumps(listing)


def test_given_cli_errors_when_run_then_nonzero_exit_and_a_message(aws, capsys):
    table = ["--table", os.environ["TENANT_KEYS_TABLE_NAME"]]

    assert admin.main([*table, "issue-key", "ghost"], client=aws.dynamodb) == 1
    assert admin.main([*table, "create-tenant", "Bad_Id"], client=aws.dynamodb) == 2
    assert "does not exist" in capsys.readouterr().err
