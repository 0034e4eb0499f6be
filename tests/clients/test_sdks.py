"""Our own SDKs (clients/python, clients/js): batching, a bounded queue, retries that honour
Retry-After with stable event ids, and every event once in the compacted tables (issue 14)."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import urllib.request
import uuid
from typing import Any

import pytest
from event_collector_client import Client

from tests.clients.conftest import NODE, compacted_ids, issue_key, node_script, settle
from tests.local.conftest import RunningStack


class ScriptedApi:
    """A fake transport for the Python client: answers from a script, records every request."""

    def __init__(self, answers: list[tuple[int, dict[str, str]]]) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, request: urllib.request.Request, timeout: float) -> tuple[int, dict[str, str]]:
        with self.lock:
            assert isinstance(request.data, bytes)
            self.requests.append(
                {"url": request.full_url, "auth": request.get_header("Authorization"), "body": json.loads(request.data)}
            )
            return self.answers.pop(0) if self.answers else (200, {})


def _client(api: ScriptedApi, waits: list[float] | None = None, **options: Any) -> Client:
    settings: dict[str, Any] = {
        "flush_interval": 3600.0,
        "send": api,
        "sleep": (waits.append if waits is not None else lambda _: None),
    }
    settings.update(options)
    return Client("http://api.example/", "key-1", **settings)


def test_python_client_retries_with_the_same_event_ids_and_honours_retry_after() -> None:
    api = ScriptedApi([(503, {"Retry-After": "7"}), (429, {"retry-after": "2"}), (200, {})])
    waits: list[float] = []
    with _client(api, waits, base_delay=0.001) as client:
        ids = [client.track("A", {"i": 1}), client.page("https://x.example/", "s-1")]

    assert len(api.requests) == 3
    assert {tuple(e["event_id"] for e in r["body"]["events"]) for r in api.requests} == {tuple(ids)}
    assert waits == [7.0, 2.0]
    assert api.requests[0]["url"] == "http://api.example/v1/events"
    assert api.requests[0]["auth"] == "Basic " + base64.b64encode(b"key-1:").decode()
    assert (client.stats.sent, client.stats.retried, client.stats.dropped) == (2, 2, 0)


def test_python_client_gives_up_loudly() -> None:
    heard: list[tuple[str, int]] = []
    rejected = ScriptedApi([(400, {})])
    with _client(rejected, on_error=lambda error, events: heard.append((str(error), len(events)))) as client:
        client.track("A")
    assert len(rejected.requests) == 1  # a 400 is never retried
    assert heard == [("the API answered 400; events given up", 1)]

    exhausted = ScriptedApi([(503, {})] * 3)
    with _client(exhausted, max_retries=2) as client:
        client.track("A")
    assert len(exhausted.requests) == 3
    assert (client.stats.sent, client.stats.dropped) == (0, 1)
    assert client.stats.errors == ["the API answered 503; events given up"]


def test_python_client_queue_is_bounded_and_batches_are_capped() -> None:
    api = ScriptedApi([])
    heard: list[str] = []
    client = _client(api, flush_at=10_000, max_queue=3, on_error=lambda error, events: heard.append(str(error)))
    for i in range(5):
        client.track("A", {"i": i})
    assert heard == ["queue full: event dropped"] * 2
    client.close()
    assert [[e["properties"]["i"] for e in r["body"]["events"]] for r in api.requests] == [[0, 1, 2]]

    big = ScriptedApi([])
    with _client(big, flush_at=10_000, max_queue=2_000) as client:
        for _ in range(1_200):
            client.track("X")
    sizes = [len(r["body"]["events"]) for r in big.requests]
    assert max(sizes) == 500  # flush_at is capped at the API's 500 per request
    assert sum(sizes) == 1_200
    with pytest.raises(RuntimeError, match="closed"):
        client.track("late")


def test_python_client_flushes_in_the_background_when_a_batch_is_full() -> None:
    sent = threading.Event()

    class Signalling(ScriptedApi):
        def __call__(self, request: urllib.request.Request, timeout: float) -> tuple[int, dict[str, str]]:
            answer = super().__call__(request, timeout)
            sent.set()
            return answer

    api = Signalling([])
    client = _client(api, flush_at=2)
    client.track("A")
    client.track("B")
    assert sent.wait(timeout=30), "the background thread did not send a full batch"
    client.close()
    assert [len(r["body"]["events"]) for r in api.requests] == [2]


def test_python_client_against_the_stack(stack: RunningStack) -> None:
    tenant = "sdk-python"
    key = issue_key(stack, tenant)
    with Client(stack.info["api_url"], key, flush_at=7) as client:
        ids = [client.track("Python SDK", {"i": i}) for i in range(20)]
        ids.append(client.page("https://py.example/", "s-1"))
        ids.append(client.click("buy", "s-1"))
    assert (client.stats.sent, client.stats.dropped, client.stats.errors) == (22, 0, [])
    settle(stack)
    assert compacted_ids(stack, tenant, "") == dict.fromkeys(ids, 1)


def test_js_sdk_unit_behaviour() -> None:
    result = subprocess.run(
        [NODE, str(node_script("sdk_unit.mjs"))], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)

    retry = facts["retry"]
    assert retry["calls"] == 3
    assert retry["sameEvents"]
    assert retry["idsInBody"] == retry["ids"]
    assert retry["waits"] == [7000, 2000]
    assert retry["url"] == "http://api.example/v1/events"
    assert retry["auth"] == "Basic " + base64.b64encode(b"k1:").decode()
    assert retry["stats"] == {"queued": 2, "sent": 2, "dropped": 0, "retried": 2}

    assert facts["rejected"]["calls"] == 1
    assert facts["rejected"]["errors"] == [["the API answered 400; events given up", 1]]
    assert facts["exhausted"]["calls"] == 3
    assert facts["exhausted"]["stats"]["dropped"] == 1
    assert facts["bounded"]["queued"] == 3
    assert facts["bounded"]["errors"] == ["queue full: event dropped"] * 2
    assert facts["batching"]["before"] == 0
    sizes = facts["batching"]["sizes"]
    assert sizes[0] == 3
    assert sum(sizes) == 1203
    assert max(sizes) == 500


def test_js_sdk_in_node_against_the_stack(stack: RunningStack) -> None:
    tenant = "sdk-node"
    key = issue_key(stack, tenant)
    run = f"js-{uuid.uuid4().hex[:8]}"
    result = subprocess.run(
        [NODE, str(node_script("sdk_node.mjs")), stack.info["api_url"], key, run, "30"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["errors"] == []
    assert output["stats"]["sent"] == 30
    settle(stack)
    assert compacted_ids(stack, tenant, run) == {f"{run}-{i}": 1 for i in range(30)}
