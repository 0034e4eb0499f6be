"""Who may send: the collector authenticates the routes that send events itself (keys in moto's DynamoDB):
secret keys, write keys (Segment's form), writeKey for beacons, publishable keys and their origins."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Sequence
from typing import Any

import pytest

from tests.conftest import api_request, basic, call, fail_calls

TRACK = {"events": [{"event_type": "track", "name": "access", "event_id": "a-1"}]}


@pytest.fixture
def sending(aws, monkeypatch):
    """The collector with the real keys table (no derived keys), and no cache: revocations are immediate."""
    from local.functions import load_function

    module = load_function("collector")
    monkeypatch.setattr(module, "collector", module.build(firehose=aws.firehose, dynamodb=aws.dynamodb))
    return module


@pytest.fixture
def keys(tenant_admin):
    tenant_admin.create_tenant("acme")
    secret = tenant_admin.issue_key("acme")
    publishable = tenant_admin.issue_key("acme", scope="publishable", origins=("https://shop.example",))
    return {"secret": secret, "publishable": publishable}


def send(
    module: Any,
    context: Any,
    *,
    path: str = "/v1/events",
    headers: Sequence[tuple[str, str]] = (),
    query: Sequence[tuple[str, str]] = (),
    body: Any = TRACK,
    content_type: str = "application/json",
    raw: bytes | None = None,
) -> Any:
    request = api_request(
        "POST",
        path,
        raw_body=raw if raw is not None else json.dumps(body).encode(),
        content_type=content_type,
        headers=list(headers),
        query=list(query),
        tenant=None,
    )
    return call(module, request, context)


def write_key_header(api_key: str) -> tuple[str, str]:
    return "Authorization", "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()


def test_given_a_secret_key_as_tenant_and_key_when_sending_then_stored_for_that_tenant(
    sending, aws, keys, lambda_context
):
    status, headers, answer = send(
        sending, lambda_context, headers=[("Authorization", basic("acme", keys["secret"].api_key))]
    )

    assert (status, answer["accepted"]) == (200, 1)
    assert aws.raw_lines()[0]["tenant"] == "acme"
    assert headers["Access-Control-Allow-Origin"] == "*"


def test_given_a_write_key_alone_when_sending_then_its_tenant_is_found_from_the_key(sending, aws, keys, lambda_context):
    status, _, _ = send(sending, lambda_context, headers=[write_key_header(keys["secret"].api_key)])

    assert status == 200
    assert aws.raw_lines()[0]["tenant"] == "acme"


def test_given_a_beacon_with_its_key_in_the_body_when_sent_as_text_then_stored_without_the_key(
    sending, aws, keys, lambda_context
):
    body = {**TRACK, "writeKey": keys["secret"].api_key}

    status, _, _ = send(sending, lambda_context, body=body, content_type="text/plain;charset=UTF-8")

    assert status == 200
    (line,) = aws.raw_lines()
    assert keys["secret"].api_key not in json.dumps(line)
    assert line["name"] == "access"


def test_given_a_key_in_the_query_string_when_sending_then_admitted(sending, aws, keys, lambda_context):
    status, _, _ = send(sending, lambda_context, query=[("writeKey", keys["secret"].api_key)])

    assert status == 200


@pytest.mark.parametrize(
    ("credentials", "status", "code"),
    [
        ({}, 401, "unauthorized"),
        ({"query": [("writeKey", "k0000000000000000." + "A" * 43)]}, 403, "forbidden"),
        ({"query": [("writeKey", "not-a-key")]}, 401, "unauthorized"),
        ({"headers": [("Authorization", "Bearer x")]}, 401, "unauthorized"),
        ({"two": True}, 401, "unauthorized"),
    ],
    ids=["none", "unknown-key", "malformed-key", "not-basic", "header-and-query"],
)
def test_given_missing_wrong_or_doubled_credentials_when_sending_then_refused_and_nothing_stored(
    sending, aws, keys, lambda_context, credentials, status, code
):
    if credentials.get("two"):
        credentials = {
            "headers": [("Authorization", basic("acme", keys["secret"].api_key))],
            "query": [("writeKey", keys["secret"].api_key)],
        }
    found, headers, answer = send(sending, lambda_context, **credentials)

    assert (found, answer["error"]) == (status, code)
    if status == 401:
        assert headers["WWW-Authenticate"].startswith("Basic")
    aws.assert_nothing_stored_or_counted()


KEY_FORM = "a key reads k, 16 hex digits, '.', then 43 characters"
EMPTY_PASSWORD = (
    f"The username is not a write key ({KEY_FORM}), and an empty password means it should be one; "
    "to send a tenant id, put its API key in the password"
)


def mistyped(api_key: str) -> str:
    return api_key[:-1]


def unknown(api_key: str) -> str:
    return api_key[:-1] + ("A" if api_key[-1] != "A" else "B")


@pytest.mark.parametrize(
    ("username", "password", "status", "message"),
    [
        (mistyped, "", 401, f"The write key (the username) is malformed: {KEY_FORM}"),
        (unknown, "", 403, "The write key is not a key this stack issued"),
        ("hunter2", "", 401, EMPTY_PASSWORD),
        ("acme", "", 401, EMPTY_PASSWORD),
        (
            "",
            "",
            401,
            "The credentials are empty: send tenant:api_key, or a write key as the username with an empty password",
        ),
        (
            "",
            lambda key: key,
            401,
            "The tenant id (the username) is empty: send tenant:api_key, or a write key as the username with an empty password",
        ),
        (
            lambda key: key,
            lambda key: key,
            401,
            "The username is a write key, so the password must be empty (or send tenant:api_key)",
        ),
        (
            "Acme",
            lambda key: key,
            401,
            "The tenant id (the username) is malformed: it must match ^[a-z0-9][a-z0-9-]{1,62}$",
        ),
        ("acme", "hunter2", 403, f"The API key (the password) is malformed: {KEY_FORM}"),
        ("acme", unknown, 403, "Unknown tenant, or the API key is not one of its keys"),
        ("globex", lambda key: key, 403, "Unknown tenant, or the API key is not one of its keys"),
    ],
    ids=[
        "write-key-mistyped",
        "write-key-unknown",
        "hunter2-colon",
        "tenant-colon",
        "colon-alone",
        "no-tenant",
        "write-key-and-password",
        "tenant-malformed",
        "tenant-key-malformed",
        "tenant-key-unknown",
        "other-tenant",
    ],
)
def test_given_each_credential_shape_sent_wrong_when_sending_then_the_message_names_what_was_wrong(
    sending, aws, keys, lambda_context, username, password, status, message
):
    key = keys["secret"].api_key
    user = username(key) if callable(username) else username
    secret = password(key) if callable(password) else password
    header = ("Authorization", "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode())

    found, _, answer = send(sending, lambda_context, headers=[header])

    assert (found, answer["message"]) == (status, message)
    assert [part for part in (user, secret) if len(part) >= 4 and part in answer["message"]] == []
    aws.assert_nothing_stored_or_counted()


@pytest.mark.parametrize(
    ("write_key", "message"),
    [
        ("", "The writeKey is empty"),
        ("k3f9a0c1d2e4b5a69.short", f"The writeKey is malformed: {KEY_FORM}"),
        ("k0000000000000000." + "A" * 43, "The write key is not a key this stack issued"),
    ],
    ids=["empty", "malformed", "unknown"],
)
def test_given_a_wrong_write_key_in_the_query_string_when_sending_then_the_message_names_it(
    sending, aws, keys, lambda_context, write_key, message
):
    _, _, answer = send(sending, lambda_context, query=[("writeKey", write_key)])

    assert answer["message"] == message
    aws.assert_nothing_stored_or_counted()


def test_given_a_revoked_key_when_sending_then_the_message_says_it_was_revoked(
    sending, aws, keys, tenant_admin, lambda_context
):
    tenant_admin.revoke("acme", keys["secret"].key_id)

    found, _, answer = send(sending, lambda_context, headers=[write_key_header(keys["secret"].api_key)])

    assert (found, answer["message"]) == (403, "The API key was revoked")


def test_given_a_publishable_key_from_its_origin_when_sending_then_cors_names_that_origin(
    sending, aws, keys, lambda_context
):
    status, headers, _ = send(
        sending,
        lambda_context,
        headers=[write_key_header(keys["publishable"].api_key), ("Origin", "https://shop.example")],
    )

    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert headers["Vary"] == "Origin"


@pytest.mark.parametrize("origin", ["https://evil.example", "http://shop.example", "null", None])
def test_given_a_publishable_key_from_elsewhere_when_sending_then_403_without_cors(
    sending, aws, keys, lambda_context, origin
):
    headers = [write_key_header(keys["publishable"].api_key)] + ([("Origin", origin)] if origin else [])

    status, answer_headers, answer = send(sending, lambda_context, headers=headers)

    assert (status, answer["error"]) == (403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in answer_headers
    aws.assert_nothing_stored_or_counted()


def test_given_a_revoked_key_when_sending_then_403(sending, aws, keys, tenant_admin, lambda_context):
    tenant_admin.revoke("acme", keys["secret"].key_id)

    status, _, answer = send(
        sending, lambda_context, headers=[("Authorization", basic("acme", keys["secret"].api_key))]
    )

    assert (status, answer["error"]) == (403, "forbidden")


def test_given_the_keys_table_failing_when_sending_then_503_and_nothing_stored(sending, aws, keys, lambda_context):
    fail_calls(aws.dynamodb, "GetItem", "InternalServerError")

    status, headers, answer = send(
        sending, lambda_context, headers=[("Authorization", basic("acme", keys["secret"].api_key))]
    )

    assert (status, answer["error"]) == (503, "keys_unavailable")
    assert headers["Retry-After"] == "1"
    aws.assert_nothing_stored_or_counted()


def test_given_a_gzip_body_when_sent_then_it_is_decompressed(sending, aws, keys, lambda_context):
    raw = gzip.compress(json.dumps(TRACK).encode())
    headers = [("Authorization", basic("acme", keys["secret"].api_key)), ("Content-Encoding", "gzip")]

    status, _, _ = send(sending, lambda_context, headers=headers, raw=raw)

    assert status == 200
    assert aws.raw_lines()[0]["name"] == "access"


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (gzip.compress(b"{" + b" " * (2 * 1024 * 1024) + b"}"), 413, "payload_too_large"),
        (b"not gzip at all", 400, "invalid_encoding"),
        (gzip.compress(json.dumps(TRACK).encode())[:-12], 400, "invalid_encoding"),
    ],
    ids=["expands-past-the-limit", "not-gzip", "truncated"],
)
def test_given_a_bad_gzip_body_when_sent_then_4xx_and_nothing_stored(
    sending, aws, keys, lambda_context, raw, status, code
):
    headers = [("Authorization", basic("acme", keys["secret"].api_key)), ("Content-Encoding", "gzip")]

    found, _, answer = send(sending, lambda_context, headers=headers, raw=raw)

    assert (found, answer["error"]) == (status, code)
    aws.assert_nothing_stored_or_counted()


def test_given_a_publishable_key_when_reading_counts_then_the_authorizer_denies_it(authorizer, keys, lambda_context):
    from tests.conftest import authorizer_event

    event = authorizer_event(method="GET", path="/v1/counts", headers=[write_key_header(keys["publishable"].api_key)])

    answer = authorizer.lambda_handler(event, lambda_context)

    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"


# Every route that sends events, with a body it accepts; the writeKey goes into that body.
SEND_BODIES: dict[str, dict[str, Any]] = {
    "/v1/events": {"events": [{"event_type": "track", "name": "k", "event_id": "k-1"}]},
    "/button/click": {"button_id": "b", "session_id": "s"},
    "/web/page_view": {"url": "https://x.example/", "session_id": "s"},
    "/v1/batch": {"batch": [{"type": "track", "userId": "u", "event": "k", "messageId": "k-1"}]},
    "/v1/track": {"userId": "u", "event": "k", "messageId": "k-1"},
    "/v1/page": {"userId": "u", "name": "Home", "messageId": "k-1"},
    "/v1/screen": {"userId": "u", "name": "Cart", "messageId": "k-1"},
    "/v1/identify": {"userId": "u", "traits": {"a": 1}, "messageId": "k-1"},
    "/v1/group": {"userId": "u", "groupId": "g", "messageId": "k-1"},
    "/v1/alias": {"userId": "u", "previousId": "p", "messageId": "k-1"},
}


@pytest.mark.parametrize("path", sorted(SEND_BODIES))
@pytest.mark.parametrize("carried", ["header and body", "query and body", "body alone"])
def test_given_a_key_in_the_body_on_any_send_route_when_stored_then_the_key_is_not(
    sending, aws, keys, lambda_context, path, carried
):
    """Segment's Python library sends its write key in the Authorization header and in the body."""
    api_key = keys["secret"].api_key
    headers = [write_key_header(api_key)] if carried == "header and body" else []
    query = [("writeKey", api_key)] if carried == "query and body" else []

    status, _, answer = send(
        sending,
        lambda_context,
        path=path,
        headers=headers,
        query=query,
        body={**SEND_BODIES[path], "writeKey": api_key},
    )

    assert status == 200, answer
    lines = aws.raw_lines()
    assert len(lines) == 1
    assert api_key not in json.dumps(lines)
    assert keys["secret"].api_key.split(".")[1] not in json.dumps(lines)


