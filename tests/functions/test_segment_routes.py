"""Segment's HTTP Tracking API through the real collector: each message type stored as documented
(ingest/segment.py), nothing a library sends dropped, Segment's rules and limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import api_request, call

NOW_ISO = "2026-05-28T20:00:00.000Z"


def post(collector: Any, context: Any, path: str, body: Any, **options: Any) -> Any:
    return call(collector, api_request("POST", path, body=body, **options), context)


def test_given_a_batch_of_every_type_when_sent_then_each_is_stored_under_its_mapped_type(
    collector, aws, lambda_context
):
    batch = {
        "batch": [
            {
                "type": "track",
                "event": "Order Completed",
                "userId": "u1",
                "properties": {"total": 9.99},
                "messageId": "m-track",
            },
            {
                "type": "page",
                "anonymousId": "a1",
                "name": "Home",
                "properties": {"url": "https://shop.example/"},
                "context": {"page": {"referrer": "https://ref.example/"}, "userAgent": "UA/1"},
                "messageId": "m-page",
            },
            {"type": "screen", "userId": "u1", "name": "Cart", "messageId": "m-screen"},
            {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}, "messageId": "m-identify"},
            {"type": "group", "userId": "u1", "groupId": "g1", "traits": {"seats": 5}, "messageId": "m-group"},
            {"type": "alias", "previousId": "a1", "userId": "u1", "messageId": "m-alias"},
        ],
        "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
    }

    status, _, answer = post(collector, lambda_context, "/v1/batch", batch)

    assert (status, answer["success"], answer["accepted"], answer["rejected"]) == (200, True, 6, [])
    lines = {line["event_id"]: line for line in aws.raw_lines()}
    assert {line["event_type"] for line in lines.values()} == {
        "track",
        "page_view",
        "screen",
        "identify",
        "group",
        "alias",
    }
    assert lines["m-track"]["name"] == "Order Completed"
    assert json.loads(lines["m-track"]["properties"]) == {"total": 9.99}
    assert (lines["m-page"]["url"], lines["m-page"]["referral_url"], lines["m-page"]["useragent"]) == (
        "https://shop.example/",
        "https://ref.example/",
        "UA/1",
    )
    assert lines["m-group"]["group_id"] == "g1"
    assert lines["m-alias"]["previous_id"] == "a1"
    # The batch's context applies to every message that has none of its own keys.
    assert json.loads(lines["m-identify"]["context"])["library"]["name"] == "analytics-python"
    assert all(line["tenant"] == "acme" for line in lines.values())


@pytest.mark.parametrize("kind", ["track", "page", "screen", "identify", "group", "alias"])
def test_given_a_single_message_route_when_sent_then_the_route_names_its_type(collector, aws, lambda_context, kind):
    message = {"userId": "u1", "event": "e", "groupId": "g", "previousId": "p", "messageId": f"single-{kind}"}

    status, _, answer = post(collector, lambda_context, f"/v1/{kind}", message)

    assert (status, answer["accepted"]) == (200, 1)
    (line,) = aws.raw_lines()
    assert line["event_id"] == f"single-{kind}"


def test_given_what_a_library_adds_when_stored_then_nothing_is_dropped(collector, aws, lambda_context):
    message = {
        "type": "track",
        "event": "e",
        "anonymousId": "a",
        "timestamp": "2026-05-28T19:59:59.123456+00:00",
        "sentAt": "2026-05-28T20:00:00.000Z",
        "_metadata": {"nodeVersion": "20.20.2"},
        "integrations": {"All": True},
        "messageId": "m-extra",
    }

    post(collector, lambda_context, "/v1/batch", {"batch": [message]})

    (line,) = aws.raw_lines()
    extra = json.loads(line["extra"])
    assert extra == {
        "_metadata": {"nodeVersion": "20.20.2"},
        "timestamp": message["timestamp"],
        "sentAt": message["sentAt"],
    }
    assert json.loads(line["integrations"]) == {"All": True}


def test_given_sent_at_when_the_client_clock_is_off_then_the_timestamp_is_corrected(collector, aws, lambda_context):
    from datetime import datetime

    sent = "2020-01-01T00:00:10.000Z"
    happened = "2020-01-01T00:00:00.000Z"  # ten seconds before the client sent it, by the client's clock

    post(collector, lambda_context, "/v1/track", {"event": "e", "userId": "u", "timestamp": happened, "sentAt": sent})

    (line,) = aws.raw_lines()
    assert line["received_at"] - line["timestamp"] == 10_000
    assert datetime.fromisoformat(sent.replace("Z", "+00:00")).year == 2020


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"type": "track", "event": "e"}, "userId or anonymousId"),
        ({"type": "track", "userId": "u"}, "names its event"),
        ({"type": "alias", "userId": "u"}, "previousId and userId"),
        ({"type": "group", "userId": "u"}, "groupId"),
        ({"type": "rocket", "userId": "u"}, "type"),
        ({"type": "track", "event": "e", "userId": "u", "messageId": "line\nbreak"}, "messageId"),
        ({"type": "track", "event": "e", "userId": "u", "properties": {"n": float("inf")}}, "not valid JSON"),
    ],
    ids=["no-user", "track-no-event", "alias-no-previous", "group-no-id", "unknown-type", "bad-message-id", "infinity"],
)
def test_given_one_bad_message_when_batched_then_it_alone_is_rejected_with_its_reason(
    collector, aws, lambda_context, message, reason
):
    good = {"type": "track", "event": "ok", "userId": "u", "messageId": "good"}
    raw = json.dumps({"batch": [good, message]}, allow_nan=True).encode()

    status, _, answer = call(collector, api_request("POST", "/v1/batch", raw_body=raw), lambda_context)

    if reason == "not valid JSON":  # the body itself is refused: strict JSON
        assert (status, answer["error"]) == (400, "invalid_json")
        return
    assert (status, answer["accepted"]) == (200, 1)
    (rejected,) = answer["rejected"]
    assert rejected["index"] == 1
    assert reason in " ".join(rejected["errors"])
    assert [line["event_id"] for line in aws.raw_lines()] == ["good"]


def test_given_a_batch_over_500_kb_when_sent_then_413_and_nothing_stored(collector, aws, lambda_context):
    messages = [{"type": "track", "event": "e", "userId": "u", "properties": {"p": "x" * 20_000}} for _ in range(30)]

    status, _, answer = post(collector, lambda_context, "/v1/batch", {"batch": messages})

    assert (status, answer["error"]) == (413, "payload_too_large")
    aws.assert_nothing_stored_or_counted()


def test_given_only_bad_messages_when_sent_then_400_and_nothing_stored(collector, aws, lambda_context):
    status, _, answer = post(collector, lambda_context, "/v1/batch", {"batch": [{"type": "track"}]})

    assert (status, answer["error"]) == (400, "no_valid_events")
    aws.assert_nothing_stored_or_counted()


def sized_track(size: int, char: str) -> dict[str, Any]:
    """A track message whose compact JSON is ``size`` bytes, its bulk ``char`` repeated."""
    per_char = len(json.dumps(char, ensure_ascii=False).encode()) - 2
    for name in ("s" * length for length in range(1, per_char + 1)):
        message = {"type": "track", "event": "e", "userId": "u", "messageId": f"m-{size}", "properties": {name: ""}}
        base = len(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode())
        count, rest = divmod(size - base, per_char)
        if rest == 0:
            return {**message, "properties": {name: char * count}}
    raise AssertionError("no padding fits")


@pytest.mark.parametrize("char", ['"', "x", "é"])
@pytest.mark.parametrize("path", ["/v1/batch", "/v1/track"])
def test_given_messages_at_and_over_32_kib_as_sent_when_sent_then_the_limit_is_on_what_was_sent(
    collector, aws, lambda_context, char, path
):
    at_limit, over = sized_track(32 * 1024, char), sized_track(32 * 1024 + 1, char)
    results = []
    for message in (at_limit, over):
        body = {"batch": [message]} if path == "/v1/batch" else message
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        results.append(call(collector, api_request("POST", path, raw_body=raw), lambda_context))

    (status, _, answer), (over_status, _, over_answer) = results
    assert (status, answer["accepted"]) == (200, 1)
    assert (over_status, over_answer["error"]) == (400, "no_valid_events")
    assert "bytes as sent" in over_answer["details"][0]["errors"][0]
    (line,) = aws.raw_lines()
    assert json.loads(line["properties"]) == at_limit["properties"]


@pytest.mark.parametrize(
    "message_id", ["a/b", "user@example.com", "a+b==", "with space", "#1", "中文😀", "m" * 256, "9" * 200]
)
def test_given_any_printable_message_id_when_sent_then_it_is_the_event_id(collector, aws, lambda_context, message_id):
    status, _, answer = post(
        collector, lambda_context, "/v1/track", {"event": "e", "userId": "u", "messageId": message_id}
    )

    assert (status, answer["accepted"]) == (200, 1)
    assert aws.raw_lines()[0]["event_id"] == message_id


@pytest.mark.parametrize("message_id", ["m" * 257, "", "a\x00", "a\u2028b"])
def test_given_a_message_id_that_is_not_printable_text_of_1_to_256_when_sent_then_rejected(
    collector, aws, lambda_context, message_id
):
    status, _, answer = post(
        collector, lambda_context, "/v1/track", {"event": "e", "userId": "u", "messageId": message_id}
    )

    assert (status, answer["error"]) == (400, "no_valid_events")
    assert answer["details"][0]["errors"][0].startswith("messageId")
    aws.assert_nothing_stored_or_counted()


def test_given_a_segment_iso_timestamp_with_milliseconds_when_sent_then_exact(collector, aws, lambda_context):
    message = {"event": "e", "userId": "u", "timestamp": "2004-09-18T00:45:12.024Z"}

    status, _, _ = post(collector, lambda_context, "/v1/track", message)

    assert status == 200
    assert aws.raw_lines()[0]["timestamp"] == 1_095_468_312_024
