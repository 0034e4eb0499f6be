"""The local mode over real HTTP: authorizer, collector, raw bucket, counts, gateway answers, dashboard."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest

from tests.local.conftest import RunningStack, is_listening, start_stack, stop_stack
from tools.template import ROOT

VIEW = {"event_type": "page_view", "url": "https://example.com/local", "session_id": "s-1"}


def test_given_the_stack_file_when_started_then_it_holds_the_documented_contract(local_stack: RunningStack):
    info = local_stack.info
    for key in (
        "api_url",
        "aws_endpoint_url",
        "region",
        "raw_bucket",
        "lake_bucket",
        "delivery_stream",
        "counters_table",
        "keys_table",
        "regulations_table",
        "schemas_table",
        "glue_database",
        "state_machine_arn",
        "tenant",
        "api_key",
        "tenants",
    ):
        assert key in info, key
    assert info["api_url"] == f"http://127.0.0.1:{local_stack.api_port}"
    assert info["aws_endpoint_url"] == f"http://127.0.0.1:{local_stack.aws_port}"
    assert len(info["tenants"]) == 2
    first = info["tenants"][0]
    assert (first["tenant"], first["api_key"]) == (info["tenant"], info["api_key"])
    assert first["publishable_key"] != first["api_key"]


def test_given_a_running_stack_then_sam_env_json_points_sam_local_at_its_emulator_and_names(
    local_stack: RunningStack,
):
    """`sam local start-api --env-vars` with this file reaches this stack's resources (local/sam_env.py)."""
    info = local_stack.info
    env_file = local_stack.stack_file.with_name("sam-env.json")
    document = json.loads(env_file.read_text(encoding="utf-8"))

    assert document["Parameters"]["AWS_ENDPOINT_URL"] == f"http://host.docker.internal:{local_stack.aws_port}"
    assert document["Parameters"]["AWS_REGION"] == info["region"]
    for collector in ("CollectorFunction", "HttpCollectorFunction"):
        assert document[collector]["DELIVERY_STREAM_NAME"] == info["delivery_stream"]
        assert document[collector]["COUNTERS_TABLE_NAME"] == info["counters_table"]
        assert document[collector]["TENANT_KEYS_TABLE_NAME"] == info["keys_table"]
        assert document[collector]["REGULATIONS_TABLE_NAME"] == info["regulations_table"]
        assert document[collector]["SCHEMAS_TABLE_NAME"] == info["schemas_table"]
    for compaction in ("CompactionCompactFunction", "CompactionRefreshFunction"):
        assert document[compaction]["SCHEMAS_TABLE_NAME"] == info["schemas_table"]
    assert document["AuthorizerFunction"]["TENANT_KEYS_TABLE_NAME"] == info["keys_table"]
    assert document["FanOutFunction"]["LAKE_BUCKET_NAME"] == info["lake_bucket"]
    assert info["sam_local"]["env_file"] == str(env_file)
    for api_type in ("REST", "HTTP"):
        command = info["sam_local"]["start_api"][api_type]
        assert command[command.index("--env-vars") + 1] == str(env_file)
        assert command[command.index("--template") + 1] == f".aws-sam/build/template-{api_type.lower()}.yaml"
        assert int(command[command.index("--port") + 1]) not in (local_stack.api_port, local_stack.aws_port)


def test_given_no_credentials_when_posting_then_401_gateway_answer_with_cors(local_stack: RunningStack):
    answer = local_stack.request("POST", "/v1/events", body={"events": [VIEW]})

    assert answer.status == 401
    assert answer.json()["error"] == "unauthorized"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_given_a_wrong_key_when_posting_then_403(local_stack: RunningStack):
    tenant, _ = local_stack.demo_auth()
    answer = local_stack.request("POST", "/v1/events", body={"events": [VIEW]}, auth=(tenant, "k0000000000000000.x"))

    assert answer.status == 403
    assert answer.json()["error"] == "forbidden"


def test_given_a_malformed_header_when_posting_then_401(local_stack: RunningStack):
    answer = local_stack.request("GET", "/v1/counts?event_type=page_view", headers={"Authorization": "Basic !!!"})

    assert answer.status == 401


@pytest.mark.parametrize(
    ("credential", "status", "message_start"),
    [
        (lambda key: f"{key[:-1]}:", 401, "The write key (the username) is malformed"),
        (lambda key: "hunter2:", 401, "The username is not a write key"),
        (lambda key: f"{key[:-1]}A:" if not key.endswith("A") else f"{key[:-1]}B:", 403, "The write key is not a key"),
    ],
    ids=["write-key-mistyped", "hunter2-colon", "write-key-unknown"],
)
def test_given_a_wrong_write_key_when_posting_over_http_then_the_message_is_about_the_write_key(
    local_stack: RunningStack, credential, status, message_start
):
    header = "Basic " + base64.b64encode(credential(local_stack.demo_auth()[1]).encode()).decode()

    answer = local_stack.request("POST", "/v1/events", body={"events": [VIEW]}, headers={"Authorization": header})

    assert answer.status == status
    assert answer.json()["message"].startswith(message_start)
    assert "tenant id is malformed" not in answer.json()["message"]


