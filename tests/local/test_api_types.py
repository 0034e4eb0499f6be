"""The same route checks against a local stack behaving as each ``ApiType``: the REST API (default) and the
HTTP API. Only what API Gateway answers itself differs (docs/api.md); every collector answer is the same."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.local.conftest import RunningStack, start_stack, stop_stack


@pytest.fixture(scope="module", params=["REST", "HTTP"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    started = start_stack(
        tmp_path_factory.mktemp(f"api-{request.param.lower()}"),
        {"LOCAL_API_TYPE": request.param, "LOCAL_AUTHORIZER_TTL": "0"},
    )
    yield started
    stop_stack(started)


def gateway_message(stack: RunningStack, status: int, body: dict) -> tuple[int, str]:
    """(status, the gateway's error name): REST answers with the template's responses, HTTP with fixed ones."""
    return status, body["error"] if stack.info["api_type"] == "REST" else body["message"]


def test_given_the_stack_when_started_then_it_says_which_api_type_it_serves(stack):
    assert stack.info["api_type"] in ("REST", "HTTP")


def test_given_public_routes_when_called_without_credentials_then_they_answer(stack):
    health = stack.request("GET", "/v1/health")
    document = stack.request("GET", "/v1/docs?format=json")

    assert (health.status, health.json()["status"]) == (200, "ok")
    assert document.status == 200
    assert document.json()["servers"] == [{"url": "/"}]  # served at the root, as the local gateway does


def test_given_a_key_when_events_are_sent_then_they_are_accepted_and_counted(stack):
    auth = stack.demo_auth()
    batch = {"events": [{"event_type": "track", "name": "api type", "event_id": f"api-{n}"} for n in range(3)]}

    sent = stack.request("POST", "/v1/events", body=batch, auth=auth)
    stack.drain()
    counts = stack.request("GET", "/v1/counts?event_type=track&key=api%20type", auth=auth)

    assert (sent.status, sent.json()["accepted"]) == (200, 3)
    assert (counts.status, counts.json()["total"]) == (200, 3)


def test_given_the_seed_routes_when_used_then_they_answer_as_the_original_collector(stack):
    auth = stack.demo_auth()

    posted = stack.request("POST", "/button/click", body={"session_id": "s", "button_id": "api-type"}, auth=auth)
    invalid = stack.request("POST", "/button/click", body={"session_id": "s"}, auth=auth)
    stack.drain()
    count = stack.request("GET", "/button/click/count?button_id=api-type", auth=auth)

    assert (posted.status, posted.json()) == (200, {"message": "Received"})
    assert invalid.status == 422
    assert (count.status, count.json()) == (200, {"count": 1})


def test_given_no_or_wrong_credentials_when_sending_then_the_collector_refuses_alike_on_both(stack):
    missing = stack.request("POST", "/v1/events", body={"events": []})
    wrong = stack.request("POST", "/v1/events", body={"events": []}, auth=("demo", "k0000000000000000." + "A" * 43))

    assert [(r.status, r.json()["error"]) for r in (missing, wrong)] == [(401, "unauthorized"), (403, "forbidden")]
    assert missing.headers["WWW-Authenticate"].startswith("Basic")


def test_given_no_or_wrong_credentials_when_reading_then_the_gateway_refuses(stack):
    missing = stack.request("GET", "/v1/counts?event_type=track")
    wrong = stack.request("GET", "/v1/counts?event_type=track", auth=("demo", "k0000000000000000." + "A" * 43))

    expected = {
        "REST": [(401, "unauthorized"), (403, "forbidden")],
        "HTTP": [(401, "Unauthorized"), (403, "Forbidden")],
    }
    assert [gateway_message(stack, r.status, r.json()) for r in (missing, wrong)] == expected[stack.info["api_type"]]


def test_given_an_unknown_route_when_called_then_it_is_refused_in_json(stack):
    answer = stack.request("GET", "/v1/nope", auth=stack.demo_auth())

    if stack.info["api_type"] == "REST":
        assert (answer.status, answer.json()["error"]) == (404, "not_found")  # the template's gateway response
    else:  # the HTTP API's catch-all route reaches the collector, which answers its own 404
        assert (answer.status, answer.json()["error"]) == (404, "not_found")


def test_given_a_browser_origin_when_preflighting_and_sending_then_cors_allows_it(stack):
    origin = {"Origin": "https://shop.example"}
    preflight = stack.request(
        "OPTIONS",
        "/v1/events",
        headers={**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"},
    )
    sent = stack.request(
        "POST",
        "/v1/events",
        body={"events": [{"event_type": "track", "name": "cors"}]},
        auth=stack.demo_auth(),
        headers=origin,
    )

    assert preflight.status in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert sent.status == 200
    assert sent.headers["Access-Control-Allow-Origin"] == "*"


def test_given_a_tenant_when_it_suppresses_a_user_then_the_request_is_readable_and_the_users_events_not_stored(
    stack,
):
    from event_collector.aws.tenant_keys_table import TenantKeysTable
    from event_collector.tenants.admin import TenantAdmin

    tenant = f"privacy-{stack.info['api_type'].lower()}"  # a tenant no other request has loaded suppressions for
    admin = TenantAdmin(TenantKeysTable(stack.aws("dynamodb"), stack.info["keys_table"]), clock=lambda: 0)
    admin.create_tenant(tenant)
    auth = (tenant, admin.issue_key(tenant).api_key)
    publishable = (tenant, admin.issue_key(tenant, scope="publishable", origins=("https://shop.example",)).api_key)
    ask = {"type": "suppress", "user_id": "local-user"}

    refused = stack.request("POST", "/v1/regulations", body=ask, auth=publishable)
    asked = stack.request("POST", "/v1/regulations", body=ask, auth=auth)
    read = stack.request("GET", f"/v1/regulations/{asked.json()['id']}", auth=auth)
    preflight = stack.request(
        "OPTIONS",
        f"/v1/regulations/{asked.json()['id']}",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"},
    )
    events = [{"event_type": "track", "name": "local", "user_id": user} for user in ("local-user", "another")]
    sent = stack.request("POST", "/v1/events", body={"events": events}, auth=auth)
    stack.drain()
    counted = stack.request("GET", "/v1/counts?event_type=track&key=local", auth=auth)

    assert refused.status == 403
    assert (asked.status, read.status, read.json()) == (202, 200, asked.json())
    assert preflight.status in (200, 204)
    assert (sent.status, sent.json()) == (200, {"accepted": 2, "rejected": [], "suppressed": 1})
    assert counted.json()["total"] == 1
