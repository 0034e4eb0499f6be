"""The admin CLI end to end against (moto) DynamoDB: keys printed once, never listed, clear exits; it finds
the local stack by itself, and a missing region, credentials or table is one line naming what to set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from event_collector_cli import admin
from tests.conftest import create_table
from tools.harness import free_port


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


def test_given_a_publishable_key_with_a_rate_limit_when_issued_then_listed_with_its_origins_and_limit(aws, capsys):
    table = ["--table", os.environ["TENANT_KEYS_TABLE_NAME"]]
    assert admin.main([*table, "create-tenant", "acme"], client=aws.dynamodb) == 0
    capsys.readouterr()

    command = ["issue-key", "acme", "--publishable", "--origin", "https://Shop.Example:443", "--rate-per-minute", "600"]
    assert admin.main([*table, *command], client=aws.dynamodb) == 0
    issued = json.loads(capsys.readouterr().out)
    assert admin.main([*table, "list-keys", "acme"], client=aws.dynamodb) == 0
    (listed,) = json.loads(capsys.readouterr().out)["keys"]

    assert (issued["scope"], issued["origins"], issued["rate_per_minute"]) == (
        "publishable",
        ["https://shop.example"],
        600,
    )
    assert (listed["scope"], listed["origins"], listed["rate_per_minute"]) == (
        "publishable",
        ["https://shop.example"],
        600,
    )
    assert admin.main([*table, "issue-key", "acme", "--rate-per-minute", "0"], client=aws.dynamodb) == 2
    assert "rate limit" in capsys.readouterr().err


# -- finding the stack: --local, a local endpoint, and one line naming what to set -------------------------------

LOCAL_REGION = "eu-west-1"  # not the SDK's or the local mode's default, so a test shows where the region came from
LOCAL_TABLE = "local-TenantKeysTable"


@pytest.fixture(scope="module")
def local_aws() -> Iterator[str]:
    """An AWS emulator on 127.0.0.1 holding the tenant-keys table, as the local mode's is."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name=LOCAL_REGION, aws_access_key_id="t", aws_secret_access_key="t"
    )
    create_table(dynamodb, LOCAL_TABLE, "TENANT_KEYS_TABLE_NAME")
    yield endpoint
    server.stop()


@pytest.fixture
def nothing_set(monkeypatch, tmp_path):
    """A shell with no AWS credentials, region, endpoint or table, and no AWS config files."""
    for name in (*AWS_VARIABLES, "TENANT_KEYS_TABLE_NAME", "LOCAL_STATE_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in no_aws_files(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # --local's default .local/stack.json is relative to here
    return tmp_path


AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
)


def no_aws_files(directory: Path) -> dict[str, str]:
    return {
        "AWS_CONFIG_FILE": str(directory / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(directory / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",  # never ask an instance for credentials
    }


def write_stack_file(state_dir: Path, endpoint: str) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    stack = {"aws_endpoint_url": endpoint, "region": LOCAL_REGION, "keys_table": LOCAL_TABLE}
    (state_dir / "stack.json").write_text(json.dumps(stack), encoding="utf-8")


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("error: ")
    return err


@pytest.mark.parametrize("state_dir", [".local", "elsewhere"])
def test_given_a_running_local_stack_when_the_cli_is_given_local_then_it_finds_endpoint_table_and_region(
    nothing_set, local_aws, monkeypatch, capsys, state_dir
):
    write_stack_file(nothing_set / state_dir, local_aws)
    if state_dir != ".local":
        monkeypatch.setenv("LOCAL_STATE_DIR", str(nothing_set / state_dir))
    tenant = f"local-{state_dir.strip('.')}"

    assert admin.main(["--local", "create-tenant", tenant]) == 0
    assert admin.main(["--local", "issue-key", tenant]) == 0
    capsys.readouterr()
    assert admin.main(["--local", "list-keys", tenant]) == 0

    assert [key["status"] for key in json.loads(capsys.readouterr().out)["keys"]] == ["active"]


def test_given_local_but_no_stack_file_when_run_then_one_line_says_to_start_the_stack(nothing_set, capsys):
    assert admin.main(["--local", "list-keys", "acme"]) == 2

    error = one_error_line(capsys)
    assert "make local" in error
    assert "LOCAL_STATE_DIR" in error


@pytest.mark.parametrize("how", ["--endpoint-url", "AWS_ENDPOINT_URL"])
def test_given_a_local_endpoint_and_no_credentials_or_region_when_used_then_the_local_stacks_are_used(
    nothing_set, local_aws, monkeypatch, capsys, how
):
    write_stack_file(nothing_set / ".local", local_aws)  # its region; the credentials are the local mode's fake ones
    where = ["--endpoint-url", local_aws] if how == "--endpoint-url" else []
    if how == "AWS_ENDPOINT_URL":
        monkeypatch.setenv("AWS_ENDPOINT_URL", local_aws)
    tenant = f"endpoint-{how.strip('-').lower().replace('_', '-')}"

    assert admin.main([*where, "--table", LOCAL_TABLE, "create-tenant", tenant]) == 0
    assert admin.main([*where, "--table", LOCAL_TABLE, "list-keys", tenant]) == 0

    assert json.loads(capsys.readouterr().out.split("\n}\n", 1)[1])["tenant"] == tenant


def test_given_aws_region_when_run_then_it_is_the_region_boto3_alone_would_not_read(
    nothing_set, local_aws, monkeypatch, capsys
):
    monkeypatch.setenv("AWS_REGION", LOCAL_REGION)
    where = ["--endpoint-url", local_aws, "--table", LOCAL_TABLE]

    assert admin.main([*where, "create-tenant", "region-from-env"]) == 0
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    capsys.readouterr()
    assert admin.main([*where, "list-keys", "region-from-env"]) == 2

    error = one_error_line(capsys)
    assert "no such table" in error
    assert "--region or AWS_REGION" in error


def test_given_no_region_when_run_against_aws_then_one_line_names_region_and_aws_region(nothing_set, capsys):
    assert admin.main(["--table", "keys", "list-keys", "acme"]) == 2

    error = one_error_line(capsys)
    assert "--region" in error
    assert "AWS_REGION" in error


def test_given_a_region_but_no_credentials_when_run_against_aws_then_one_line_names_the_credentials(
    nothing_set, capsys
):
    assert admin.main(["--table", "keys", "--region", "eu-west-1", "list-keys", "acme"]) == 2

    error = one_error_line(capsys)
    assert "AWS_PROFILE" in error
    assert "AWS_ACCESS_KEY_ID" in error


def test_given_a_stopped_local_stack_when_run_then_one_line_says_it_cannot_be_reached(nothing_set, capsys):
    endpoint = f"http://127.0.0.1:{free_port()}"

    assert admin.main(["--endpoint-url", endpoint, "--table", "keys", "list-keys", "acme"]) == 2

    error = one_error_line(capsys)
    assert endpoint in error
    assert "make local" in error


def test_given_no_table_when_run_then_one_line_names_table_and_its_variable(nothing_set, capsys):
    assert admin.main(["list-keys", "acme"]) == 2

    error = one_error_line(capsys)
    assert "--table" in error
    assert "TENANT_KEYS_TABLE_NAME" in error


def test_given_no_region_when_the_installed_cli_runs_then_it_prints_one_line_and_no_traceback(tmp_path):
    environment = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **no_aws_files(tmp_path)}

    result = subprocess.run(
        [sys.executable, "-m", "event_collector_cli.admin", "--table", "keys", "list-keys", "acme"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: no AWS region: pass --region or set AWS_REGION (or --local for the running local stack)"
    ]
