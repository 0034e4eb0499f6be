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


KEY_FORM = "a key reads k, 16 hex digits, '.', then 43 characters"
BOTH_FORMS = "send tenant:api_key, or a write key as the username with an empty password"
WRITE_KEY = "k3f9a0c1d2e4b5a69." + "Z" * 43


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, f"missing Authorization header: {BOTH_FORMS} (HTTP Basic)"),
        ("", f"missing Authorization header: {BOTH_FORMS} (HTTP Basic)"),
        ("Bearer abc", "Authorization scheme must be Basic"),
        ("Basic ", "Authorization scheme must be Basic"),
        ("Basic !!!", "credentials are not valid base64-encoded UTF-8"),
        ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "credentials are not valid base64-encoded UTF-8"),
        ("Basic " + "A" * 600, "Authorization header too long (over 512 characters)"),
        (basic("acme"), f"credentials have no ':' between username and password: {BOTH_FORMS}"),
        (basic(WRITE_KEY), f"credentials have no ':' between username and password: {BOTH_FORMS}"),
        (basic(":"), f"the credentials are empty: {BOTH_FORMS}"),
        (basic(":" + WRITE_KEY), f"the tenant id (the username) is empty: {BOTH_FORMS}"),
        (basic("ACME:key"), "the tenant id (the username) is malformed: it must match ^[a-z0-9][a-z0-9-]{1,62}$"),
        (basic("../x:key"), "the tenant id (the username) is malformed: it must match ^[a-z0-9][a-z0-9-]{1,62}$"),
        (
            basic(f"{WRITE_KEY}:{WRITE_KEY}"),
            "the username is a write key, so the password must be empty (or send tenant:api_key)",
        ),
        # A write key mistyped (cut short, a character lost, pasted with a space): its own form, no tenant id.
        (basic(WRITE_KEY[:-1] + ":"), f"the write key (the username) is malformed: {KEY_FORM}"),
        (basic(WRITE_KEY.replace(".", "") + ":"), f"the write key (the username) is malformed: {KEY_FORM}"),
        (basic(" " + WRITE_KEY + ":"), f"the write key (the username) is malformed: {KEY_FORM}"),
        # An empty password means a write key (docs/authentication.md): ``hunter2:`` and ``acme:`` are not one.
        (
            basic("hunter2:"),
            f"the username is not a write key ({KEY_FORM}), and an empty password means it should be one; "
            "to send a tenant id, put its API key in the password",
        ),
        (
            basic("acme:"),
            f"the username is not a write key ({KEY_FORM}), and an empty password means it should be one; "
            "to send a tenant id, put its API key in the password",
        ),
    ],
    ids=[
        "none",
        "empty",
        "bearer",
        "basic-alone",
        "not-base64",
        "not-utf8",
        "too-long",
        "tenant-no-colon",
        "write-key-no-colon",
        "colon-alone",
        "empty-tenant",
        "uppercase-tenant",
        "path-tenant",
        "write-key-with-password",
        "write-key-cut-short",
        "write-key-without-dot",
        "write-key-with-space",
        "hunter2-colon",
        "tenant-colon",
    ],
)
def test_given_malformed_headers_when_parsed_then_the_reason_is_named_and_the_header_never_echoed(header, reason):
    with pytest.raises(MalformedCredentials) as raised:
        parse_basic_authorization(header)

    assert raised.value.reason == reason
    payload = (header or "").partition(" ")[2]
    sent = [payload, *sent_parts(payload)]
    assert [part for part in sent if len(part) >= 4 and part in str(raised.value)] == []


def sent_parts(payload: str) -> list[str]:
    """The username and password a Basic payload decodes to (none if it does not decode)."""
    try:
        return base64.b64decode(payload, validate=True).decode("utf-8").split(":")
    except ValueError:
        return []


def test_given_a_write_key_with_an_empty_password_when_parsed_then_it_names_no_tenant():
    credentials = parse_basic_authorization(basic(WRITE_KEY + ":"))

    assert (credentials.tenant, credentials.api_key) == (None, WRITE_KEY)


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
        ({}, lambda k: "not-a-key", "deny", "the API key (the password) is malformed"),
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
