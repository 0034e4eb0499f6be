"""Every fault the local mode can inject, alone and then all together, under concurrent clients (issue 21),
in both counting modes (real-time in the collector, and from delivered data in the fan-out).

Each scenario arms its faults, lets several clients send at once (each resending the same bytes after a
503 or a lost answer, as our SDKs do), and disarms them. Then the faults are cleared as an operator would
clear them (drain the fan-out, redrive its dead-letter queue, compact) and every scenario is checked:

- every acknowledged event is stored exactly once, with the values it was sent with;
- nothing unacknowledged is stored;
- the counts equal the distinct acknowledged events, per counter key and per type.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest

from event_collector.lake.layout import compacted_type_prefix
from event_collector_cli.compacted import read_compacted
from tests.local.conftest import RunningStack, start_stack, stop_stack
from tools.template import ROOT

CLIENTS = 4
BATCHES = 3
SIZE = 5
MAX_ATTEMPTS = 8
SDK_ATTEMPTS = 6  # the fan-out's S3 client (event_collector/aws/clients.py)
SCENARIOS: dict[str, dict[str, Any]] = {
    "firehose-rejects": {"firehose_rejects": 3},
    "firehose-outage": {"firehose_outage": 4},
    "dynamodb-throttles": {"dynamodb_throttles": 30},
    "lake-put-errors": {"lake_put_errors": SDK_ATTEMPTS},
    "fan-out-crash-mid-object": {"lake_put_errors_after": 1, "lake_put_errors": SDK_ATTEMPTS},
    "duplicate-s3-events": {"duplicate_s3_events": 3},
    "fan-out-dead-lettered": {"function_errors": {"FanOutFunction": 3}},
    "compact-fails-once": {"function_errors": {"CompactionCompactFunction": 1}},
    "lost-responses": {"drop_responses": 3},
}
SCENARIOS["all-together"] = {
    key: value for faults in SCENARIOS.values() for key, value in faults.items() if key != "function_errors"
} | {"function_errors": {"FanOutFunction": 3, "CompactionCompactFunction": 1}}
DISARMED = {
    "firehose_rejects": 0,
    "firehose_outage": 0,
    "dynamodb_throttles": 0,
    "lake_put_errors": 0,
    "lake_put_errors_after": 0,
    "duplicate_s3_events": 0,
    "drop_responses": 0,
    "function_errors": {"FanOutFunction": 0, "CompactionCompactFunction": 0},
}


@dataclass
class Sent:
    """What the API acknowledged, by (tenant, event_id), with the properties each event was sent with."""

    acknowledged: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    names: dict[tuple[str, str], str] = field(default_factory=dict)  # (tenant, event_id) -> counter key
    unacknowledged: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


def send(stack: RunningStack, tenant_index: int, events: list[dict[str, Any]], sent: Sent) -> None:
    """One batch, resent with the same bytes after a 503 or a lost answer."""
    tenant, api_key = stack.demo_auth(tenant_index)
    body = json.dumps({"events": events}).encode()
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Basic " + base64.b64encode(f"{tenant}:{api_key}".encode()).decode(),
    }
    for _ in range(MAX_ATTEMPTS):
        connection = http.client.HTTPConnection("127.0.0.1", stack.api_port, timeout=60)
        try:
            connection.request("POST", "/v1/events", body=body, headers=headers)
            answer = connection.getresponse()
            status, payload = str(answer.status), json.loads(answer.read())
        except (TimeoutError, http.client.RemoteDisconnected, ConnectionError):
            status, payload = "connection lost", None
        finally:
            connection.close()
        with sent.lock:
            sent.statuses[status] += 1
        if status == "200":
            assert payload is not None
            assert payload["rejected"] == []
            with sent.lock:
                for event in events:
                    sent.acknowledged[(tenant, event["event_id"])] = event["properties"]
                    sent.names[(tenant, event["event_id"])] = event["name"]
            return
        if status not in ("503", "connection lost"):
            raise AssertionError(f"{status}: {payload}")
    with sent.lock:
        sent.unacknowledged += len(events)


def events(scenario: str, client: int, batch: int) -> list[dict[str, Any]]:
    run = uuid.uuid4().hex[:6]
    name = f"{scenario}-{client}"  # one counter key per scenario and client
    return [
        {
            "event_type": "track",
            "name": name,
            "event_id": f"{scenario}-{client}-{batch}-{index}-{run}",
            "properties": {"i": index, "text": f"é✓ {scenario} {batch}", "big": 2**53 + index},
        }
        for index in range(SIZE)
    ]


def arm(stack: RunningStack, faults: dict[str, Any]) -> None:
    assert stack.request("POST", "/__local/faults", body=faults).status == 200


def redrive(stack: RunningStack) -> dict[str, Any]:
    info = stack.info
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "event_collector_cli.lake",
            "--endpoint-url",
            info["aws_endpoint_url"],
            "redrive",
            "--function",
            info["fan_out_function"],
            "--queue-url",
            info["fan_out_dead_letter_queue_url"],
        ],
        cwd=ROOT,
        env={**env, "AWS_DEFAULT_REGION": info["region"]},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module", params=["realtime", "delivered"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(
        tmp_path_factory.mktemp(f"faults-{request.param}"),
        {"LOCAL_FAULT_INJECTION": "1", "LOCAL_READ_TIMEOUT": "1", "LOCAL_COUNTING_MODE": request.param},
    )
    yield running
    stop_stack(running)


@pytest.fixture(scope="module")
def outcome(stack: RunningStack) -> dict[str, Any]:
    """Every scenario sent, then the faults cleared and the stack settled: what each check reads."""
    sent = {name: Sent() for name in SCENARIOS}
    for name, faults in SCENARIOS.items():
        arm(stack, faults)
        workers = [
            threading.Thread(target=send, args=(stack, client % 2, events(name, client, batch), sent[name]))
            for client in range(CLIENTS)
            for batch in range(BATCHES)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        arm(stack, DISARMED)
    # Faults cleared: what an operator does. Wait for the fan-out, redrive what it dead-lettered, compact.
    stack.drain()
    redriven = redrive(stack)
    stack.drain()
    compaction = stack.request("POST", "/__local/compact", body={}).json()
    rows = read_compacted(stack.aws("s3"), stack.info["lake_bucket"], compacted_type_prefix("track"))
    return {"sent": sent, "redriven": redriven, "compaction": compaction, "rows": rows}


def test_given_every_fault_then_the_stack_settles_with_one_compaction_that_succeeds(outcome):
    assert outcome["compaction"]["status"] == "SUCCEEDED", outcome["compaction"]
    assert outcome["redriven"]["failed"] == 0


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_given_a_fault_scenario_then_every_acknowledged_event_is_stored_once_with_its_values(outcome, scenario):
    sent: Sent = outcome["sent"][scenario]
    mine = [row for row in outcome["rows"] if row["event_id"].startswith(f"{scenario}-")]
    stored = Counter((row["tenant"], row["event_id"]) for row in mine)

    assert sent.unacknowledged == 0, sent.statuses
    assert len(sent.acknowledged) == CLIENTS * BATCHES * SIZE
    assert [key for key, times in stored.items() if times > 1] == []  # nothing twice
    assert set(stored) == set(sent.acknowledged)  # nothing lost, nothing unacknowledged
    for row in mine:
        assert json.loads(row["properties"]) == sent.acknowledged[(row["tenant"], row["event_id"])]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_given_a_fault_scenario_then_counts_equal_the_distinct_acknowledged_events(outcome, stack, scenario):
    sent: Sent = outcome["sent"][scenario]
    expected = Counter((tenant, sent.names[(tenant, event_id)]) for tenant, event_id in sent.acknowledged)

    found = {}
    for (tenant, name), _ in expected.items():
        index = next(i for i, t in enumerate(stack.info["tenants"]) if t["tenant"] == tenant)
        answer = stack.request("GET", f"/v1/counts?event_type=track&key={quote(name)}", auth=stack.demo_auth(index))
        found[(tenant, name)] = answer.json()["total"]

    assert found == dict(expected)


def test_given_every_scenario_then_each_tenants_track_total_equals_its_distinct_acknowledged_events(outcome, stack):
    expected = Counter(tenant for sent in outcome["sent"].values() for tenant, _ in sent.acknowledged)

    found = {
        tenant: stack.request("GET", "/v1/counts?event_type=track", auth=stack.demo_auth(index)).json()["total"]
        for index, tenant in enumerate(t["tenant"] for t in stack.info["tenants"])
    }

    assert found == dict(expected)


def test_given_an_id_resent_under_another_type_when_compacted_then_one_row_and_the_other_types_count_is_zero(
    outcome, stack
):
    # A resend whose copy compaction drops is counted by the real-time path under the type it was resent as:
    # the recount must take that count back (issue 21's review).
    event_id = f"cross-type-{uuid.uuid4().hex[:8]}"
    url = f"https://cross.example/{event_id}"
    first = {"event_type": "button_click", "button_id": event_id, "session_id": "s", "event_id": event_id}
    again = {"event_type": "page_view", "url": url, "session_id": "s", "event_id": event_id}
    auth = stack.demo_auth(0)
    assert stack.request("POST", "/v1/events", body={"events": [first]}, auth=auth).status == 200
    assert stack.request("POST", "/v1/events", body={"events": [again]}, auth=auth).status == 200

    stack.drain()
    assert stack.request("POST", "/__local/compact", body={}).json()["status"] == "SUCCEEDED"
    clicks = stack.request("GET", f"/button/click/count?button_id={quote(event_id)}", auth=auth).json()
    views = stack.request("GET", f"/web/page_view/count?url={quote(url, safe='')}", auth=auth).json()

    rows = read_compacted(stack.aws("s3"), stack.info["lake_bucket"], compacted_type_prefix("button_click"))
    assert [row["event_id"] for row in rows if row["event_id"] == event_id] == [event_id]
    assert (clicks, views) == ({"count": 1}, {"count": 0})
