"""Our own SDKs (clients/python, clients/js): batching within the API's limits, a bounded queue,
retries that honour Retry-After with stable event ids, rejections reported, flush on interval and
at exit, and every event once in the compacted tables (issue 14)."""

from __future__ import annotations

import atexit
import base64
import email.utils
import http.server
import json
import re
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from event_collector_client import Client, DeliveryError

from tests.clients.conftest import NODE, compacted_ids, issue_key, node_script, settle
from tests.fakes.site import serve, stop
from tests.local.conftest import RunningStack
from tools.template import ROOT

Answer = tuple[int, dict[str, str]] | tuple[int, dict[str, str], Any]


class ScriptedApi:
    """A fake transport for the Python client: answers from a script, records every request.

    An answer is ``(status, headers)`` or ``(status, headers, JSON body)``; past the script, 200.
    """

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, request: urllib.request.Request, timeout: float) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            assert isinstance(request.data, bytes)
            self.requests.append(
                {
                    "url": request.full_url,
                    "auth": request.get_header("Authorization"),
                    "body": json.loads(request.data),
                    "size": len(request.data),
                }
            )
            answer = self.answers.pop(0) if self.answers else (200, {})
            body = json.dumps(answer[2]).encode() if len(answer) == 3 else b""
            return answer[0], answer[1], body


class SignallingApi(ScriptedApi):
    """A scripted API that sets ``sent`` once a request arrived (a test waits on it, not on the clock)."""

    def __init__(self, answers: list[Answer]) -> None:
        super().__init__(answers)
        self.sent = threading.Event()

    def __call__(self, request: urllib.request.Request, timeout: float) -> tuple[int, dict[str, str], bytes]:
        answer = super().__call__(request, timeout)
        self.sent.set()
        return answer


class Recorder:
    """A local HTTP API that stores every batch POSTed to /v1/events and answers ``status``.

    It records a request before answering it, so a client that got its answer has been recorded.
    """

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                batch = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))["events"]
                recorder.events.extend(batch)
                body = json.dumps({"accepted": len(batch), "rejected": []} if status == 200 else {}).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server, self.url = serve(Handler)

    def close(self) -> None:
        stop(self.server)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    running = Recorder()
    yield running
    running.close()


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


def test_given_a_registered_type_when_sent_with_the_python_client_then_its_fields_and_envelope_are_posted() -> None:
    api = ScriptedApi([(200, {})])
    with _client(api) as client:
        event_id = client.send("order_completed", {"order_id": "A-1", "total": 12}, user_id="u-1", event_id="e-1")

    (event,) = api.requests[0]["body"]["events"]
    assert event_id == "e-1"
    assert {k: event[k] for k in ("event_type", "event_id", "order_id", "total", "user_id")} == {
        "event_type": "order_completed",
        "event_id": "e-1",
        "order_id": "A-1",
        "total": 12,
        "user_id": "u-1",
    }
    assert isinstance(event["timestamp"], int)


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
    api = SignallingApi([])
    sent = api.sent
    client = _client(api, flush_at=2)
    client.track("A")
    client.track("B")
    assert sent.wait(timeout=30), "the background thread did not send a full batch"
    client.close()
    assert [len(r["body"]["events"]) for r in api.requests] == [2]


def test_python_client_flushes_on_its_interval() -> None:
    api = SignallingApi([])
    sent = api.sent
    client = _client(api, flush_at=1_000, flush_interval=0.01)  # neither full nor flushed: the timer sends
    client.track("A")
    client.track("B")
    assert sent.wait(timeout=30), "the background thread did not send on its interval"
    client.close()
    assert [len(r["body"]["events"]) for r in api.requests] == [2]


def test_python_client_reports_the_events_the_api_rejects(caplog: pytest.LogCaptureFixture) -> None:
    api = ScriptedApi(
        [
            (200, {}, {"accepted": 1, "rejected": [{"index": 1, "event_id": "bad-1", "errors": ["name: too long"]}]}),
            (
                400,
                {},
                {
                    "error": "no_valid_events",
                    "message": "No event is valid",
                    "details": [{"index": 0, "event_id": "bad-2", "errors": ["url: missing", "x: unknown"]}],
                },
            ),
            (400, {}, {"error": "invalid_request", "message": "events: required"}),
        ]
    )
    heard: list[tuple[Exception, list[str]]] = []
    client = _client(
        api, flush_at=1_000, on_error=lambda error, events: heard.append((error, [e["event_id"] for e in events]))
    )
    client.track("fine", event_id="good-1")
    client.track("x" * 200, event_id="bad-1")
    client.flush()
    client.page("https://x.example/", "s-1", event_id="bad-2")
    client.flush()
    client.track("A", event_id="bad-3")
    client.close()

    assert len(api.requests) == 3  # never retried
    assert [(str(error), ids) for error, ids in heard] == [
        ("the API rejected 1 event(s): bad-1: name: too long", ["bad-1"]),
        ("the API rejected 1 event(s): bad-2: url: missing, x: unknown", ["bad-2"]),
        ("the API answered 400 (invalid_request: events: required); events given up", ["bad-3"]),
    ]
    first, second, third = (error for error, _ in heard)
    assert isinstance(first, DeliveryError)
    assert isinstance(second, DeliveryError)
    assert isinstance(third, DeliveryError)
    assert first.rejected == [{"index": 1, "event_id": "bad-1", "errors": ["name: too long"]}]
    assert (second.status, len(second.rejected)) == (400, 1)
    assert (third.status, third.code) == (400, "invalid_request")
    stats = client.stats
    assert (stats.sent, stats.dropped, stats.rejected, stats.retried) == (1, 3, 2, 0)
    assert [r.getMessage() for r in caplog.records if r.name == "event_collector_client"] == stats.errors


