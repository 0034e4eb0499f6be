"""POST /v1/events through the real collector handler, with Firehose and DynamoDB under moto."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conftest import api_request, call, record_calls


def page_view(**overrides: Any) -> dict[str, Any]:
    return {"event_type": "page_view", "url": "https://example.com/", "session_id": "s-1", **overrides}


def click(**overrides: Any) -> dict[str, Any]:
    return {"event_type": "button_click", "button_id": "buy", "session_id": "s-1", **overrides}


def post_events(collector, context, body: Any, **kwargs: Any):
    return call(collector, api_request("POST", "/v1/events", body=body, **kwargs), context)


def test_given_valid_events_when_posted_then_each_is_stored_and_enriched(collector, aws, lambda_context):
    events = [
        page_view(event_id="e-1"),
        click(),
        {"event_type": "track", "name": "Signed Up", "properties": {"plan": "pro"}},
    ]

    status, _, body = post_events(collector, lambda_context, {"events": events})

    assert status == 200
    assert body == {"accepted": 3, "rejected": []}
    stored = aws.raw_lines()
    assert [line["event_type"] for line in stored] == ["page_view", "button_click", "track"]
    assert {line["tenant"] for line in stored} == {"acme"}
    assert stored[0]["event_id"] == "e-1"
    assert stored[1]["event_id"]
    assert stored[1]["event_id"] != stored[2]["event_id"]
    assert stored[2]["properties"] == '{"plan":"pro"}'  # nested values are stored as canonical JSON text
    assert all(line["timestamp"] == line["received_at"] for line in stored)


def test_given_client_clock_when_sent_at_is_given_then_timestamp_is_skew_corrected(collector, aws, lambda_context):
    status, _, _ = post_events(
        collector, lambda_context, {"events": [page_view(timestamp=1_000_000_000_000)], "sent_at": 1_000_000_060_000}
    )

    assert status == 200
    (line,) = aws.raw_lines()
    assert line["timestamp"] == 1_000_000_000_000 + (line["received_at"] - 1_000_000_060_000)


def test_given_a_sent_at_far_ahead_when_corrected_then_a_timestamp_before_2000_is_rejected(
    collector, aws, lambda_context
):
    body = {"events": [page_view(timestamp=1_000_000_000_000)], "sent_at": 4_000_000_000_000}

    status, _, answer = post_events(collector, lambda_context, body)

    assert (status, answer["error"]) == (400, "no_valid_events")
    assert "before 2000" in answer["details"][0]["errors"][0]
    aws.assert_nothing_stored_or_counted()


def test_given_iso_timestamp_when_posted_then_it_is_stored_as_epoch_millis(collector, aws, lambda_context):
    status, _, _ = post_events(collector, lambda_context, {"events": [page_view(timestamp="2026-01-31T12:00:00Z")]})

    assert status == 200
    assert aws.raw_lines()[0]["timestamp"] == 1_769_860_800_000


def test_given_some_invalid_events_when_posted_then_only_valid_ones_are_stored(collector, aws, lambda_context):
    events = [
        page_view(),
        {"event_type": "nope"},
        click(event_id="c/1 #x", session_id="\x00"),
        page_view(event_id="keep-me"),
    ]

    status, _, body = post_events(collector, lambda_context, {"events": events})

    assert status == 200
    assert body["accepted"] == 2
    assert [(item["index"], item["event_id"]) for item in body["rejected"]] == [(1, None), (2, "c/1 #x")]
    assert "event_type" in body["rejected"][0]["errors"][0]
    assert "session_id" in body["rejected"][1]["errors"][0]
    assert [line["event_type"] for line in aws.raw_lines()] == ["page_view", "page_view"]


def test_given_500_events_when_posted_then_one_firehose_call_and_one_write_per_counter(collector, aws, lambda_context):
    firehose_calls = record_calls(aws.firehose, "PutRecordBatch")
    dynamodb_calls = record_calls(aws.dynamodb, "UpdateItem")
    events = [page_view(url=f"https://example.com/{i % 3}") for i in range(250)] + [click() for _ in range(250)]

    status, _, body = post_events(collector, lambda_context, {"events": events})

    assert status == 200
    assert body["accepted"] == 500
    assert len(firehose_calls) == 1
    # Counted as soon as Firehose took them: one write per distinct key (three URLs, one button) and one
    # per event type (its total, which also admits the new keys), never one per event.
    written = sorted(call["Key"]["pk"]["S"] for call in dynamodb_calls)
    assert written == sorted(
        ["acme#page_view#*", "acme#button_click#*"]
        + [f"acme#page_view#k:https://example.com/{i}" for i in range(3)]
        + [f"acme#button_click#k:{click()['button_id']}"]
    )
    assert len(aws.raw_lines()) == 500


def test_given_a_response_when_origin_is_sent_then_cors_headers_are_present(collector, lambda_context):
    event = api_request("POST", "/v1/events", body={"events": "nope"}, headers=[("Origin", "https://app.example")])

    status, headers, _ = call(collector, event, lambda_context)

    assert status == 400
    assert headers["Access-Control-Allow-Origin"] == "*"


def _deep(depth: int) -> str:
    return '{"events": [' + "[" * depth + "]" * depth + "]}"


BAD_REQUESTS = [
    pytest.param(b"{not json", "application/json", 400, "invalid_json", id="malformed-json"),
    pytest.param(b"", "application/json", 400, "empty_body", id="empty-body"),
    pytest.param(b'{"events": [1]', "application/json", 400, "invalid_json", id="truncated-json"),
    pytest.param(
        b'{"events": [{"event_type": "track", "name": "x", "properties": {"n": NaN}}]}',
        "application/json",
        400,
        "invalid_json",
        id="nan-literal",
    ),
    pytest.param(
        b'{"events": [' + b"9" * 5000 + b"]}", "application/json", 400, "invalid_json", id="huge-integer-literal"
    ),
    pytest.param(_deep(100_000).encode(), "application/json", 400, "invalid_json", id="deep-nesting"),
    pytest.param(b'{"events": []}', "application/json", 400, "empty_batch", id="empty-batch"),
    pytest.param(b'{"events": {}}', "application/json", 400, "invalid_request", id="events-not-a-list"),
    pytest.param(b'[{"event_type": "page_view"}]', "application/json", 400, "invalid_request", id="bare-list"),
    pytest.param(
        b'{"events": [], "extra": 1}', "application/json", 400, "invalid_request", id="unknown-envelope-field"
    ),
    pytest.param(
        b'{"events": [{}], "sent_at": "yesterday"}', "application/json", 400, "invalid_request", id="bad-sent-at"
    ),
    pytest.param(b'"events"', "application/json", 400, "invalid_request", id="json-string-body"),
    pytest.param(b"null", "application/json", 400, "invalid_request", id="json-null-body"),
    pytest.param(
        b'{"events": [{"event_type": "page_view"}]}', "application/xml", 415, "unsupported_media_type", id="xml"
    ),
    pytest.param(b"events=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type", id="form-encoded"),
    pytest.param(b'{"events": []}', "application/xml", 415, "unsupported_media_type", id="xml"),
    pytest.param(
        b'{"events": ["' + b"x" * (1024 * 1024) + b'"]}',
        "application/json",
        413,
        "payload_too_large",
        id="body-over-1mb",
    ),
    pytest.param(
        b"{" + b" " * (1024 * 1024) + b"bad", "application/json", 413, "payload_too_large", id="oversize-and-malformed"
    ),
]


@pytest.mark.parametrize(("raw_body", "content_type", "status", "code"), BAD_REQUESTS)
def test_given_a_bad_request_body_when_posted_then_4xx_names_the_problem_and_nothing_is_stored(
    collector, aws, lambda_context, raw_body, content_type, status, code
):
    got_status, headers, body = call(
        collector, api_request("POST", "/v1/events", raw_body=raw_body, content_type=content_type), lambda_context
    )

    assert (got_status, body["error"]) == (status, code)
    assert body["message"]
    assert headers["Content-Type"] == "application/json"
    aws.assert_nothing_stored_or_counted()


def test_given_too_many_events_when_posted_then_413_and_nothing_stored(collector, aws, lambda_context):
    status, _, body = post_events(collector, lambda_context, {"events": [page_view()] * 501})

    assert (status, body["error"]) == (413, "too_many_events")
    assert "500" in body["message"]
    aws.assert_nothing_stored_or_counted()


def test_given_non_utf8_base64_body_when_posted_then_400(collector, aws, lambda_context):
    event = api_request("POST", "/v1/events", raw_body=b'{"events": ["\xff\xfe"]}')
    assert event["isBase64Encoded"] is True

    status, _, body = call(collector, event, lambda_context)

    assert (status, body["error"]) == (400, "invalid_encoding")
    aws.assert_nothing_stored_or_counted()


def test_given_missing_content_type_when_json_is_posted_then_it_is_accepted(collector, aws, lambda_context):
    status, _, _ = post_events(collector, lambda_context, {"events": [page_view()]}, content_type=None)

    assert status == 200
    assert len(aws.raw_lines()) == 1


BAD_EVENTS = [
    pytest.param("not an object", "event must be a JSON object", id="string-event"),
    pytest.param({"url": "https://x/"}, "event_type", id="missing-type"),
    pytest.param({"event_type": "checkout"}, "event_type", id="unknown-type"),
    pytest.param({"event_type": 7}, "event_type", id="type-not-a-string"),
    pytest.param(page_view(url=None), "url", id="url-null"),
    pytest.param(page_view(url=12), "url", id="url-number"),
    pytest.param(page_view(url="https://x/" + "a" * 8192), "url", id="url-too-long"),
    pytest.param(page_view(url="https://x/\n"), "control characters", id="url-newline"),
    pytest.param(page_view(url="https://x/\u2028"), "control characters", id="url-line-separator"),
    pytest.param(page_view(url="https://x/\ud800"), "url", id="url-lone-surrogate"),
    pytest.param(page_view(session_id="s\x00"), "session_id", id="session-id-nul"),
    pytest.param(page_view(session_id="s" * 1025), "session_id", id="session-id-too-long"),
    pytest.param(page_view(event_id="a\nb"), "event_id", id="event-id-newline"),
    pytest.param(page_view(event_id="x" * 257), "event_id", id="event-id-too-long"),
    pytest.param(page_view(event_id=""), "event_id", id="event-id-empty"),
    pytest.param(page_view(event_id=123), "event_id", id="event-id-number"),
    pytest.param(page_view(ipaddress="1" * 257), "ipaddress", id="ip-too-long"),
    pytest.param(page_view(extra_field=1), "extra_field", id="unknown-field"),
    pytest.param(page_view(tenant="other-tenant"), "'tenant' is set by the server", id="spoofed-tenant"),
    pytest.param(page_view(received_at=1), "'received_at' is set by the server", id="spoofed-received-at"),
    pytest.param(page_view(timestamp=True), "timestamp", id="timestamp-bool"),
    pytest.param(page_view(timestamp=1.5), "timestamp", id="timestamp-float"),
    pytest.param(page_view(timestamp="2026-01-01T00:00:00"), "time zone", id="timestamp-naive"),
    pytest.param(page_view(timestamp="soon"), "timestamp", id="timestamp-text"),
    pytest.param(page_view(timestamp=123), "2000-01-01", id="timestamp-seconds-not-millis"),
    pytest.param(page_view(timestamp=9_999_999_999_999), "timestamp", id="timestamp-far-future"),
    pytest.param(click(button_id=None), "button_id", id="button-id-null"),
    pytest.param(click(button_id="a\tb"), "button_id", id="button-id-tab"),
    pytest.param({"event_type": "track"}, "name", id="track-without-name"),
    pytest.param({"event_type": "track", "name": "x", "properties": []}, "properties", id="properties-list"),
    pytest.param({"event_type": "track", "name": "x", "properties": {"n": 2**64}}, "64 bits", id="int-over-64-bits"),
    pytest.param(
        {
            "event_type": "track",
            "name": "x",
            "properties": {"d": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {}}}}}}}}}},
        },
        "nesting",
        id="properties-too-deep",
    ),
    pytest.param(
        {"event_type": "track", "name": "x", "properties": {"s": "\udfff"}}, "Unicode", id="properties-lone-surrogate"
    ),
    pytest.param(
        {"event_type": "track", "name": "x", "properties": {"": 1}}, "property names", id="empty-property-name"
    ),
    pytest.param(
        {"event_type": "track", "name": "x", "properties": {"s": "x" * 33_000}}, "32768", id="event-over-32kb"
    ),
]


@pytest.mark.parametrize(("event", "expected_error"), BAD_EVENTS)
def test_given_only_an_invalid_event_when_posted_then_400_lists_why_and_nothing_is_stored(
    collector, aws, lambda_context, event, expected_error
):
    raw = json.dumps({"events": [event]}, ensure_ascii=True).encode()

    status, _, body = call(collector, api_request("POST", "/v1/events", raw_body=raw), lambda_context)

    assert (status, body["error"]) == (400, "no_valid_events")
    (rejected,) = body["details"]
    assert rejected["index"] == 0
    assert any(expected_error in error for error in rejected["errors"]), rejected["errors"]
    aws.assert_nothing_stored_or_counted()


@pytest.mark.parametrize(
    "value",
    ["a b", "a/b", "..\\x", "#hash", "über-knöpf", "ボタン", "😀", "", "x" * 1024, "../../other-tenant"],
)
def test_given_any_printable_data_value_when_posted_then_it_is_stored_as_sent(collector, aws, lambda_context, value):
    # Data fields are data: only server-built parts reach storage paths (docs/api.md).
    status, _, body = post_events(collector, lambda_context, {"events": [click(button_id=value, session_id=value)]})

    assert (status, body["accepted"]) == (200, 1)
    (line,) = aws.raw_lines()
    assert (line["button_id"], line["session_id"]) == (value, value)


def test_given_a_missing_tenant_in_the_authorizer_context_when_posted_then_401(collector, aws, lambda_context):
    status, _, body = post_events(collector, lambda_context, {"events": [page_view()]}, tenant=None)

    assert (status, body["error"]) == (401, "unauthorized")
    aws.assert_nothing_stored_or_counted()


def test_given_a_malformed_tenant_in_the_authorizer_context_when_posted_then_401(collector, aws, lambda_context):
    status, _, _ = post_events(collector, lambda_context, {"events": [page_view()]}, tenant="../evil")

    assert status == 401
    aws.assert_nothing_stored_or_counted()


def test_given_the_base64_flag_when_the_body_is_valid_then_it_is_decoded(collector, aws, lambda_context):
    event = api_request("POST", "/v1/events", body={"events": [page_view()]})
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True

    status, _, _ = call(collector, event, lambda_context)

    assert status == 200
    assert len(aws.raw_lines()) == 1


# --- exact values (issue 10): what was accepted is stored as sent, else a 400 that names it ----------------


def test_given_an_iso_timestamp_with_milliseconds_when_posted_then_the_exact_millisecond_is_stored(
    collector, aws, lambda_context
):
    events = [page_view(timestamp="2004-09-18T00:45:12.024Z"), page_view(timestamp="2004-09-18T05:45:12.024999+05:00")]

    status, _, _ = post_events(collector, lambda_context, {"events": events})

    assert status == 200
    assert [line["timestamp"] for line in aws.raw_lines()] == [1_095_468_312_024, 1_095_468_312_024]


@pytest.mark.parametrize(
    ("raw", "location"),
    [
        (b'{"events":[{"event_type":"track","name":"x","properties":{"a":1e-400}}]}', "events[0].properties.a"),
        (b'{"events":[{"event_type":"track","name":"x","properties":{"a":1,"a":2}}]}', "events[0].properties.a"),
        (b'{"events":[{"event_type":"track","name":"x","name":"y"}]}', "events[0].name"),
        (b'{"events":[{"event_type":"track","name":"x"}],"sent_at":1,"sent_at":2}', "sent_at"),
        (b'{"events":[{"event_type":"track","name":"x","context":{"n":-1e999}}]}', "events[0].context.n"),
    ],
    ids=["underflow", "duplicate-property", "duplicate-field", "duplicate-top-level", "overflow"],
)
def test_given_a_value_json_parsing_would_change_when_posted_then_400_names_it_and_nothing_is_stored(
    collector, aws, lambda_context, raw, location
):
    status, _, answer = call(collector, api_request("POST", "/v1/events", raw_body=raw), lambda_context)

    assert (status, answer["error"]) == (400, "invalid_json")
    assert location in answer["message"]
    assert answer["details"] == [{"location": location, "problem": answer["details"][0]["problem"]}]
    aws.assert_nothing_stored_or_counted()


def test_given_negative_zero_and_number_spellings_when_posted_then_stored_as_the_same_doubles(
    collector, aws, lambda_context
):
    raw = b'{"events":[{"event_type":"track","name":"x","properties":{"a":-0,"b":-0.0,"c":1E+2,"d":0.1e1,"e":5e-324}}]}'

    status, _, _ = call(collector, api_request("POST", "/v1/events", raw_body=raw), lambda_context)

    assert status == 200
    assert aws.raw_lines()[0]["properties"] == '{"a":-0.0,"b":-0.0,"c":100.0,"d":1.0,"e":5e-324}'


@pytest.mark.parametrize("event_id", ["../../other-tenant/x", "a b#c?d", "user@example.com+1=", "é/😀", "i" * 256])
def test_given_any_printable_event_id_when_posted_then_it_is_data_and_never_a_path(
    collector, aws, lambda_context, event_id
):
    status, _, answer = post_events(collector, lambda_context, {"events": [page_view(event_id=event_id)]})
    aws.deliver()

    assert (status, answer["accepted"]) == (200, 1)
    assert aws.raw_lines()[0]["event_id"] == event_id
    keys = aws.lake_keys()
    assert keys
    assert all(key.startswith("events/page_view/tenant=acme/") for key in keys), keys  # not quarantined, not moved


def test_given_a_quote_heavy_event_under_32_kib_as_sent_when_posted_then_accepted_though_stored_larger(
    collector, aws, lambda_context
):
    event = {"event_type": "track", "name": "x", "properties": {"s": '"' * 16_000}}  # 32 KB sent, 64 KB stored

    status, _, answer = post_events(collector, lambda_context, {"events": [event]})

    assert (status, answer["accepted"]) == (200, 1)
    assert json.loads(aws.raw_lines()[0]["properties"]) == event["properties"]