@pytest.mark.parametrize("path", ["/v1/events", "/v1/track", "/v1/batch"])
def test_given_a_body_key_other_than_the_header_key_when_sent_then_401_and_nothing_stored(
    sending, aws, keys, tenant_admin, lambda_context, path
):
    tenant_admin.create_tenant("globex")
    other = tenant_admin.issue_key("globex").api_key
    body = {**SEND_BODIES[path], "writeKey": other}

    status, _, answer = send(
        sending, lambda_context, path=path, headers=[write_key_header(keys["secret"].api_key)], body=body
    )

    assert (status, answer["error"]) == (401, "unauthorized")
    assert other not in json.dumps(answer)
    assert aws.raw_lines() == []


def test_given_a_write_key_inside_each_segment_message_when_stored_then_it_is_not(sending, aws, keys, lambda_context):
    api_key = keys["secret"].api_key
    message = {**SEND_BODIES["/v1/track"], "type": "track", "writeKey": api_key, "library": "analytics.js"}

    status, _, _ = send(
        sending, lambda_context, path="/v1/batch", headers=[write_key_header(api_key)], body={"batch": [message]}
    )

    assert status == 200
    (line,) = aws.raw_lines()
    assert api_key not in json.dumps(line)
    assert json.loads(line["extra"]) == {"library": "analytics.js"}  # the rest of what the library added stays