def test_python_client_batches_within_the_api_body_and_event_limits() -> None:
    api = ScriptedApi([])
    heard: list[tuple[str, int]] = []
    client = _client(
        api, flush_at=1_000, max_queue=2_000, on_error=lambda e, events: heard.append((str(e), len(events)))
    )
    big = "é" * 10_000  # 10,000 characters, 20,000 bytes
    for i in range(120):
        client.track("big", {"i": i, "big": big})
    huge = client.track("huge", {"text": "x" * 40_000})  # over the 32 KiB per event: never sent
    client.track("after")
    client.close()

    assert len(api.requests) > 1
    assert max(r["size"] for r in api.requests) <= 1024 * 1024
    assert sum(len(r["body"]["events"]) for r in api.requests) == 121
    assert len(heard) == 1
    assert re.fullmatch(rf"event {huge} is 40\d\d\d bytes, over 32768: dropped", heard[0][0])
    assert (client.stats.queued, client.stats.sent, client.stats.dropped) == (121, 121, 1)
    with _client(api) as client, pytest.raises(ValueError, match="not JSON compliant"):
        client.track("nan", {"x": float("nan")})  # not JSON: refused to the caller, not sunk with the batch


def test_python_client_caps_retry_after_and_reads_its_date_form() -> None:
    def in_seconds(seconds: float) -> str:
        return email.utils.formatdate(time.time() + seconds, usegmt=True)

    answers: list[Answer] = [
        (503, {"Retry-After": "3600"}),
        (503, {"Retry-After": in_seconds(86_400)}),
        (503, {"Retry-After": in_seconds(30)}),
        (503, {"Retry-After": in_seconds(-3_600)}),
        (503, {"Retry-After": "soon"}),
    ]
    waits: list[float] = []
    with _client(ScriptedApi(answers), waits, base_delay=0.001, max_retries=9) as client:
        client.track("A")
    assert waits[:2] == [60.0, 60.0]
    assert 28 <= waits[2] <= 30
    assert all(0 <= wait <= 0.016 for wait in waits[3:])
    assert client.stats.sent == 1

    capped: list[float] = []
    with _client(ScriptedApi([(429, {"Retry-After": "120"})]), capped, max_delay=5.0) as client:
        client.track("A")
    assert capped == [5.0]


def test_python_client_close_with_a_timeout_gives_up_loudly() -> None:
    api = ScriptedApi([(503, {"Retry-After": "30"})] * 10)
    heard: list[str] = []
    client = Client(
        "http://api.example", "k", send=api, flush_interval=3600, on_error=lambda e, _: heard.append(str(e))
    )
    client.track("A")
    client.close(timeout=5)  # a 30 s wait does not fit in 5 s: given up now, and said so
    assert heard == ["the API answered 503; events given up"]
    assert (len(api.requests), client.stats.dropped) == (1, 1)


EXIT_SCRIPT = """
import sys
from event_collector_client import Client

url, run, count, exit_timeout = sys.argv[1:]
client = Client(url, "k1", flush_at=1000, flush_interval=3600, exit_timeout=float(exit_timeout))
for i in range(int(count)):
    client.track("Exit", {"i": i}, event_id=f"{run}-{i}")
# no close(): the atexit hook sends
"""


def test_python_client_sends_at_exit_without_close(recorder: Recorder) -> None:
    run = f"exit-{uuid.uuid4().hex[:8]}"
    result = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT, recorder.url, run, "5", "10"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(event["event_id"] for event in recorder.events) == [f"{run}-{i}" for i in range(5)]


def test_python_client_exit_is_bounded_and_reports_what_it_gives_up() -> None:
    unavailable = Recorder(503, {"Retry-After": "3600"})
    try:
        result = subprocess.run(
            [sys.executable, "-c", EXIT_SCRIPT, unavailable.url, "gone", "2", "1"],
            capture_output=True,
            text=True,
            timeout=60,  # the hook gives itself 1 s; the process would otherwise wait an hour
            check=False,
        )
    finally:
        unavailable.close()
    assert result.returncode == 0, result.stderr
    assert "the API answered 503; events given up" in result.stderr  # the logger's warning
    assert len(unavailable.events) == 2


