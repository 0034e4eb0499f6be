"""HTTP Basic parsing, API keys and the authorizer's decision, without AWS."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_collector.auth.basic import MalformedCredentials, parse_basic_authorization
from event_collector.auth.decision import authorization_values, decide
from event_collector.auth.keys import KeyRecord, issue_key, split_api_key
from event_collector.identifiers import TENANT_ID_PATTERN
from tests.fakes.keys import MemoryKeyStore

NOW = 1_780_000_000


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


@given(st.from_regex(TENANT_ID_PATTERN, fullmatch=True), st.text(min_size=1, max_size=200))
def test_given_any_tenant_and_key_when_encoded_then_parsing_gives_them_back(tenant, api_key):
    header = basic(f"{tenant}:{api_key}")
    if len(header) > 512:
        return
    credentials = parse_basic_authorization(header)

    assert (credentials.tenant, credentials.api_key) == (tenant, api_key)
    assert repr(credentials) == f"Credentials(tenant={tenant!r}, api_key=<redacted>)"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("Bearer abc", "Basic"),
        ("Basic ", "Basic"),
        ("Basic !!!", "base64"),
        ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "UTF-8"),
        (basic("acme"), "tenant:api_key"),
        (basic("ACME:key"), "tenant id"),
        (basic("../x:key"), "tenant id"),
        (basic("acme:"), "empty"),
        ("Basic " + "A" * 600, "too long"),
    ],
)
def test_given_malformed_headers_when_parsed_then_the_reason_is_named_and_the_header_never_echoed(header, reason):
    with pytest.raises(MalformedCredentials, match=reason) as raised:
        parse_basic_authorization(header)
    payload = (header or "").partition(" ")[2]
    assert len(payload) < 4 or payload not in str(raised.value)


@pytest.fixture
def issued():
    return issue_key()


def record(issued, **changes) -> KeyRecord:
    fields = {"tenant": "acme", "key_id": issued.key_id, "secret_hash": issued.secret_hash, "status": "active"}
    return KeyRecord(**{**fields, "created_at": NOW - 10, **changes})


def test_given_an_issued_key_when_split_then_id_and_secret_come_back_and_only_the_hash_is_kept(issued):
    parts = split_api_key(issued.api_key)
    assert parts is not None
    key_id, secret = parts

    assert key_id == issued.key_id
    assert secret not in issued.secret_hash


@pytest.mark.parametrize(
    ("changes", "api_key_of", "outcome", "reason"),
    [
        ({}, lambda k: k.api_key, "allow", "valid key"),
        ({"status": "revoked"}, lambda k: k.api_key, "deny", "revoked"),
        ({"expires_at": NOW}, lambda k: k.api_key, "deny", "expired"),
        ({}, lambda k: k.api_key[:-1] + ("A" if k.api_key[-1] != "A" else "B"), "deny", "unknown"),
        ({"tenant": "globex"}, lambda k: k.api_key, "deny", "unknown"),
        ({}, lambda k: "not-a-key", "deny", "wrong format"),
    ],
)
def test_given_a_key_when_decided_then_only_a_current_exact_key_of_that_tenant_is_allowed(
    issued, changes, api_key_of, outcome, reason
):
    decision = decide([basic(f"acme:{api_key_of(issued)}")], MemoryKeyStore.holding(record(issued, **changes)), NOW)

    assert (decision.outcome, reason in decision.reason) == (outcome, True)


def test_given_two_authorization_headers_when_decided_then_unauthorized_even_if_both_are_valid(issued):
    header = basic(f"acme:{issued.api_key}")
    event = {"multiValueHeaders": {"Authorization": [header], "authorization": [header]}}

    decision = decide(authorization_values(event), MemoryKeyStore.holding(record(issued)), NOW)

    assert decision.outcome == "unauthorized"
