"""The local gateway's own defences: one credential per request, local-only routes for this stack only;
and the local AWS emulator's: its own address only, no CORS, nothing started by another site's page."""

from __future__ import annotations

import base64
import http.client
import json

import pytest

from tests.local.conftest import RunningStack


def raw_request(
    stack: RunningStack,
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    body: bytes = b"",
    port: int | None = None,
    answer_headers: dict[str, str] | None = None,
):
    """http.client, so duplicate headers and any Host go out exactly as given (to the gateway unless ``port``)."""
    connection = http.client.HTTPConnection("127.0.0.1", port or stack.api_port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        if answer_headers is not None:
            answer_headers.update({name.lower(): value for name, value in response.getheaders()})
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


# -- the local AWS emulator (LOCAL_AWS_PORT) ---------------------------------------------------------
# What a page on another site could send it: a fetch() may set Authorization and X-Amz-Target itself.
SIGNED = "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
LIST_TABLES = [
    ("X-Amz-Target", "DynamoDB_20120810.ListTables"),
    ("Content-Type", "application/x-amz-json-1.0"),
    ("Authorization", SIGNED.format(service="dynamodb")),
]
LIST_BUCKETS = [("Authorization", SIGNED.format(service="s3"))]


def emulator(stack: RunningStack, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b""):
    seen: dict[str, str] = {}
    status, answer = raw_request(stack, method, path, headers, body, port=stack.aws_port, answer_headers=seen)
    return status, answer, seen


@pytest.mark.parametrize("host", ["evil.example:{port}", "attacker.test", "127.0.0.1:1", "localhost.evil:{port}", ""])
def test_given_a_foreign_host_when_the_emulator_is_called_then_403_and_no_data(local_stack: RunningStack, host):
    """DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 sends its own Host."""
    headers = [("Host", host.format(port=local_stack.aws_port))] if host else []

    tables = emulator(local_stack, "POST", "/", [*headers, *LIST_TABLES], b"{}")
    buckets = emulator(local_stack, "GET", "/", [*headers, *LIST_BUCKETS])

    for status, answer, _ in (tables, buckets):
        assert (status, json.loads(answer)["error"]) == (403, "forbidden_host")
        assert b"TenantKeysTable" not in answer
        assert b"lake" not in answer


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:1", "http://localhost.evil"])
@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "evil.example:{port}"])
def test_given_another_origin_when_a_preflight_reaches_the_emulator_then_no_cors_allow(
    local_stack: RunningStack, origin, host
):
    preflight = [
        ("Host", host.format(port=local_stack.aws_port)),
        ("Origin", origin),
        ("Access-Control-Request-Method", "POST"),
        ("Access-Control-Request-Headers", "authorization,content-type,x-amz-target"),
    ]

    status, _, headers = emulator(local_stack, "OPTIONS", "/", preflight)
    call_status, answer, call_headers = emulator(
        local_stack, "POST", "/", [preflight[0], ("Origin", origin), *LIST_TABLES], b"{}"
    )

    assert status == 403
    assert not [name for name in (*headers, *call_headers) if name.startswith("access-control-")]
    assert call_status == 403
    assert b"TableNames" not in answer


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_given_a_request_another_page_started_when_it_reaches_the_emulator_then_403(local_stack: RunningStack, site):
    """An <img> or <script> from another page carries no Origin, but the browser says who started it."""
    headers = [("Host", f"127.0.0.1:{local_stack.aws_port}"), ("Sec-Fetch-Site", site), *LIST_BUCKETS]

    status, answer, _ = emulator(local_stack, "GET", "/", headers)

    assert (status, json.loads(answer)["error"]) == (403, "forbidden_origin")


def test_given_no_cors_for_anyone_when_the_emulator_own_origin_calls_then_it_answers_without_cors(
    local_stack: RunningStack,
):
    own = f"127.0.0.1:{local_stack.aws_port}"

    status, answer, headers = emulator(
        local_stack, "POST", "/", [("Host", own), ("Origin", f"http://{own}"), *LIST_TABLES], b"{}"
    )

    assert status == 200
    assert b"TenantKeysTable" in answer
    assert not [name for name in headers if name.startswith("access-control-")]


