"""Seed-compatible routes, counts, health, docs and unknown routes through the real collector handler."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from tests.conftest import api_request, call


def test_given_a_button_click_when_posted_to_the_seed_route_then_received_and_counted(collector, aws, lambda_context):
    body = {"session_id": "s-1", "button_id": "buy"}

    first = call(collector, api_request("POST", "/button/click", body=body), lambda_context)
    call(collector, api_request("POST", "/button/click", body=body), lambda_context)
    aws.deliver()
    status, _, count = call(
        collector, api_request("GET", "/button/click/count", query=[("button_id", "buy")]), lambda_context
    )

    assert first[0] == 200
    assert first[2] == {"message": "Received"}
    assert (status, count) == (200, {"count": 2})
    stored = aws.raw_lines()
    assert [line["event_type"] for line in stored] == ["button_click", "button_click"]
    assert stored[0]["button_id"] == "buy"
    assert stored[0]["tenant"] == "acme"


def test_given_a_page_view_when_posted_to_the_seed_route_then_received_and_counted(collector, aws, lambda_context):
    view = {
        "url": "https://example.com/a?b=c",
        "session_id": "s-1",
        "referral_url": "https://google.com/",
        "ipaddress": "10.0.0.1",
        "useragent": "Mozilla/5.0",
    }

    status, _, body = call(collector, api_request("POST", "/web/page_view", body=view), lambda_context)
    aws.deliver()
    _, _, count = call(
        collector, api_request("GET", "/web/page_view/count", query=[("url", view["url"])]), lambda_context
    )

    assert (status, body) == (200, {"message": "Received"})
    assert count == {"count": 1}
    (line,) = aws.raw_lines()
    assert {key: line[key] for key in view} == view


def test_given_counts_of_another_tenant_when_read_then_they_are_not_visible(collector, aws, lambda_context):
    call(
        collector,
        api_request("POST", "/button/click", body={"session_id": "s", "button_id": "buy"}, tenant="other"),
        lambda_context,
    )
    aws.deliver()

    _, _, count = call(
        collector, api_request("GET", "/button/click/count", query=[("button_id", "buy")]), lambda_context
    )

    assert count == {"count": 0}


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        ("/button/click", {"session_id": "s"}, "button_id"),
        ("/button/click", {"session_id": "s", "button_id": 5}, "button_id"),
        ("/button/click", {"session_id": "s", "button_id": "a\x00b"}, "button_id"),
        ("/button/click", {"session_id": None, "button_id": "b"}, "session_id"),
        ("/web/page_view", {"session_id": "s"}, "url"),
        ("/web/page_view", {"url": 5, "session_id": "s"}, "url"),
        ("/web/page_view", {"url": "https://x/", "session_id": "s", "useragent": ["x"]}, "useragent"),
    ],
)
def test_given_a_bad_seed_body_when_posted_then_422_names_the_field_and_nothing_is_stored(
    collector, aws, lambda_context, path, body, expected
):
    status, _, error = call(collector, api_request("POST", path, body=body), lambda_context)

    assert (status, error["error"]) == (422, "invalid_request")
    assert expected in error["message"]
    aws.assert_nothing_stored_or_counted()


@pytest.mark.parametrize(
    ("path", "raw", "content_type"),
    [
        ("/button/click", b'{"session_id": "s",', "application/json"),
        ("/button/click", b"", "application/json"),
        ("/web/page_view", b'["url"]', "application/json"),
        ("/web/page_view", b"url=x", "application/x-www-form-urlencoded"),
    ],
)
def test_given_an_unreadable_seed_body_when_posted_then_422_as_the_original_collector_did(
    collector, aws, lambda_context, path, raw, content_type
):
    event = api_request("POST", path, raw_body=raw, content_type=content_type)

    status, _, error = call(collector, event, lambda_context)

    assert status == 422
    assert error["message"]
    aws.assert_nothing_stored_or_counted()


def test_given_unknown_fields_in_a_seed_body_when_posted_then_they_are_ignored_as_before(
    collector, aws, lambda_context
):
    body = {"session_id": "s", "button_id": "b", "tenant": "other-tenant", "clicked_at": "now"}

    status, _, answer = call(collector, api_request("POST", "/button/click", body=body), lambda_context)

    assert (status, answer) == (200, {"message": "Received"})
    (line,) = aws.raw_lines()
    assert line["tenant"] == "acme"  # the authorizer's tenant; the body's is ignored, never used
    assert "clicked_at" not in line


@pytest.mark.parametrize(
    "value",
    ["a b", "a/b", "#x?y=z&w", "über", "ボタン-1", "😀", "", "x" * 1024, "../../etc/passwd"],
)
def test_given_any_printable_seed_value_when_posted_and_counted_then_it_round_trips(
    collector, aws, lambda_context, value
):
    body = {"session_id": value, "button_id": value}

    status, _, _ = call(collector, api_request("POST", "/button/click", body=body), lambda_context)
    aws.deliver()
    _, _, count = call(
        collector, api_request("GET", "/button/click/count", query=[("button_id", value)]), lambda_context
    )

    assert status == 200
    assert count == {"count": 1}
    assert aws.raw_lines()[0]["button_id"] == value
    assert not any(value in key and "/" in value for key in aws.lake_keys())  # never a path component


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/button/click/count", []),
        ("/button/click/count", [("button_id", "a\x00")]),
        ("/web/page_view/count", []),
    ],
)
def test_given_a_bad_seed_count_query_when_read_then_422(collector, lambda_context, path, query):
    status, _, body = call(collector, api_request("GET", path, query=query), lambda_context)

    assert status == 422
    assert body["message"]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/v1/counts", []),
        ("/v1/counts", [("event_type", "nope")]),
        ("/v1/counts", [("event_type", "page_view"), ("from", "yesterday")]),
        ("/v1/counts", [("event_type", "page_view"), ("from", "2026-01-01T00:00:00")]),
        ("/v1/counts", [("event_type", "page_view"), ("from", "2026-01-02T00:00:00Z"), ("to", "2026-01-01T00:00:00Z")]),
        ("/v1/counts", [("event_type", "page_view"), ("from", "2025-01-01T00:00:00Z"), ("to", "2026-01-01T00:00:00Z")]),
        ("/v1/counts", [("event_type", "page_view"), ("key", "a\nb")]),
        ("/v1/counts", [("event_type", "page_view"), ("to", "99999999999999999999999")]),
    ],
)
def test_given_a_bad_count_query_when_read_then_400(collector, lambda_context, path, query):
    status, _, body = call(collector, api_request("GET", path, query=query), lambda_context)

    assert status == 400
    assert body["error"] in {"invalid_request", "invalid_query"}
    assert body["message"]


def test_given_events_this_hour_when_counts_are_read_then_total_and_hourly_series_match(collector, aws, lambda_context):
    views = [{"event_type": "page_view", "url": f"https://x/{i % 2}", "session_id": "s"} for i in range(5)]
    call(collector, api_request("POST", "/v1/events", body={"events": views}), lambda_context)
    aws.deliver()
    now_ms = int(time.time() * 1000)

    _, _, all_keys = call(
        collector, api_request("GET", "/v1/counts", query=[("event_type", "page_view")]), lambda_context
    )
    _, _, one_key = call(
        collector,
        api_request(
            "GET", "/v1/counts", query=[("event_type", "page_view"), ("key", "https://x/0"), ("to", str(now_ms))]
        ),
        lambda_context,
    )

    assert all_keys["total"] == 5
    assert all_keys["key"] is None
    assert len(all_keys["hourly"]) == 24
    this_hour = datetime.fromtimestamp(now_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:00:00Z")
    assert all_keys["hourly"][-1] == {"hour": this_hour, "count": 5}
    assert sum(point["count"] for point in all_keys["hourly"]) == 5
    assert one_key["total"] == 3
    assert one_key["hourly"][-1]["count"] == 3


def test_given_no_credentials_when_health_is_read_then_ok(collector, lambda_context):
    status, _, body = call(collector, api_request("GET", "/v1/health", tenant=None), lambda_context)

    assert status == 200
    assert body["status"] == "ok"
    assert body["version"]


def test_given_no_credentials_when_counts_are_read_then_401(collector, lambda_context):
    status, _, body = call(
        collector, api_request("GET", "/v1/counts", query=[("event_type", "track")], tenant=None), lambda_context
    )

    assert (status, body["error"]) == (401, "unauthorized")


def test_given_the_docs_route_when_json_is_asked_then_the_openapi_document_lists_every_route(collector, lambda_context):
    response = collector.lambda_handler(
        api_request("GET", "/v1/docs", query=[("format", "json")], tenant=None), lambda_context
    )

    assert response["statusCode"] == 200
    assert '"/v1/events"' in response["body"]
    assert '"/web/page_view/count"' in response["body"]


def test_given_an_unknown_route_when_called_then_404_json(collector, lambda_context):
    status, _, body = call(collector, api_request("GET", "/v1/nope"), lambda_context)

    assert (status, body["error"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("base_path", "server"),
    [(None, "/prod"), ("", "/"), ("/events-api", "/events-api")],
    ids=["stage", "root", "mapped"],
)
def test_given_the_document_when_served_then_its_server_is_where_it_was_called(
    collector, lambda_context, base_path, server
):
    request = api_request("GET", "/v1/docs", query=[("format", "json")], tenant=None)
    request["requestContext"]["path"] = ("/prod" if base_path is None else base_path) + "/v1/docs"

    status, _, document = call(collector, request, lambda_context)

    assert status == 200
    assert document["servers"] == [{"url": server}]


def test_given_the_docs_page_when_opened_then_swagger_ui_is_inline_with_no_outside_script(collector, lambda_context):
    response = collector.lambda_handler(api_request("GET", "/v1/docs", tenant=None), lambda_context)

    assert response["statusCode"] == 200
    assert response["multiValueHeaders"]["Content-Type"][0].startswith("text/html")
    assert "SwaggerUIBundle" in response["body"]
    assert "<script src=" not in response["body"]
