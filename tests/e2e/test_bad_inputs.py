"""Hostile and malformed requests over real HTTP: each gets a 4xx JSON error and changes nothing.

At least 60 distinct cases: encoding tricks, huge numbers, deep nesting, Unicode
edge cases, header abuse, spoofed identity fields, path traversal, oversize
everything. After each, the raw bucket, the lake and the counters are unchanged.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.local.conftest import RunningStack, start_stack, stop_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("bad"), {"LOCAL_READ_TIMEOUT": "1"})
    yield running
    stop_stack(running)


def auth_header(stack: RunningStack, tenant: str | None = None, key: str | None = None) -> str:
    demo_tenant, demo_key = stack.demo_auth()
    raw = f"{tenant or demo_tenant}:{key or demo_key}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def raw_http(stack: RunningStack, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client library tidying them up) and parse the answer."""
    with socket.create_connection(("127.0.0.1", stack.api_port), timeout=15) as connection:
        # The gateway may answer (413) and close before the whole body was sent.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.sendall(request)
        received = b""
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
            head, _, rest = received.partition(b"\r\n\r\n")
            if _ and b"content-length:" in head.lower():
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                if len(rest) >= length:
                    break
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in lines[1:] if ":" in line}
    return status, headers, body


def request(
    stack: RunningStack, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    framing = {} if "Transfer-Encoding" in (headers or {}) else {"Content-Length": str(len(body))}
    all_headers = {"Host": "127.0.0.1", **framing, "Connection": "close", **(headers or {})}
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in all_headers.items()) + "\r\n"
    return raw_http(stack, head.encode("latin-1") + body)


def events(*items: Any) -> bytes:
    return json.dumps({"events": list(items)}).encode()


VIEW = {"event_type": "page_view", "url": "https://x/", "session_id": "s"}
JSON = {"Content-Type": "application/json"}

