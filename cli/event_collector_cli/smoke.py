"""``make smoke``: check a deployed stack end to end, and say what was checked.

    make smoke STACK=event-collector-prod [REGION=eu-west-1] [API_KEY=tenant:key]

1. reads the stack's outputs (CloudFormation ``DescribeStacks``);
2. uses ``API_KEY`` (``<tenant>:<key>``) or issues a key to a throw-away
   tenant ``smoke-<random>`` (revoked at the end);
3. sends a batch of ``track`` events, checks a bad request gets a 4xx JSON error;
4. waits for Firehose and the fan-out to land the events in the lake
   (Firehose buffers up to ``FirehoseBufferIntervalSeconds``);
5. reads the counts back (real-time; or, with CountingMode=delivered, once the fan-out counted);
6. runs one compaction (the state machine, with a cutoff in the future) and
   waits for it;
7. counts the events in the compacted ``track`` table with one Athena query in
   the stack's workgroup.

``--local`` runs the same checks against ``make local`` (its ``.local/stack.json``);
Athena does not run locally, so step 7 reads the Parquet files instead and
says so. Exit status 0 only if every check passed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from event_collector.aws.clients import operator_session
from event_collector.lake.layout import compacted_type_prefix, events_prefix

EVENTS_SENT = 5
LAKE_WAIT_SECONDS = 900
COUNTS_WAIT_SECONDS = 120
EXECUTION_WAIT_SECONDS = 900
QUERY_WAIT_SECONDS = 300


@dataclass
class Stack:
    api_url: str
    outputs: dict[str, str]
    session: Any  # boto3.Session
    endpoint_url: str | None = None
    local: bool = False

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    failed: int = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.lines.append(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
        print(self.lines[-1], flush=True)
        self.failed += 0 if ok else 1
        return ok

    def note(self, text: str) -> None:
        self.lines.append(f"note {text}")
        print(self.lines[-1], flush=True)


def http(method: str, url: str, auth: str | None = None, body: Any = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, text.decode(errors="replace")


def wait_for(condition: Callable[[], Any], seconds: float, every: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(every)


def cloud_stack(name: str, region: str | None) -> Stack:
    session = operator_session(region)
    described = session.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    outputs = {item["OutputKey"]: item["OutputValue"] for item in described.get("Outputs", [])}
    return Stack(api_url=outputs["ApiUrl"], outputs=outputs, session=session)


def local_stack(stack_file: Path) -> Stack:
    info = json.loads(stack_file.read_text(encoding="utf-8"))
    session = operator_session(info["region"], aws_access_key_id="local", aws_secret_access_key="local")
    outputs = {
        "TenantKeysTableName": info["keys_table"],
        "LakeBucketName": info["lake_bucket"],
        "CompactionStateMachineArn": info["state_machine_arn"],
    }
    return Stack(info["api_url"], outputs, session, endpoint_url=info["aws_endpoint_url"], local=True)


def issue_smoke_key(stack: Stack) -> tuple[str, str, Callable[[], None]]:
    from event_collector.aws.tenant_keys_table import TenantKeysTable
    from event_collector.tenants.admin import TenantAdmin

    admin = TenantAdmin(
        TenantKeysTable(stack.client("dynamodb"), stack.outputs["TenantKeysTableName"]), lambda: int(time.time())
    )
    tenant = f"smoke-{secrets.token_hex(4)}"
    admin.create_tenant(tenant)
    key = admin.issue_key(tenant, expires_in_seconds=86400)
    return tenant, key.api_key, lambda: admin.revoke(tenant, key.key_id)


def lake_has(stack: Stack, tenant: str) -> bool:
    listed = stack.client("s3").list_objects_v2(
        Bucket=stack.outputs["LakeBucketName"], Prefix=events_prefix("track", tenant), MaxKeys=1
    )
    return bool(listed.get("Contents"))


def run_compaction(stack: Stack) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    cutoff = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    arn = sfn.start_execution(
        stateMachineArn=stack.outputs["CompactionStateMachineArn"],
        name=f"smoke-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(2)}",
        input=json.dumps({"cutoff": cutoff}),
    )["executionArn"]

    def finished() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        return None if described["status"] == "RUNNING" else described

    return wait_for(finished, EXECUTION_WAIT_SECONDS, every=2 if stack.local else 10) or {"status": "TIMED_OUT"}


def athena_count(stack: Stack, tenant: str) -> int | None:
    """The tenant's rows in the compacted ``track`` table: one query in the stack's workgroup, through the
    Athena adapter the compaction itself uses (awswrangler); None if it did not succeed in time."""
    from event_collector.aws.athena import AthenaQueryRunner

    runner = AthenaQueryRunner(stack.session, stack.outputs["AthenaWorkGroupName"])
    table = f'"{stack.outputs["GlueDatabaseName"]}"."track"'  # the database name is [a-z0-9_] (template)
    query_id = runner.start(f"SELECT count(*) FROM {table} WHERE tenant = '{tenant}'")  # noqa: S608 - [a-z0-9-]
    outcome = wait_for(lambda: runner.poll(query_id), QUERY_WAIT_SECONDS, every=2)
    if outcome is None or not outcome.succeeded:
        return None
    ((count,),) = runner.rows(query_id)
    return int(count or 0)


def parquet_count(stack: Stack, tenant: str) -> int:
    from event_collector_cli.compacted import read_compacted

    rows = read_compacted(stack.client("s3"), stack.outputs["LakeBucketName"], compacted_type_prefix("track", tenant))
    return len(rows)


def checks(stack: Stack, tenant: str, auth: str, report: Report) -> None:
    """Each check needs the ones before it: the first failure ends the run."""
    status, _ = http("GET", stack.api_url + "/v1/health")
    if not report.check("GET /v1/health answers 200 without credentials", status == 200, str(status)):
        return
    run_id = secrets.token_hex(4)
    events = [{"event_type": "track", "event_id": f"smoke-{run_id}-{n}", "name": "smoke"} for n in range(EVENTS_SENT)]
    status, body = http("POST", stack.api_url + "/v1/events", auth, {"events": events})
    stored = status == 200 and body["accepted"] == EVENTS_SENT
    if not report.check(f"POST /v1/events stores {EVENTS_SENT} events", stored, f"{status} {body}"):
        return
    status, body = http("POST", stack.api_url + "/v1/events", auth, {"events": "not a list"})
    refused = 400 <= status < 500 and isinstance(body, dict) and "error" in body
    report.check("a malformed batch gets a 4xx JSON error", refused, str(status))
    if stack.local:
        http("POST", stack.api_url + "/__local/drain")
    landed = wait_for(lambda: lake_has(stack, tenant), LAKE_WAIT_SECONDS, every=2 if stack.local else 15)
    if not report.check("Firehose and the fan-out landed them in the lake", bool(landed), events_prefix("track")):
        return

    def counted() -> dict[str, Any] | None:
        status, body = http("GET", stack.api_url + "/v1/counts?event_type=track&key=smoke", auth)
        return body if status == 200 and body["total"] >= EVENTS_SENT else None

    # Real-time counts include them already; a stack with CountingMode=delivered counts in the fan-out.
    found = wait_for(counted, COUNTS_WAIT_SECONDS, every=2)
    report.check("GET /v1/counts counts them", found is not None, f"total {found['total'] if found else 'missing'}")
    execution = run_compaction(stack)
    if not report.check("one compaction run succeeded", execution["status"] == "SUCCEEDED", execution["status"]):
        return
    if stack.local:
        count = parquet_count(stack, tenant)
        report.note("Athena does not run locally: counted the compacted Parquet files instead")
    else:
        found = athena_count(stack, tenant)
        count = -1 if found is None else found
    report.check(f"the compacted table holds exactly the {EVENTS_SENT} events", count == EVENTS_SENT, str(count))


def smoke(stack: Stack, api_key: str | None, report: Report) -> None:
    revoke: Callable[[], None] = lambda: None  # noqa: E731
    if api_key:
        tenant, _, key = api_key.partition(":")
    else:
        tenant, key, revoke = issue_smoke_key(stack)
        report.note(f"issued a key to throw-away tenant {tenant} (revoked at the end)")
    try:
        checks(stack, tenant, f"{tenant}:{key}", report)
    finally:
        revoke()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make smoke", description=__doc__.split("\n\n")[0] if __doc__ else None)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack-name", help="the deployed stack (reads its outputs)")
    where.add_argument("--local", action="store_true", help="the running `make local` stack (.local/stack.json)")
    parser.add_argument("--region", default=None)
    parser.add_argument("--api-url", default=None, help="override the stack's ApiUrl output")
    parser.add_argument("--api-key", default=None, help="<tenant>:<key>; default: a throw-away tenant")
    parser.add_argument(
        "--stack-file",
        type=Path,
        default=Path(os.environ.get("LOCAL_STATE_DIR") or ".local") / "stack.json",
        help="the local stack's stack.json (default: $LOCAL_STATE_DIR/stack.json, else .local/stack.json)",
    )
    args = parser.parse_args(argv)
    stack = local_stack(args.stack_file) if args.local else cloud_stack(args.stack_name, args.region)
    if args.api_url:
        stack.api_url = args.api_url.rstrip("/")
    report = Report()
    try:
        smoke(stack, args.api_key, report)
    except Exception as error:  # noqa: BLE001 - a smoke test reports, it does not crash
        report.check("the smoke test ran to the end", False, f"{type(error).__name__}: {error}")
    print(f"smoke: {len(report.lines)} lines, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
