"""The local gateway's log of rejected events and refused requests (the dashboard's "rejected" panel)."""

from __future__ import annotations

import base64
import gzip
import json

from local.rejections import MAX_KEPT, RejectionLog

KEYS = {"kaaaa": "acme", "kbbbb": "globex"}


def log() -> RejectionLog:
    return RejectionLog(KEYS.get, clock=lambda: 1_700_000_000.0)


def basic(user: str, password: str = "") -> list[tuple[str, str]]:
    return [("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())]


def test_each_rejected_event_of_an_accepted_batch_is_kept_with_its_reason_and_body() -> None:
    rejections = log()
    body = json.dumps({"events": [{"event_type": "track", "name": "ok"}, {"event_type": "track", "colour": 1}]})
    answer = {"accepted": 1, "rejected": [{"index": 1, "event_id": "r-1", "errors": ["colour: Extra inputs"]}]}

    rejections.observe(
        "POST", "/v1/events", basic("acme", "kaaaa.s"), "", body.encode(), 200, json.dumps(answer).encode()
    )

    (kept,) = rejections.latest("acme")
    assert (kept["error"], kept["message"], kept["event_id"], kept["index"]) == (
        "rejected",
        "colour: Extra inputs",
        "r-1",
        1,
    )
    assert json.loads(kept["event"]) == {"event_type": "track", "colour": 1}
    assert kept["at"] == 1_700_000_000_000


def test_a_batch_with_no_valid_event_keeps_every_reason() -> None:
    rejections = log()
    body = json.dumps({"events": [{"event_type": "x"}, {"event_type": "y"}]}).encode()
    details = [{"index": 0, "event_id": None, "errors": ["bad type"]}, {"index": 1, "event_id": None, "errors": ["no"]}]
    answer = {"error": "no_valid_events", "message": "Every event was rejected", "details": details}

    rejections.observe("POST", "/v1/events", basic("kbbbb.s"), "", body, 400, json.dumps(answer).encode())

    assert [r["message"] for r in rejections.latest("globex")] == ["no", "bad type"]  # newest first


def test_a_refused_request_is_kept_once_and_shown_to_its_tenant_only() -> None:
    rejections = log()
    refused = json.dumps({"error": "payload_too_large", "message": "over 1 MiB"}).encode()
    gzipped = gzip.compress(json.dumps({"batch": []}).encode())

    rejections.observe("POST", "/v1/batch", [], "writeKey=kaaaa.s", gzipped, 413, refused)
    rejections.observe("POST", "/v1/events", basic("nobody", "kzzzz.s"), "", b"{}", 403, b'{"error": "forbidden"}')

    assert [(r["tenant"], r["error"]) for r in rejections.latest("acme")] == [("acme", "payload_too_large")]
    assert rejections.latest("globex") == []
    assert [r["tenant"] for r in rejections.latest()] == [None, "acme"]


def test_reads_answers_and_server_errors_are_not_rejections_and_the_log_is_bounded() -> None:
    rejections = log()
    rejections.observe("GET", "/v1/counts", basic("acme", "kaaaa.s"), "", b"", 400, b'{"error": "invalid_query"}')
    rejections.observe("POST", "/v1/events", basic("acme", "kaaaa.s"), "", b"{}", 503, b'{"error": "delivery_failed"}')
    rejections.observe("POST", "/v1/events", basic("acme", "kaaaa.s"), "", b"{}", 400, b"not json")
    assert rejections.latest() == []

    for number in range(MAX_KEPT + 5):
        answer = json.dumps({"error": "invalid_json", "message": str(number)}).encode()
        rejections.observe("POST", "/v1/events", basic("acme", "kaaaa.s"), "", b"{", 400, answer)
    assert len(rejections.latest(limit=10_000)) == MAX_KEPT
    assert rejections.latest(limit=1)[0]["message"] == str(MAX_KEPT + 4)


def test_a_key_in_a_rejected_message_is_never_shown_and_clean_answers_cost_no_lookup() -> None:
    looked_up: list[str] = []

    def tenant_of(key_id: str) -> str | None:
        looked_up.append(key_id)
        return KEYS.get(key_id)

    rejections = RejectionLog(tenant_of)
    rejections.observe(
        "POST", "/v1/events", basic("acme", "kaaaa.s"), "", b"{}", 200, b'{"accepted": 1, "rejected": []}'
    )
    assert looked_up == []

    body = json.dumps({"writeKey": "kaaaa.secret-part", "userId": "u"}).encode()
    answer = {"error": "no_valid_events", "details": [{"index": 0, "event_id": None, "errors": ["event: required"]}]}
    rejections.observe("POST", "/v1/track", [], "", body, 400, json.dumps(answer).encode())

    (kept,) = rejections.latest("acme")
    assert "secret-part" not in json.dumps(kept)
    assert json.loads(kept["event"])["writeKey"] == "<redacted>"
    assert looked_up == ["kaaaa"]