# (name, method, path, body, extra headers, with_auth, expected statuses)
Case = tuple[str, str, str, bytes, dict[str, str], bool, set[int]]
CASES: list[Case] = [
    # --- credentials and identity ---
    ("no credentials", "POST", "/v1/events", events(VIEW), JSON, False, {401}),
    ("bearer scheme", "POST", "/v1/events", events(VIEW), {**JSON, "Authorization": "Bearer abc"}, False, {401}),
    ("basic without credentials", "POST", "/v1/events", events(VIEW), {**JSON, "Authorization": "Basic"}, False, {401}),
    (
        "credentials not base64",
        "POST",
        "/v1/events",
        events(VIEW),
        {**JSON, "Authorization": "Basic ***"},
        False,
        {401},
    ),
    (
        "credentials without colon",
        "POST",
        "/v1/events",
        events(VIEW),
        {**JSON, "Authorization": "Basic " + base64.b64encode(b"demo").decode()},
        False,
        {401},
    ),
    (
        "credentials not UTF-8",
        "POST",
        "/v1/events",
        events(VIEW),
        {**JSON, "Authorization": "Basic " + base64.b64encode(b"demo:\xff\xfe").decode()},
        False,
        {401},
    ),
    (
        "tenant with traversal",
        "POST",
        "/v1/events",
        events(VIEW),
        {**JSON, "Authorization": "Basic " + base64.b64encode(b"../demo:k").decode()},
        False,
        {401},
    ),
    (
        "tenant upper case",
        "POST",
        "/v1/events",
        events(VIEW),
        {**JSON, "Authorization": "Basic " + base64.b64encode(b"DEMO:k").decode()},
        False,
        {401},
    ),
    (
        "authorization header 2 KB",
        "POST",
        "/v1/events",
        events(VIEW),
        {**JSON, "Authorization": "Basic " + "A" * 2048},
        False,
        {401},
    ),
    (
        "wrong key",
        "POST",
        "/v1/events",
        events(VIEW),
        {**JSON, "Authorization": "Basic " + base64.b64encode(b"demo:k0123456789abcdef." + b"A" * 43).decode()},
        False,
        {403},
    ),
    (
        "unknown tenant",
        "POST",
        "/v1/events",
        events(VIEW),
        {**JSON, "Authorization": "Basic " + base64.b64encode(b"nobody:k0123456789abcdef." + b"A" * 43).decode()},
        False,
        {403},
    ),
    ("spoofed tenant field", "POST", "/v1/events", events({**VIEW, "tenant": "demo-two"}), JSON, True, {400}),
    ("spoofed received_at", "POST", "/v1/events", events({**VIEW, "received_at": 1}), JSON, True, {400}),
    (
        "seed body with a NUL in button_id",
        "POST",
        "/button/click",
        json.dumps({"session_id": "s", "button_id": "b\u0000"}).encode(),
        JSON,
        True,
        {422},
    ),
    # --- JSON and encoding ---
    ("malformed JSON", "POST", "/v1/events", b"{events: [}", JSON, True, {400}),
    ("truncated JSON", "POST", "/v1/events", b'{"events": [{"event_type": "page_view"', JSON, True, {400}),
    ("empty body", "POST", "/v1/events", b"", JSON, True, {400}),
    ("whitespace body", "POST", "/v1/events", b"   \n ", JSON, True, {400}),
    (
        "NaN literal",
        "POST",
        "/v1/events",
        b'{"events": [{"event_type": "track", "name": "n", "properties": {"x": NaN}}]}',
        JSON,
        True,
        {400},
    ),
    (
        "Infinity literal",
        "POST",
        "/v1/events",
        b'{"events": [{"event_type": "track", "name": "n", "properties": {"x": -Infinity}}]}',
        JSON,
        True,
        {400},
    ),
    (
        "10,000-digit integer",
        "POST",
        "/v1/events",
        b'{"events": [{"event_type": "track", "name": "n", "properties": {"x": ' + b"9" * 10000 + b"}}]}",
        JSON,
        True,
        {400},
    ),
    (
        "integer over 64 bits",
        "POST",
        "/v1/events",
        events({"event_type": "track", "name": "n", "properties": {"x": 2**70}}),
        JSON,
        True,
        {400},
    ),
    (
        "float overflow to infinity",
        "POST",
        "/v1/events",
        b'{"events": [{"event_type": "track", "name": "n", "properties": {"x": 1e999}}]}',
        JSON,
        True,
        {400},
    ),
    (
        "nesting 100,000 deep",
        "POST",
        "/v1/events",
        b'{"events": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        JSON,
        True,
        {400},
    ),
    (
        "properties nested 20 deep",
        "POST",
        "/v1/events",
        events({"event_type": "track", "name": "n", "properties": json.loads('{"a":' * 20 + "1" + "}" * 20)}),
        JSON,
        True,
        {400},
    ),
    ("UTF-8 byte order mark", "POST", "/v1/events", b"\xef\xbb\xbf" + events(VIEW), JSON, True, {400}),
    ("UTF-16 body", "POST", "/v1/events", events(VIEW).decode().encode("utf-16"), JSON, True, {400}),
    (
        "overlong UTF-8",
        "POST",
        "/v1/events",
        b'{"events": [{"event_type": "page_view", "url": "\xc0\xaf", "session_id": "s"}]}',
        JSON,
        True,
        {400},
    ),
    (
        "lone surrogate escape",
        "POST",
        "/v1/events",
        b'{"events": [{"event_type": "page_view", "url": "https://x/\\ud800", "session_id": "s"}]}',
        JSON,
        True,
        {400},
    ),
    ("NUL in url", "POST", "/v1/events", events({**VIEW, "url": "https://x/\u0000"}), JSON, True, {400}),
    ("C1 control in url", "POST", "/v1/events", events({**VIEW, "url": "https://x/\u0085"}), JSON, True, {400}),
    (
        "line separator in track name",
        "POST",
        "/v1/events",
        events({"event_type": "track", "name": "a\u2028b"}),
        JSON,
        True,
        {400},
    ),
    (
        "escape character in button id",
        "POST",
        "/v1/events",
        events({"event_type": "button_click", "button_id": "b\u001b[31m", "session_id": "s"}),
        JSON,
        True,
        {400},
    ),
    ("RTL override in event id", "POST", "/v1/events", events({**VIEW, "event_id": "e\u202eevil"}), JSON, True, {400}),
    # --- schema ---
    ("top-level array", "POST", "/v1/events", json.dumps([VIEW]).encode(), JSON, True, {400}),
    ("top-level string", "POST", "/v1/events", b'"events"', JSON, True, {400}),
    ("top-level null", "POST", "/v1/events", b"null", JSON, True, {400}),
    ("events not a list", "POST", "/v1/events", b'{"events": {"0": {}}}', JSON, True, {400}),
    ("events empty", "POST", "/v1/events", b'{"events": []}', JSON, True, {400}),
    ("unknown envelope field", "POST", "/v1/events", b'{"events": [], "tenant": "demo-two"}', JSON, True, {400}),
    (
        "sent_at a word",
        "POST",
        "/v1/events",
        b'{"events": [{"event_type": "track", "name": "n"}], "sent_at": "now"}',
        JSON,
        True,
        {400},
    ),
    ("event is a number", "POST", "/v1/events", events(5), JSON, True, {400}),
    ("unknown event type", "POST", "/v1/events", events({"event_type": "purchase"}), JSON, True, {400}),
    ("event type with traversal", "POST", "/v1/events", events({"event_type": "../../quarantine"}), JSON, True, {400}),
    # Event ids are data (any printable text, never part of a key: test_exact_data_http.py stores
    # "../../other-tenant/x"); what is refused is what cannot be printed or is too long.
    ("event id with a newline", "POST", "/v1/events", events({**VIEW, "event_id": "a\nb"}), JSON, True, {400}),
    ("event id of 257 characters", "POST", "/v1/events", events({**VIEW, "event_id": "e" * 257}), JSON, True, {400}),
    (
        "session id of 1,025 characters",
        "POST",
        "/v1/events",
        events({**VIEW, "session_id": "s" * 1025}),
        JSON,
        True,
        {400},
    ),
    ("url as number", "POST", "/v1/events", events({**VIEW, "url": 42}), JSON, True, {400}),
    (
        "url 9,000 characters",
        "POST",
        "/v1/events",
        events({**VIEW, "url": "https://x/" + "a" * 9000}),
        JSON,
        True,
        {400},
    ),
    ("timestamp as boolean", "POST", "/v1/events", events({**VIEW, "timestamp": True}), JSON, True, {400}),
    (
        "timestamp year 3000",
        "POST",
        "/v1/events",
        events({**VIEW, "timestamp": "3000-01-01T00:00:00Z"}),
        JSON,
        True,
        {400},
    ),
    (
        "timestamp without time zone",
        "POST",
        "/v1/events",
        events({**VIEW, "timestamp": "2026-01-01T00:00:00"}),
        JSON,
        True,
        {400},
    ),
    ("extra field on page_view", "POST", "/v1/events", events({**VIEW, "admin": True}), JSON, True, {400}),
    # --- size limits ---
    ("501 events", "POST", "/v1/events", events(*([VIEW] * 501)), JSON, True, {413}),
    ("body over 1 MiB", "POST", "/v1/events", events({**VIEW, "url": "x" * (1024 * 1024)}), JSON, True, {413}),
    (
        "body over 10 MiB (gateway limit)",
        "POST",
        "/v1/events",
        b"{" + b" " * (10 * 1024 * 1024 + 10) + b"}",
        JSON,
        True,
        {413},
    ),
    (
        "single event over 32 KiB",
        "POST",
        "/v1/events",
        events({"event_type": "track", "name": "n", "properties": {"p": "x" * 33_000}}),
        JSON,
        True,
        {400},
    ),
    # --- content type and methods ---
    ("XML body", "POST", "/v1/events", events(VIEW), {"Content-Type": "application/xml"}, True, {415}),
    (
        "form-encoded body",
        "POST",
        "/v1/events",
        b"events=1",
        {"Content-Type": "application/x-www-form-urlencoded"},
        True,
        {415},
    ),
    (
        "multipart body",
        "POST",
        "/v1/events",
        b"--x\r\n\r\n--x--",
        {"Content-Type": "multipart/form-data; boundary=x"},
        True,
        {415},
    ),
    ("PUT on the events route", "PUT", "/v1/events", events(VIEW), JSON, True, {404}),
    ("DELETE on counts", "DELETE", "/v1/counts", b"", {}, True, {404}),
    # --- paths and queries ---
    ("unknown route", "GET", "/v1/admin", b"", {}, True, {404}),
    ("dot-dot in path", "POST", "/v1/../v1/events", events(VIEW), JSON, True, {404}),
    ("encoded dot-dot in path", "POST", "/v1/%2e%2e/v1/events", events(VIEW), JSON, True, {404}),
    ("encoded NUL in path", "GET", "/v1/health%00", b"", {}, True, {404}),
    ("path of 20 KB", "GET", "/v1/" + "a" * 20_000, b"", {}, True, {404, 414}),
    ("counts with unknown type", "GET", "/v1/counts?event_type=purchase", b"", {}, True, {400}),
    (
        "counts with range of a year",
        "GET",
        "/v1/counts?event_type=track&from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        b"",
        {},
        True,
        {400},
    ),
    ("counts with control character key", "GET", "/v1/counts?event_type=track&key=a%0Ab", b"", {}, True, {400}),
    (
        "counts from after to",
        "GET",
        "/v1/counts?event_type=track&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
        b"",
        {},
        True,
        {400},
    ),
    ("click count without button id", "GET", "/button/click/count", b"", {}, True, {422}),
    ("page view count with 9,000-character url", "GET", "/web/page_view/count?url=" + "a" * 9000, b"", {}, True, {422}),
    (
        "click with a numeric button id",
        "POST",
        "/button/click",
        json.dumps({"session_id": "s", "button_id": 7}).encode(),
        JSON,
        True,
        {422},
    ),
    (
        "page view url not a string",
        "POST",
        "/web/page_view",
        json.dumps({"url": [], "session_id": "s"}).encode(),
        JSON,
        True,
        {422},
    ),
    # --- header abuse ---
    ("Content-Length negative", "POST", "/v1/events", b"", {**JSON, "Content-Length": "-5"}, True, {400}),
    ("Content-Length not a number", "POST", "/v1/events", b"", {**JSON, "Content-Length": "ten"}, True, {400}),
    (
        "Content-Length larger than the body",
        "POST",
        "/v1/events",
        events(VIEW),
        {**JSON, "Content-Length": "999"},
        True,
        {400},
    ),
    (
        "chunked transfer encoding",
        "POST",
        "/v1/events",
        b"5\r\nhello\r\n0\r\n\r\n",
        {**JSON, "Transfer-Encoding": "chunked"},
        True,
        {411},
    ),
    (
        "chunked and a Content-Length (an ambiguous length: RFC 9112)",
        "POST",
        "/v1/events",
        b"5\r\nhello\r\n0\r\n\r\n",
        {**JSON, "Transfer-Encoding": "chunked", "Content-Length": "14"},
        True,
        {400},
    ),
    ("header line of 70 KB", "GET", "/v1/health", b"", {"X-Big": "a" * 70_000}, True, {431, 400}),
    ("200 headers", "GET", "/v1/counts?event_type=track", b"", {f"X-H{i}": "v" for i in range(200)}, True, {431}),
]


