"""The local gateway's own defences: one credential per request, local-only routes for this stack only."""

from __future__ import annotations

import base64
import http.client
import json

import pytest

from tests.local.conftest import RunningStack


def raw_request(stack: RunningStack, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b""):
    """http.client, so duplicate headers and any Host go out exactly as given."""
    connection = http.client.HTTPConnection("127.0.0.1", stack.api_port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def basic(tenant: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{tenant}:{key}".encode()).decode()


def test_given_two_authorization_headers_when_posting_then_401_and_nothing_stored(local_stack: RunningStack):
    first, second = local_stack.demo_auth(0), local_stack.demo_auth(1)
    host = ("Host", f"127.0.0.1:{local_stack.api_port}")
    body = json.dumps({"events": [{"event_type": "track", "name": "two-headers"}]}).encode()
    raw = local_stack.aws("s3")
    before = raw.list_objects_v2(Bucket=local_stack.info["raw_bucket"]).get("KeyCount", 0)

    for headers in (
        [("Authorization", basic(*first)), ("Authorization", basic(*second))],
        [("Authorization", basic(*first)), ("authorization", basic(*first))],
        [("Authorization", basic(*first)), ("Authorization", "Basic bm9ib2R5Ong=")],
    ):
        status, answer = raw_request(
            local_stack, "POST", "/v1/events", [host, ("Content-Type", "application/json"), *headers], body
        )
        assert status == 401, answer
        assert json.loads(answer)["error"] == "unauthorized"
    assert raw.list_objects_v2(Bucket=local_stack.info["raw_bucket"]).get("KeyCount", 0) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/demo"),
        ("GET", "/dashboard"),
        ("GET", "/dashboard/api/tenants"),
        ("GET", "/dashboard/api/counts"),
        ("GET", "/dashboard/api/rejections"),
        ("POST", "/__local/drain"),
        ("POST", "/__local/compact"),
    ],
)
@pytest.mark.parametrize("host", ["evil.example:{port}", "attacker.test", "127.0.0.1:1", "localhost.evil:{port}"])
def test_given_a_foreign_host_when_a_local_only_route_is_called_then_403(local_stack: RunningStack, method, path, host):
    status, answer = raw_request(local_stack, method, path, [("Host", host.format(port=local_stack.api_port))])

    assert status == 403
    assert json.loads(answer)["error"] == "forbidden_host"


def test_given_another_origin_when_a_local_write_route_is_called_then_403(local_stack: RunningStack):
    host = ("Host", f"127.0.0.1:{local_stack.api_port}")

    status, answer = raw_request(local_stack, "POST", "/__local/drain", [host, ("Origin", "https://evil.example")])
    own_status, _ = raw_request(
        local_stack, "POST", "/__local/drain", [host, ("Origin", f"http://127.0.0.1:{local_stack.api_port}")]
    )

    assert (status, json.loads(answer)["error"]) == (403, "forbidden_origin")
    assert own_status == 200


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}"])
def test_given_the_stack_own_address_when_the_dashboard_is_loaded_then_it_answers(local_stack: RunningStack, host):
    own = [("Host", host.format(port=local_stack.api_port))]

    status, page = raw_request(local_stack, "GET", "/dashboard", own)
    tenants_status, _ = raw_request(local_stack, "GET", "/dashboard/api/tenants", own)

    assert (status, tenants_status) == (200, 200)
    assert b"<html" in page
