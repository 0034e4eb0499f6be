"""The original collector's route tests, ported to HTTP against `make local`'s stack.

Source: `collector/tests/routers/test_button.py` and `test_web.py` in EthanRosenthal/serverless-event-collector
(read 2026-12-07). Each original test is here under its own name, doing over HTTP what it did in-process,
with no drain and no wait between a POST and the count that must include it: counts are real-time.
The original's fixture saved a counter of 5 for ``test-user``; here five POSTs make that count. Where this
collector answers differently on purpose, the test says so:

- a failed put answered 500 there; here a Firehose outage answers 503 with ``Retry-After`` (the client may
  resend: docs/ingestion.md), and nothing is counted;
- a count read with no user answered ``{"count": 0}`` there (its unit test ran without the authorizer);
  here reading counts takes a key, so no credentials answer 401.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid
from typing import Any

import pytest

from tests.local.conftest import RunningStack


def fresh(name: str) -> str:
    """A key of this test alone (the stack is shared by the module)."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def count(stack: RunningStack, route: str, parameter: str, value: str, tenant_index: int = 0) -> Any:
    query = urllib.parse.urlencode({parameter: value})
    answer = stack.request("GET", f"{route}?{query}", auth=stack.demo_auth(tenant_index))
    assert answer.status == 200, answer.body
    return answer.json()


def raw_lines(stack: RunningStack) -> list[dict[str, Any]]:
    """What Firehose stored (the local Firehose writes each put at once)."""
    s3 = stack.aws("s3")
    lines = []
    for item in s3.list_objects_v2(Bucket=stack.info["raw_bucket"]).get("Contents", []):
        body = s3.get_object(Bucket=stack.info["raw_bucket"], Key=item["Key"])["Body"].read()
        lines += [json.loads(line) for line in body.splitlines() if line]
    return lines


def arm(stack: RunningStack, **faults: int) -> None:
    assert stack.request("POST", "/__local/faults", body=faults).status == 200


# -- button ------------------------------------------------------------------------------------------------


def click(stack: RunningStack, button_id: str, tenant_index: int = 0, session_id: str = "XYZ") -> Any:
    body = {"session_id": session_id, "button_id": button_id}
    return stack.request("POST", "/button/click", body=body, auth=stack.demo_auth(tenant_index))


def button_count(stack: RunningStack, button_id: str, tenant_index: int = 0) -> Any:
    return count(stack, "/button/click/count", "button_id", button_id, tenant_index)


def test_button_click_success(stack):
    button = fresh("ABC")
    for _ in range(5):
        click(stack, button)

    response = click(stack, button)

    assert (response.status, response.json()) == (200, {"message": "Received"})
    stored = [line for line in raw_lines(stack) if line.get("button_id") == button]
    assert len(stored) == 6
    tenant = stack.demo_auth(0)[0]
    assert {key: stored[-1][key] for key in ("session_id", "button_id", "event_type", "tenant")} == {
        "session_id": "XYZ",
        "button_id": button,
        "event_type": "button_click",
        "tenant": tenant,
    }
    assert isinstance(stored[-1]["received_at"], int)
    assert button_count(stack, button) == {"count": 6}


def test_button_click_new_user(stack):
    button = fresh("ABC")
    for _ in range(5):
        click(stack, button)

    response = click(stack, button, tenant_index=1)

    assert response.status == 200
    assert button_count(stack, button, tenant_index=1) == {"count": 1}


def test_button_click_success_bad_put(stack):
    button = fresh("ABC")
    arm(stack, firehose_outage=100)
    try:
        response = click(stack, button)
    finally:
        arm(stack, firehose_outage=0)

    assert response.status == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert button_count(stack, button) == {"count": 0}


def test_button_click_success_bad_payload(stack):
    response = stack.request("POST", "/button/click", body={"button_id": "ABC"}, auth=stack.demo_auth())

    assert response.status == 422


def test_button_click_counts_success(stack):
    button = fresh("ABC")
    for _ in range(5):
        click(stack, button)

    assert button_count(stack, button) == {"count": 5}


def test_button_click_counts_no_username(stack):
    response = stack.request("GET", "/button/click/count?button_id=ABC")

    assert response.status == 401


def test_button_click_counts_user_not_found(stack):
    button = fresh("ABC")
    for _ in range(5):
        click(stack, button)

    assert button_count(stack, button, tenant_index=1) == {"count": 0}


def test_button_click_counts_unknown_button(stack):
    for _ in range(5):
        click(stack, fresh("ABC"))

    assert button_count(stack, fresh("MISSING")) == {"count": 0}


# -- web ---------------------------------------------------------------------------------------------------


def view(stack: RunningStack, url: str, tenant_index: int = 0) -> Any:
    body = {"url": url, "referral_url": "/", "useragent": "some-string", "session_id": "XYZ"}
    return stack.request("POST", "/web/page_view", body=body, auth=stack.demo_auth(tenant_index))


def view_count(stack: RunningStack, url: str, tenant_index: int = 0) -> Any:
    return count(stack, "/web/page_view/count", "url", url, tenant_index)


def test_page_view_success(stack):
    url = f"http://something.com/{fresh('p')}"
    for _ in range(5):
        view(stack, url)

    response = view(stack, url)

    assert (response.status, response.json()) == (200, {"message": "Received"})
    stored = [line for line in raw_lines(stack) if line.get("url") == url]
    assert len(stored) == 6
    assert {key: stored[-1].get(key) for key in ("url", "referral_url", "ipaddress", "useragent", "session_id")} == {
        "url": url,
        "referral_url": "/",
        "ipaddress": None,  # not sent, so not stored
        "useragent": "some-string",
        "session_id": "XYZ",
    }
    assert stored[-1]["event_type"] == "page_view"
    assert view_count(stack, url) == {"count": 6}


def test_page_view_new_user(stack):
    url = f"http://something.com/{fresh('p')}"
    for _ in range(5):
        view(stack, url)

    response = view(stack, url, tenant_index=1)

    assert response.status == 200
    assert view_count(stack, url, tenant_index=1) == {"count": 1}


def test_page_view_success_bad_put(stack):
    url = f"http://something.com/{fresh('p')}"
    arm(stack, firehose_outage=100)
    try:
        response = view(stack, url)
    finally:
        arm(stack, firehose_outage=0)

    assert response.status == 503
    assert view_count(stack, url) == {"count": 0}


def test_page_view_success_bad_payload(stack):
    body = {"referral_url": "/", "useragent": "some-string", "session_id": "XYZ"}

    response = stack.request("POST", "/web/page_view", body=body, auth=stack.demo_auth())

    assert response.status == 422


def test_page_view_counts_success(stack):
    url = f"http://something.com/{fresh('p')}"
    for _ in range(5):
        view(stack, url)

    assert view_count(stack, url) == {"count": 5}


def test_page_view_counts_no_username(stack):
    response = stack.request("GET", "/web/page_view/count?url=http%3A%2F%2Fsomething.com")

    assert response.status == 401


def test_page_view_counts_user_not_found(stack):
    url = f"http://something.com/{fresh('p')}"
    for _ in range(5):
        view(stack, url)

    assert view_count(stack, url, tenant_index=1) == {"count": 0}


@pytest.mark.parametrize("tenant_index", [0, 1])
def test_page_view_counts_unknown_url(stack, tenant_index):
    view(stack, f"http://something.com/{fresh('p')}", tenant_index)

    assert view_count(stack, "http://some-other-url.com", tenant_index) == {"count": 0}
