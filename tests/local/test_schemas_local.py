"""Tenants' own event types in the local mode: ``make local``'s stack has the schemas table, the admin CLI's
``--local`` finds it, and ``GET /v1/schemas`` answers the authorizer's tenant its own types only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.local.conftest import RunningStack
from tools.template import ROOT

ORDER = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "total": {"type": "integer", "minimum": 0}},
    "required": ["order_id"],
    "additionalProperties": False,
}


def admin(stack: RunningStack, *arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``event-collector-admin --local ...`` as a user runs it, finding the stack through its state directory."""
    env = {**os.environ, "LOCAL_STATE_DIR": str(stack.stack_file.parent)}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "SCHEMAS_TABLE_NAME"):
        env.pop(name, None)
    command = [sys.executable, "-m", "event_collector_cli.admin", "--local", *arguments]
    return subprocess.run(command, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, check=False)


def test_given_the_local_stack_then_its_schemas_table_exists_empty(local_stack: RunningStack):
    table = local_stack.info["schemas_table"]

    described = local_stack.aws("dynamodb").describe_table(TableName=table)["Table"]

    assert [key["AttributeName"] for key in described["KeySchema"]] == ["pk", "sk"]


def test_given_the_local_stack_when_a_type_is_put_with_local_then_listed_and_another_tenant_is_refused(
    local_stack: RunningStack, tmp_path: Path
):
    (first, _), (second, _) = local_stack.demo_auth(0), local_stack.demo_auth(1)
    path = tmp_path / "order.json"
    path.write_text(json.dumps(ORDER), encoding="utf-8")

    put = admin(local_stack, "put-schema", first, "local_order", str(path))
    taken = admin(local_stack, "put-schema", second, "local_order", "-", stdin=json.dumps(ORDER))
    listed = admin(local_stack, "schemas", first, "--json")

    assert (put.returncode, put.stdout) == (
        0,
        "event type 'local_order': registered version 1; new fields: /order_id, /total\n",
    )
    assert taken.returncode == 1
    assert "registered by another tenant" in taken.stderr
    assert json.loads(listed.stdout)["types"]["local_order"]["document"] == ORDER


def test_given_a_registered_type_when_get_v1_schemas_then_the_tenant_sees_its_own_and_the_other_none(
    local_stack: RunningStack,
):
    first, second = local_stack.demo_auth(0), local_stack.demo_auth(1)
    plan = json.dumps({"type": "object", "properties": {"orderId": {"type": "string"}}})
    assert admin(local_stack, "put-schema", first[0], "--track", "Local Order", "-", stdin=plan).returncode == 0

    own = local_stack.request("GET", "/v1/schemas", auth=first)
    other = local_stack.request("GET", "/v1/schemas", auth=second)
    anonymous = local_stack.request("GET", "/v1/schemas")

    assert own.status == 200
    assert own.json()["tracks"]["Local Order"]["version"] == 1
    assert other.status == 200
    assert "Local Order" not in other.json()["tracks"]
    assert anonymous.status == 401