def test_the_suite_has_at_least_sixty_distinct_cases():
    assert len({case[0] for case in CASES}) == len(CASES) >= 60


def snapshot(stack: RunningStack) -> dict[str, Any]:
    stack.request("POST", "/__local/drain")
    s3, dynamodb = stack.aws("s3"), stack.aws("dynamodb")
    info = stack.info

    def objects(bucket: str) -> list[str]:
        return sorted(
            o["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])
        )

    def items(table: str) -> list[str]:
        return sorted(json.dumps(item, sort_keys=True) for item in dynamodb.scan(TableName=table)["Items"])

    return {
        "raw": objects(info["raw_bucket"]),
        "lake": objects(info["lake_bucket"]),
        "counters": items(info["counters_table"]),
        "keys": items(info["keys_table"]),
    }


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "headers", "with_auth", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_given_a_bad_request_when_sent_then_4xx_json_and_nothing_changes(
    stack, name, method, path, body, headers, with_auth, expected
):
    before = snapshot(stack)
    all_headers = {**({"Authorization": auth_header(stack)} if with_auth else {}), **headers}

    status, response_headers, response_body = request(stack, method, path, body, all_headers)

    assert status in expected, (status, response_body[:300])
    assert 400 <= status < 500
    assert response_headers.get("content-type", "").startswith("application/json")
    answer = json.loads(response_body)
    assert answer.get("message") or answer.get("error")
    assert snapshot(stack) == before