def test_given_a_valid_batch_when_posted_then_it_lands_in_the_raw_bucket_and_is_counted(local_stack: RunningStack):
    auth = local_stack.demo_auth()
    events = [
        VIEW,
        {**VIEW, "event_id": "local-e-2"},
        {"event_type": "button_click", "button_id": "go", "session_id": "s"},
    ]

    answer = local_stack.request("POST", "/v1/events", body={"events": events}, auth=auth)
    local_stack.drain()  # counts come from the fan-out, once Firehose delivered (docs/counters.md)
    counts = local_stack.request(
        "GET", "/v1/counts?event_type=page_view&key=https%3A%2F%2Fexample.com%2Flocal", auth=auth
    )

    assert answer.status == 200
    assert answer.json() == {"accepted": 3, "rejected": []}
    s3 = local_stack.aws("s3")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=local_stack.info["raw_bucket"])["Contents"]]
    assert all(key.startswith("raw/") for key in keys)
    lines = [
        json.loads(line)
        for key in keys
        for line in s3.get_object(Bucket=local_stack.info["raw_bucket"], Key=key)["Body"].read().splitlines()
    ]
    assert "local-e-2" in {line["event_id"] for line in lines}
    assert {line["tenant"] for line in lines} == {auth[0]}
    assert counts.status == 200
    assert counts.json()["total"] == 2


def test_given_two_tenants_when_one_sends_then_the_other_sees_nothing(local_stack: RunningStack):
    first, second = local_stack.demo_auth(0), local_stack.demo_auth(1)
    local_stack.request("POST", "/button/click", body={"session_id": "s", "button_id": "only-first"}, auth=first)
    local_stack.drain()

    mine = local_stack.request("GET", "/button/click/count?button_id=only-first", auth=first)
    theirs = local_stack.request("GET", "/button/click/count?button_id=only-first", auth=second)

    assert mine.json() == {"count": 1}
    assert theirs.json() == {"count": 0}


def test_given_a_bad_body_when_posted_then_the_collector_answers_4xx_json(local_stack: RunningStack):
    answer = local_stack.request(
        "POST", "/v1/events", body=None, auth=local_stack.demo_auth(), headers={"Content-Type": "application/xml"}
    )

    assert answer.status == 415
    assert answer.json()["error"] == "unsupported_media_type"


@pytest.mark.parametrize("path", ["/v2/nothing-here", "/v1", "/v1/", "/prod/v1/events"])
def test_given_an_unknown_route_when_called_then_the_answer_says_where_the_routes_are(
    local_stack: RunningStack, path: str
):
    answer = local_stack.request("GET", path, auth=local_stack.demo_auth())

    assert answer.status == 404  # the template's MISSING_AUTHENTICATION_TOKEN response, not API Gateway's 403
    assert answer.json() == {"error": "not_found", "message": "No such route: the routes are listed at GET /v1/docs"}


def test_given_a_known_path_with_another_method_when_called_then_not_found_too(local_stack: RunningStack):
    assert local_stack.request("DELETE", "/v1/events", auth=local_stack.demo_auth()).status == 404


def test_given_a_preflight_when_sent_then_cors_is_answered_without_auth(local_stack: RunningStack):
    answer = local_stack.request("OPTIONS", "/v1/events", headers={"Origin": "https://app.example"})

    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in answer.headers["Access-Control-Allow-Headers"]


def test_given_public_routes_when_called_without_auth_then_they_answer(local_stack: RunningStack):
    assert local_stack.request("GET", "/v1/health").json()["status"] == "ok"
    docs = local_stack.request("GET", "/v1/docs?format=json")
    assert docs.status == 200
    assert "/v1/events" in docs.json()["paths"]


def test_given_the_dashboard_when_loaded_then_it_has_the_send_buttons_and_the_tenants(local_stack: RunningStack):
    answer = local_stack.request("GET", "/dashboard")
    tenants = local_stack.request("GET", "/dashboard/api/tenants")

    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    page = answer.body.decode()
    assert 'id="send-click"' in page
    assert 'id="tenant"' in page
    assert local_stack.info["tenants"][0]["publishable_key"] in tenants.body.decode()
    for secret in (tenant["api_key"] for tenant in local_stack.info["tenants"]):  # no secret key
        assert secret not in page
        assert secret not in tenants.body.decode()


