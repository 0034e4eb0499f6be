"""Authorization over real HTTP through the local gateway, with the authorizer's cache on (issue 10).

The module's stack keeps the template's authorizer cache TTL (300 s), unlike
``local_stack`` (TTL 0): a gateway that cached one credential's decision under
another's, or attributed a request carrying two credentials to either, would
show here as a count read under the wrong tenant.

- More than one ``Authorization`` header on a count route: 401, whatever the
  pair (two tenants, the same credential twice, a valid one with a wrong one),
  and afterwards each credential alone reads its own tenant's counts.
- A publishable key on a count route: 403, with or without an allowed origin.
"""

from __future__ import annotations

import base64
import http.client
import json
import urllib.parse
import uuid
from collections.abc import Iterator

import pytest

from tests.local.conftest import RunningStack, start_stack, stop_stack

DEMO, DEMO_TWO = 0, 1
SENT = {DEMO: 2, DEMO_TWO: 3}  # events of the module's track name per tenant: different, so a mix-up shows


@pytest.fixture(scope="module")
def cached_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("auth"))  # the template's authorizer cache TTL
    yield running
    stop_stack(running)


@pytest.fixture(scope="module")
def track_name(cached_stack: RunningStack) -> str:
    """A track name each demo tenant sent a different number of times (SENT), counted."""
    name = f"auth-{uuid.uuid4().hex[:10]}"
    for index, count in SENT.items():
        events = [{"event_type": "track", "name": name} for _ in range(count)]
        answer = cached_stack.request("POST", "/v1/events", body={"events": events}, auth=cached_stack.demo_auth(index))
        assert answer.status == 200, answer.body
    cached_stack.drain()
    return name


def basic(tenant: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{tenant}:{key}".encode()).decode()


def credential(stack: RunningStack, index: int) -> str:
    return basic(*stack.demo_auth(index))


def wrong(stack: RunningStack) -> str:
    tenant, key = stack.demo_auth(DEMO_TWO)
    return basic(tenant, key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb"))


def publishable(stack: RunningStack, index: int = DEMO) -> tuple[str, str]:
    entry = stack.info["tenants"][index]
    return entry["tenant"], entry["publishable_key"]


def raw_get(
    stack: RunningStack, path: str, headers: list[tuple[str, str]]
) -> tuple[int, dict[str, str], dict[str, object]]:
    """http.client with putheader, so repeated headers go out as separate header lines (urllib merges them)."""
    connection = http.client.HTTPConnection("127.0.0.1", stack.api_port, timeout=30)
    try:
        connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", f"127.0.0.1:{stack.api_port}")
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        answer = {name.lower(): value for name, value in response.getheaders()}
        return response.status, answer, json.loads(response.read())
    finally:
        connection.close()


def counts_path(name: str) -> str:
    return "/v1/counts?" + urllib.parse.urlencode({"event_type": "track", "key": name})


def read_total(stack: RunningStack, name: str, authorization: str) -> int:
    status, _, body = raw_get(stack, counts_path(name), [("Authorization", authorization)])
    assert status == 200, body
    total = body["total"]
    assert isinstance(total, int)
    return total


PAIRS = {
    "two tenants": lambda stack: [credential(stack, DEMO), credential(stack, DEMO_TWO)],
    "two tenants, the other order": lambda stack: [credential(stack, DEMO_TWO), credential(stack, DEMO)],
    "the same credential twice": lambda stack: [credential(stack, DEMO), credential(stack, DEMO)],
    "valid then wrong": lambda stack: [credential(stack, DEMO_TWO), wrong(stack)],
    "wrong then valid": lambda stack: [wrong(stack), credential(stack, DEMO_TWO)],
}


@pytest.mark.parametrize("pair", list(PAIRS))
@pytest.mark.parametrize("path", ["counts", "/button/click/count?button_id=b", "/web/page_view/count?url=u"])
def test_given_two_authorization_headers_on_a_count_route_when_sent_then_401_and_no_tenant_is_credited(
    cached_stack, track_name, pair, path
):
    first, second = PAIRS[pair](cached_stack)
    target = counts_path(track_name) if path == "counts" else path
    # Both credentials alone first, so each has a cached decision the gateway could wrongly reuse.
    assert read_total(cached_stack, track_name, credential(cached_stack, DEMO)) == SENT[DEMO]
    assert read_total(cached_stack, track_name, credential(cached_stack, DEMO_TWO)) == SENT[DEMO_TWO]

    for names in (("Authorization", "Authorization"), ("Authorization", "authorization")):
        status, headers, body = raw_get(cached_stack, target, [(names[0], first), (names[1], second)])

        assert status == 401, body
        assert body["error"] == "unauthorized"
        assert headers.get("www-authenticate", "").startswith("Basic")

    # Afterwards each credential alone still works and reads its own tenant's counts.
    assert read_total(cached_stack, track_name, credential(cached_stack, DEMO)) == SENT[DEMO]
    assert read_total(cached_stack, track_name, credential(cached_stack, DEMO_TWO)) == SENT[DEMO_TWO]
    status, _, _ = raw_get(cached_stack, counts_path(track_name), [("Authorization", wrong(cached_stack))])
    assert status == 403


def test_given_two_credentials_in_one_header_when_reading_counts_then_401(cached_stack, track_name):
    joined = f"{credential(cached_stack, DEMO)}, {credential(cached_stack, DEMO_TWO)}"

    status, _, body = raw_get(cached_stack, counts_path(track_name), [("Authorization", joined)])

    assert status == 401, body
    assert read_total(cached_stack, track_name, credential(cached_stack, DEMO_TWO)) == SENT[DEMO_TWO]


@pytest.mark.parametrize("path", ["counts", "/button/click/count?button_id=b", "/web/page_view/count?url=u"])
@pytest.mark.parametrize("origin", [None, "own"])
def test_given_a_publishable_key_on_a_count_route_when_sent_then_403(cached_stack, track_name, path, origin):
    headers = [("Authorization", basic(*publishable(cached_stack)))]
    if origin == "own":  # an origin the key allows: sending would be fine, reading is not
        headers.append(("Origin", f"http://127.0.0.1:{cached_stack.api_port}"))

    status, _, body = raw_get(cached_stack, counts_path(track_name) if path == "counts" else path, headers)

    assert status == 403, body
    assert body["error"] == "forbidden"
    # The same key still sends from its origin, and the secret key still reads.
    assert read_total(cached_stack, track_name, credential(cached_stack, DEMO)) == SENT[DEMO]


def test_given_a_publishable_key_when_it_sends_from_its_origin_then_accepted(cached_stack):
    """The control for the test above: the 403 is the scope, not a broken key."""
    tenant, key = publishable(cached_stack)
    answer = cached_stack.request(
        "POST",
        "/v1/events",
        body={"events": [{"event_type": "track", "name": "publishable-control"}]},
        auth=(tenant, key),
        headers={"Origin": f"http://127.0.0.1:{cached_stack.api_port}"},
    )

    assert answer.status == 200, answer.body
    assert answer.json()["accepted"] == 1