def test_given_the_name_sam_local_containers_use_when_the_emulator_is_called_then_it_answers(
    local_stack: RunningStack,
):
    """`sam local`'s Lambda containers reach the emulator as host.docker.internal (local/sam_env.py)."""
    headers = [("Host", f"host.docker.internal:{local_stack.aws_port}"), *LIST_TABLES]

    status, answer, _ = emulator(local_stack, "POST", "/", headers, b"{}")

    assert status == 200
    assert local_stack.info["keys_table"] in json.loads(answer)["TableNames"]


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:{port}", "http://localhost:{port}"])
def test_given_the_emulator_endpoint_when_boto3_calls_it_then_it_works(local_stack: RunningStack, endpoint):
    import boto3

    def client(service: str):
        return boto3.client(
            service,
            endpoint_url=endpoint.format(port=local_stack.aws_port),
            region_name=local_stack.info["region"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    tables = client("dynamodb").list_tables()["TableNames"]
    buckets = [bucket["Name"] for bucket in client("s3").list_buckets()["Buckets"]]
    client("s3").put_object(Bucket=local_stack.info["lake_bucket"], Key="security-test/own.txt", Body=b"own")

    assert local_stack.info["keys_table"] in tables
    assert local_stack.info["lake_bucket"] in buckets


@pytest.mark.parametrize(
    ("host", "origin", "fetch_site", "refusal"),
    [
        ("127.0.0.1:3001", None, None, None),
        ("LOCALHOST:3001", "http://localhost:3001", "same-origin", None),
        ("my-bucket.localhost:3001", None, "none", None),
        (None, None, None, "forbidden_host"),
        ("127.0.0.1", None, None, "forbidden_host"),
        ("127.0.0.1:3001,evil.example", None, None, "forbidden_host"),
        ("evil.localhost.example:3001", None, None, "forbidden_host"),
        ("127.0.0.1:3001", "https://evil.example", None, "forbidden_origin"),
        ("127.0.0.1:3001", "http://127.0.0.1:3000", None, "forbidden_origin"),
        ("127.0.0.1:3001", None, "cross-site", "forbidden_origin"),
        ("host.docker.internal:3001", None, None, None),
        ("HOST.DOCKER.INTERNAL:3001", None, "none", None),
        ("host.docker.internal", None, None, "forbidden_host"),
        ("host.docker.internal:3000", None, None, "forbidden_host"),
        ("my-bucket.host.docker.internal:3001", None, None, "forbidden_host"),
        ("host.docker.internal.evil.example:3001", None, None, "forbidden_host"),
        ("host.docker.internal:3001", "http://host.docker.internal:3001", None, "forbidden_origin"),
        ("host.docker.internal:3001", "https://evil.example", None, "forbidden_origin"),
        ("host.docker.internal:3001", None, "cross-site", "forbidden_origin"),
    ],
)
def test_emulator_refusal_rules(host, origin, fetch_site, refusal):
    from local.moto_bridge import emulator_refusal

    assert emulator_refusal(3001, host, origin, fetch_site) == refusal


def test_given_a_docker_address_when_the_emulator_starts_then_it_listens_there_too_on_the_same_port(monkeypatch):
    """LOCAL_AWS_DOCKER_ADDRESS: `sam local`'s containers on Linux reach the emulator on the Docker bridge."""
    import werkzeug.serving

    from local.moto_bridge import MotoServer

    bound: list[tuple[str, int]] = []

    class Recorded:
        def __init__(self, host: str, port: int) -> None:
            self.server_address = (host, port or 43210)  # port 0: the system picks one
            bound.append(self.server_address)

        def serve_forever(self) -> None:  # never started here
            raise AssertionError("not started in this test")

    monkeypatch.setattr(werkzeug.serving, "make_server", lambda host, port, *_, **__: Recorded(host, port))

    server = MotoServer("127.0.0.1", 0, also_on=("172.17.0.1",))

    assert bound == [("127.0.0.1", 43210), ("172.17.0.1", 43210)]
    assert server.addresses == bound