def test_given_the_admin_cli_when_pointed_at_the_local_mode_then_issued_and_revoked_keys_take_effect(
    local_stack: RunningStack,
):
    info = local_stack.info
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    admin = [
        sys.executable,
        "-m",
        "event_collector_cli.admin",
        "--endpoint-url",
        info["aws_endpoint_url"],
        "--table",
        info["keys_table"],
    ]

    def run(*arguments: str) -> dict:
        done = subprocess.run([*admin, *arguments], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        return json.loads(done.stdout)

    run("create-tenant", "cli-made")
    key = run("issue-key", "cli-made")
    allowed = local_stack.request("GET", "/v1/counts?event_type=track", auth=("cli-made", key["api_key"]))
    run("revoke-key", "cli-made", key["key_id"])
    refused = local_stack.request("GET", "/v1/counts?event_type=track", auth=("cli-made", key["api_key"]))

    assert allowed.status == 200
    assert refused.status == 403  # LOCAL_AUTHORIZER_TTL=0 for this stack: no cached Allow


def test_given_a_running_stack_when_interrupted_then_no_process_or_socket_is_left(tmp_path):
    stack = start_stack(tmp_path)
    assert is_listening(stack.api_port)
    assert is_listening(stack.aws_port)

    assert stop_stack(stack) == 0

    assert not is_listening(stack.api_port)
    assert not is_listening(stack.aws_port)
    assert not stack.stack_file.exists()


def test_given_accepted_events_when_firehose_delivers_then_fan_out_writes_the_tenant_partitions(local_stack):
    import gzip

    first, second = local_stack.demo_auth(0), local_stack.demo_auth(1)
    for auth in (first, second):
        body = {"events": [{"event_type": "track", "name": "fan-out check", "event_id": f"fo-{auth[0]}"}]}
        assert local_stack.request("POST", "/v1/events", body=body, auth=auth).status == 200

    drained = local_stack.request("POST", "/__local/drain")

    assert drained.json() == {"async_failures": []}
    s3 = local_stack.aws("s3")
    lake = local_stack.info["lake_bucket"]
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=lake, Prefix="events/track/")["Contents"]]
    for tenant, _ in (first, second):
        mine = [key for key in keys if f"/tenant={tenant}/" in key]
        assert mine, keys
        stored = [
            json.loads(line)
            for key in mine
            for line in gzip.decompress(s3.get_object(Bucket=lake, Key=key)["Body"].read()).splitlines()
        ]
        assert f"fo-{tenant}" in {line["event_id"] for line in stored}
        assert {line["tenant"] for line in stored} == {tenant}


def test_given_sent_events_when_make_compact_and_query_run_then_the_compacted_table_holds_them_once(local_stack):
    auth = local_stack.demo_auth(0)
    events = [
        {"event_type": "button_click", "button_id": "compact-me", "session_id": "s", "event_id": f"c-{i}"}
        for i in range(3)
    ]
    for _ in range(2):  # the client resends the same batch: duplicates must disappear
        assert local_stack.request("POST", "/v1/events", body={"events": events}, auth=auth).status == 200
    assert local_stack.request("POST", "/__local/drain").json() == {"async_failures": []}
    env = {**os.environ, "LOCAL_STATE_DIR": str(local_stack.stack_file.parent)}

    compact = subprocess.run([sys.executable, "-m", "local.compact"], cwd=ROOT, env=env, capture_output=True, text=True)
    query = subprocess.run([sys.executable, "-m", "local.query"], cwd=ROOT, env=env, capture_output=True, text=True)

    assert compact.returncode == 0, compact.stdout + compact.stderr
    report = json.loads(compact.stdout)["report"]
    assert report["failed"] == 0
    assert report["duplicates_removed"] >= 3
    line = next(row for row in query.stdout.splitlines() if row.split()[:2] == ["button_click", auth[0]])
    rows, distinct = line.split()[-2:]
    assert rows == distinct
    s3 = local_stack.aws("s3")
    prefix = f"compacted/button_click/tenant={auth[0]}/"
    parquet_keys = [
        o["Key"] for o in s3.list_objects_v2(Bucket=local_stack.info["lake_bucket"], Prefix=prefix)["Contents"]
    ]
    assert parquet_keys
    assert all(key.endswith(".parquet") for key in parquet_keys)
    import io

    import pyarrow.parquet as pq

    event_ids = [
        event_id
        for key in parquet_keys
        for event_id in pq.read_table(
            io.BytesIO(s3.get_object(Bucket=local_stack.info["lake_bucket"], Key=key)["Body"].read())
        )
        .column("event_id")
        .to_pylist()
    ]
    assert sorted(e for e in event_ids if e.startswith("c-")) == ["c-0", "c-1", "c-2"]


@pytest.mark.parametrize(
    "options",
    [{"cutoff": "garbage"}, {"cutoff": 12}, {"cutoff": "2026-11-26T12:00:00"}, {"closed_hours_only": "yes"}, {"x": 1}],
)
def test_given_bad_compaction_options_when_posted_then_400_naming_the_option(local_stack: RunningStack, options):
    answer = local_stack.request("POST", "/__local/compact", body=options)

    assert answer.status == 400
    assert next(iter(options)) in answer.json()["message"]
