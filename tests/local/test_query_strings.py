"""Query strings reach a function decoded as API Gateway decodes them, or are refused; never silently changed.

API Gateway (REST) form-decodes a query: ``+`` is a space and ``%XX`` is decoded once (a plus sign is
``%2B``). What it does with a malformed escape or one that is not UTF-8 is not documented, so the local gateway
answers 400 instead of substituting U+FFFD (``button_id=%FF`` read the count of another key). docs/local-mode.md.
"""

from __future__ import annotations

import http.client
import json

import pytest

from local.gateway.app import InvalidQuery, parse_query
from tests.local.conftest import RunningStack


@pytest.mark.parametrize(
    ("raw", "pairs"),
    [
        ("", []),
        ("a=1&b=2", [("a", "1"), ("b", "2")]),
        ("b=x+y&c=%2B&d=%20", [("b", "x y"), ("c", "+"), ("d", " ")]),
        ("a=1&a=2", [("a", "1"), ("a", "2")]),
        ("flag&empty=&&x==", [("flag", ""), ("empty", ""), ("x", "=")]),
        ("k=%C3%A9&n=%F0%9F%98%80", [("k", "é"), ("n", "😀")]),
        ("k=caf\xc3\xa9", [("k", "café")]),  # raw UTF-8 bytes (the request line arrives as latin-1)
        ("url=https%3A%2F%2Fexample.com%2F%3Fq%3D1%26r%3D2", [("url", "https://example.com/?q=1&r=2")]),
    ],
)
def test_a_query_is_form_decoded_once(raw: str, pairs: list[tuple[str, str]]) -> None:
    assert parse_query(raw) == pairs


@pytest.mark.parametrize(
    "raw", ["button_id=%FF", "button_id=%C3", "a=%ED%A0%80", "%FF=1", "a=%", "a=%G1", "a=%4", "a=1%"]
)
def test_an_escape_that_is_malformed_or_not_utf8_is_refused(raw: str) -> None:
    with pytest.raises(InvalidQuery):
        parse_query(raw)


def get(stack: RunningStack, target: str, auth: tuple[str, str]) -> tuple[int, dict]:
    """http.client: the request line goes out exactly as written (urllib would re-quote it)."""
    import base64

    connection = http.client.HTTPConnection("127.0.0.1", stack.api_port, timeout=30)
    try:
        credentials = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        connection.request("GET", target, headers={"Authorization": f"Basic {credentials}"})
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/button/click/count?button_id=%FF", 422),  # the seed routes answer a bad query 422
        ("/web/page_view/count?url=%E9t%E9", 422),
        ("/v1/counts?event_type=page_view&key=%", 400),
        ("/dashboard/api/counts?tenant=demo&event_type=page_view&key=%FF", 400),
    ],
)
def test_given_an_invalid_escape_when_a_route_is_called_then_a_json_4xx(
    local_stack: RunningStack, target: str, expected: int
) -> None:
    status, answer = get(local_stack, target, local_stack.demo_auth())

    assert status == expected
    assert answer["error"] == "invalid_query"
    assert "query string" in answer["message"]


def test_given_a_plus_in_a_key_when_counted_then_only_its_percent_escape_names_it(local_stack: RunningStack) -> None:
    auth = local_stack.demo_auth()
    posted = local_stack.request("POST", "/button/click", body={"session_id": "s", "button_id": "q+1"}, auth=auth)
    assert posted.status == 200, posted.body
    local_stack.drain()

    escaped = get(local_stack, "/button/click/count?button_id=q%2B1", auth)
    plus = get(local_stack, "/button/click/count?button_id=q+1", auth)  # "q 1", as API Gateway reads it

    assert escaped == (200, {"count": 1})
    assert plus == (200, {"count": 0})
