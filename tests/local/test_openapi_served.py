"""The served OpenAPI document is true where it is served (issue 15): its server URL reaches the API,
every operation documents its 200, and only answers the API really sends are listed."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urljoin

from tests.local.conftest import RunningStack

SEED_ROUTES = {"/button/click", "/web/page_view", "/button/click/count", "/web/page_view/count"}


def served_spec(stack: RunningStack) -> tuple[str, dict[str, Any]]:
    answer = stack.request("GET", "/v1/docs?format=json")
    assert answer.status == 200
    spec_url = stack.info["api_url"] + "/v1/docs?format=json"
    return spec_url, answer.json()


def test_the_server_url_named_by_the_spec_reaches_the_api(local_stack: RunningStack) -> None:
    spec_url, spec = served_spec(local_stack)
    (server,) = spec["servers"]
    base = urljoin(spec_url, server["url"]).rstrip("/")  # what Swagger UI's "Try it out" calls
    assert base == local_stack.info["api_url"]

    health = local_stack.request("GET", base.removeprefix(local_stack.info["api_url"]) + "/v1/health")
    assert health.status == 200
    sent = local_stack.request(
        "POST",
        base.removeprefix(local_stack.info["api_url"]) + "/v1/events",
        body={"events": [{"event_type": "track", "name": "try it out"}]},
        auth=local_stack.demo_auth(),
    )
    assert sent.json() == {"accepted": 1, "rejected": []}


def test_every_operation_documents_its_200_and_only_seed_routes_a_422(local_stack: RunningStack) -> None:
    _, spec = served_spec(local_stack)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "200" in responses, (method, path)
            assert responses["200"].get("content") or path == "/v1/docs", (method, path)
            assert ("422" in responses) == (path in SEED_ROUTES), (method, path)


def test_a_documented_error_answer_is_what_the_api_sends(local_stack: RunningStack) -> None:
    """One example per documented schema family: the 400's body matches the Error schema it names."""
    _, spec = served_spec(local_stack)
    error_schema = spec["paths"]["/v1/events"]["post"]["responses"]["400"]["content"]["application/json"]["schema"]
    name = error_schema["$ref"].rsplit("/", 1)[1]
    required = set(spec["components"]["schemas"][name].get("required", []))
    answer = local_stack.request("POST", "/v1/events", body={"events": []}, auth=local_stack.demo_auth())
    assert answer.status == 400
    assert required <= set(answer.json())


def test_swagger_ui_try_it_out_works_in_a_browser(local_stack: RunningStack, browser: Any) -> None:
    tenant, key = local_stack.demo_auth()
    page = browser.new_page()
    page.goto(local_stack.info["api_url"] + "/v1/docs")
    page.click(".auth-wrapper button.authorize")  # not text=Authorize: the description mentions the authorizer
    page.fill("input[type=text] >> nth=0", tenant)
    page.fill("input[type=password] >> nth=0", key)
    page.click(".auth-btn-wrapper button.authorize >> nth=0")
    page.click(".btn-done >> nth=0")
    operation = page.locator(".opblock-get:has(.opblock-summary-path[data-path='/v1/counts'])")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("input[placeholder='event_type']").fill("page_view")
    with page.expect_response(lambda r: "/v1/counts" in r.url) as answered:
        operation.locator("button.execute").click()
    response = answered.value
    page.close()
    assert response.status == 200
    assert response.url.startswith(local_stack.info["api_url"] + "/v1/counts?")
    assert base64.b64encode(f"{tenant}:{key}".encode()).decode() in response.request.headers["authorization"]


def _send(stack: RunningStack, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    import json
    import urllib.error
    import urllib.request

    tenant, key = stack.demo_auth()
    credentials = base64.b64encode(f"{tenant}:{key}".encode()).decode()
    request = urllib.request.Request(
        stack.info["api_url"] + path,
        data=body,
        method="POST",
        headers={"Authorization": f"Basic {credentials}", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_an_unknown_route_answers_what_the_description_says(local_stack: RunningStack) -> None:
    _, spec = served_spec(local_stack)
    assert "404 for a route or method the API does not have" in spec["info"]["description"]
    assert "403 for an unknown route" not in spec["info"]["description"]

    answer = local_stack.request("GET", "/v1/no-such-route", auth=local_stack.demo_auth())

    assert answer.status == 404
    assert answer.json()["error"] == "not_found"


def test_every_documented_body_media_type_and_gzip_are_accepted(local_stack: RunningStack) -> None:
    import gzip
    import json

    _, spec = served_spec(local_stack)
    body = spec["paths"]["/v1/events"]["post"]["requestBody"]
    assert set(body["content"]) == {"application/json", "text/plain"}
    assert "Content-Encoding: gzip" in body["description"]
    events = json.dumps({"events": [{"event_type": "track", "name": "documented media types"}]}).encode()

    for media_type in body["content"]:
        assert _send(local_stack, "/v1/events", events, {"Content-Type": media_type}) == (
            200,
            {"accepted": 1, "rejected": []},
        )
    zipped = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    assert _send(local_stack, "/v1/events", gzip.compress(events), zipped)[0] == 200


def test_the_415_answer_is_what_its_description_says(local_stack: RunningStack) -> None:
    _, spec = served_spec(local_stack)
    described = spec["paths"]["/v1/events"]["post"]["responses"]["415"]["description"]
    assert "text/plain" in described
    assert "Content-Encoding" in described
    events = b'{"events": [{"event_type": "track", "name": "x"}]}'

    for headers in (
        {"Content-Type": "application/xml"},
        {"Content-Type": "application/json", "Content-Encoding": "br"},
    ):
        status, answer = _send(local_stack, "/v1/events", events, headers)
        assert (status, answer["error"]) == (415, "unsupported_media_type")


def test_a_single_segment_route_documents_type_as_optional_and_takes_a_message_without_it(
    local_stack: RunningStack,
) -> None:
    import json

    _, spec = served_spec(local_stack)
    schema = spec["paths"]["/v1/track"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    (reference,) = schema["allOf"]
    message = spec["components"]["schemas"][reference["$ref"].rsplit("/", 1)[1]]
    assert "type" not in message.get("required", [])
    assert schema["properties"]["type"] == {"const": "track"}
    batch = spec["components"]["schemas"]["SegmentMessage"]
    assert "type" in batch["required"]  # in a batch, each message says what it is

    untyped = json.dumps({"userId": "u-1", "event": "Signed Up"}).encode()
    other = json.dumps({"type": "page", "userId": "u-1", "name": "Home"}).encode()
    json_type = {"Content-Type": "application/json"}

    status, answer = _send(local_stack, "/v1/track", untyped, json_type)
    assert (status, answer["accepted"], answer["rejected"]) == (200, 1, [])
    status, answer = _send(local_stack, "/v1/track", other, json_type)
    assert (status, answer["details"][0]["errors"]) == (400, ["type: this route takes track messages"])