@pytest.fixture
def rate_limited(aws, monkeypatch):
    """The collector whose rate limiter sees a fixed moment, 20 s into a minute (no wall clock)."""
    import os

    from event_collector.auth.rates import RateLimiter
    from event_collector.aws.rate_limits import RateLimitTable
    from local.functions import load_function

    module = load_function("collector")
    limiter = RateLimiter(
        RateLimitTable(aws.dynamodb, os.environ["COUNTERS_TABLE_NAME"]), clock=lambda: 1_740_000_020.0
    )
    monkeypatch.setattr(module, "collector", module.build(firehose=aws.firehose, dynamodb=aws.dynamodb, rates=limiter))
    return module


def test_given_a_key_with_a_rate_limit_when_over_it_then_429_with_retry_after_and_nothing_stored(
    rate_limited, aws, tenant_admin, lambda_context
):
    tenant_admin.create_tenant("acme")
    limited = tenant_admin.issue_key(
        "acme", scope="publishable", origins=("https://shop.example",), rate_per_minute=2
    ).api_key
    unlimited = tenant_admin.issue_key("acme").api_key
    beacon_query, page_origin = [("writeKey", limited)], [("Origin", "https://shop.example")]

    answers = [send(rate_limited, lambda_context, query=beacon_query, headers=page_origin)[:2] for _ in range(3)]

    assert [status for status, _ in answers] == [200, 200, 429]
    assert answers[2][1]["Retry-After"] == "40"
    assert answers[2][1]["Access-Control-Allow-Origin"] == "https://shop.example"  # the page can read the 429
    assert len(aws.raw_lines()) == 2
    for _ in range(5):  # a key without a limit is never counted
        assert send(rate_limited, lambda_context, headers=[write_key_header(unlimited)])[0] == 200


def test_given_a_rate_limit_out_of_range_when_issued_then_refused(tenant_admin):
    from event_collector.errors import ClientInputError

    tenant_admin.create_tenant("acme")
    for rate in (0, -1, 10_000_000):
        with pytest.raises(ClientInputError, match="rate limit"):
            tenant_admin.issue_key("acme", rate_per_minute=rate)