def test_python_client_close_removes_its_exit_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    hooks: list[Any] = []
    monkeypatch.setattr(atexit, "register", hooks.append)
    monkeypatch.setattr(atexit, "unregister", hooks.remove)
    client = _client(ScriptedApi([]))
    assert len(hooks) == 1
    client.close()
    assert hooks == []  # a closed client is not kept alive, nor flushed again, at exit


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
    assert retry["stats"] == {"queued": 2, "sent": 2, "dropped": 0, "rejected": 0, "retried": 2}

    custom = facts["custom"]["event"]
    assert facts["custom"]["id"] == "e-1"
    assert {k: custom[k] for k in ("event_type", "event_id", "order_id", "total", "user_id")} == {
        "event_type": "order_completed",
        "event_id": "e-1",
        "order_id": "A-1",
        "total": 12,
        "user_id": "user-9",
    }
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

    # Rejections in a 200 (and a 400 no_valid_events) are reported with the API's reasons, never retried.
    partial = facts["partial"]
    assert partial["calls"] == 3
    assert partial["heard"] == [
        {
            "message": "the API rejected 1 event(s): bad-1: name: too long, x: unknown",
            "rejected": [{"index": 1, "event_id": "bad-1", "errors": ["name: too long", "x: unknown"]}],
            "status": 200,
            "ids": ["bad-1"],
        },
        {
            "message": "the API rejected 1 event(s): bad-2: url: missing",
            "rejected": [{"index": 0, "event_id": "bad-2", "errors": ["url: missing"]}],
            "status": 400,
            "ids": ["bad-2"],
        },
        {
            "message": "the API answered 400 (invalid_request: events: required); events given up",
            "status": 400,
            "ids": ["bad-3"],
        },
    ]
    assert partial["logged"] == ["event-collector: " + heard["message"] for heard in partial["heard"]]
    assert partial["stats"] == {"queued": 4, "sent": 1, "dropped": 3, "rejected": 2, "retried": 0}

    # Batches within 1 MiB of UTF-8; an event over 32 KiB dropped at once, the queue goes on.
    sized = facts["sized"]
    assert sized["queued"] == 121
    assert sized["heard"] == [[f"event {sized['huge']} is 40257 bytes, over the 32768 per event: dropped", 1]]
    assert len(sized["bodies"]) > 1
    assert max(sized["bodies"]) <= 1024 * 1024
    assert sum(sized["counts"]) == 121
    assert sized["keepalive"] == [False] * len(sized["bodies"])  # keepalive bodies stay under 64 KB
    assert sized["stats"] == {"queued": 121, "sent": 121, "dropped": 1, "rejected": 0, "retried": 0}

    # Retry-After: seconds capped at maxDelay, an HTTP date honoured (and capped), a past or unreadable one
    # falls back to the back-off (baseDelay 1 ms).
    waits = facts["retryAfter"]["waits"]
    assert waits[:2] == [60000, 60000]
    assert 28000 <= waits[2] <= 30000
    assert all(0 <= wait <= 16 for wait in waits[3:])
    assert facts["retryAfter"]["capped"] == [5000]
    assert facts["retryAfter"]["stats"]["sent"] == 1

    assert facts["interval"] == {"outcome": "sent", "calls": [2]}

    # Beacons under 64 KB each; one refused (the browser's 64 KB in flight used up) leaves the rest queued.
    beacon = facts["beacon"]
    assert beacon["urls"] == ["http://api.example/v1/events?writeKey=pk%201"]
    assert all(size < 64_000 for size in beacon["sizes"])
    assert (beacon["first"], beacon["left"], beacon["second"], beacon["third"]) == (5, 7, 5, 0)
    assert beacon["beaconIds"] == beacon["ids"][:10]
    assert (beacon["calls"], beacon["sent"]) == (1, 12)  # the last 2 by fetch, on close


def test_js_sdk_in_node_sends_at_exit_without_close(recorder: Recorder) -> None:
    run = f"exit-{uuid.uuid4().hex[:8]}"
    result = subprocess.run(
        [NODE, str(node_script("sdk_exit.mjs")), recorder.url, run, "5"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(event["event_id"] for event in recorder.events) == [f"{run}-{i}" for i in range(5)]


def test_the_snippet_and_the_docs_show_the_same_script() -> None:
    snippet = (ROOT / "clients" / "js" / "snippet.html").read_text()
    docs = (ROOT / "docs" / "clients.md").read_text()
    script = re.search(r"<script type=\"module\">.*?</script>", snippet, re.DOTALL)
    assert script
    assert f"```html\n{script.group(0)}\n```" in docs
    assert "/sdk/collector.js" not in script.group(0)  # a deployed API does not serve the SDK


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
