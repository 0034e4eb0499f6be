"""The REQUEST authorizer through its real handler, with keys in moto's DynamoDB."""

from __future__ import annotations

import base64
import logging

import pytest

from tests.conftest import NOW, authorizer_event, basic, fail_calls


def authorize(authorizer, lambda_context, header: str | None, monkeypatch, now: int = NOW):
    monkeypatch.setattr(authorizer.time, "time", lambda: now)
    headers = [("Authorization", header)] if header is not None else []
    return authorizer.lambda_handler(
        authorizer_event(method="POST", path="/v1/events", headers=headers), lambda_context
    )


@pytest.fixture
def issued(tenant_admin):
    tenant_admin.create_tenant("acme")
    return tenant_admin.issue_key("acme")


def test_given_a_valid_key_when_authorizing_then_allow_the_whole_stage_with_the_tenant_in_context(
    authorizer, issued, lambda_context, monkeypatch
):
    response = authorize(authorizer, lambda_context, basic("acme", issued.api_key), monkeypatch)

    (statement,) = response["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == ["arn:aws:execute-api:us-east-1:123456789012:localapi01/prod/*/*"]
    assert response["context"] == {"tenant": "acme", "key_id": issued.key_id}
    assert response["principalId"] == "acme"


def test_given_a_lowercase_header_name_when_authorizing_then_it_is_found(
    authorizer, issued, lambda_context, monkeypatch
):
    monkeypatch.setattr(authorizer.time, "time", lambda: NOW)
    event = authorizer_event(
        method="GET", path="/v1/counts", headers=[("authorization", basic("acme", issued.api_key))]
    )

    response = authorizer.lambda_handler(event, lambda_context)

    assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow"


MALFORMED = [
    pytest.param(None, id="missing"),
    pytest.param("", id="empty"),
    pytest.param("Bearer abc", id="wrong-scheme"),
    pytest.param("Basic", id="no-credentials"),
    pytest.param("Basic !!!not-base64!!!", id="bad-base64"),
    pytest.param("Basic " + base64.b64encode(b"acme-no-colon").decode(), id="no-colon"),
    pytest.param("Basic " + base64.b64encode(b"acme:\xff\xfe").decode(), id="non-utf8"),
    pytest.param("Basic " + base64.b64encode(b"ACME:key").decode(), id="tenant-uppercase"),
    pytest.param("Basic " + base64.b64encode(b"../x:key").decode(), id="tenant-traversal"),
    pytest.param("Basic " + base64.b64encode(b"acme:").decode(), id="empty-key"),
    pytest.param("Basic " + "A" * 600, id="over-long"),
]


@pytest.mark.parametrize("header", MALFORMED)
def test_given_a_missing_or_malformed_header_when_authorizing_then_unauthorized(
    authorizer, issued, lambda_context, monkeypatch, header
):
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(authorizer, lambda_context, header, monkeypatch)


def _denied(response) -> bool:
    return response["policyDocument"]["Statement"][0]["Effect"] == "Deny" and "context" not in response


def test_given_a_wrong_secret_when_authorizing_then_deny(authorizer, issued, lambda_context, monkeypatch):
    wrong = issued.key_id + "." + "A" * 43
    assert _denied(authorize(authorizer, lambda_context, basic("acme", wrong), monkeypatch))


def test_given_another_tenants_key_when_authorizing_then_deny(
    authorizer, issued, tenant_admin, lambda_context, monkeypatch
):
    tenant_admin.create_tenant("globex")
    assert _denied(authorize(authorizer, lambda_context, basic("globex", issued.api_key), monkeypatch))


def test_given_an_unknown_tenant_or_garbage_key_when_authorizing_then_deny(
    authorizer, issued, lambda_context, monkeypatch
):
    assert _denied(authorize(authorizer, lambda_context, basic("nobody", issued.api_key), monkeypatch))
    assert _denied(authorize(authorizer, lambda_context, basic("acme", "not-a-key"), monkeypatch))


def test_given_a_revoked_key_when_authorizing_then_deny(authorizer, issued, tenant_admin, lambda_context, monkeypatch):
    tenant_admin.revoke("acme", issued.key_id)
    assert _denied(authorize(authorizer, lambda_context, basic("acme", issued.api_key), monkeypatch))


def test_given_an_expired_key_when_authorizing_then_deny(authorizer, tenant_admin, lambda_context, monkeypatch):
    tenant_admin.create_tenant("acme")
    key = tenant_admin.issue_key("acme", expires_in_seconds=60)

    assert not _denied(authorize(authorizer, lambda_context, basic("acme", key.api_key), monkeypatch, now=NOW + 59))
    assert _denied(authorize(authorizer, lambda_context, basic("acme", key.api_key), monkeypatch, now=NOW + 60))


def test_given_a_rotation_when_authorizing_then_both_keys_work_during_the_overlap_only(
    authorizer, issued, tenant_admin, lambda_context, monkeypatch
):
    new = tenant_admin.rotate("acme", overlap_seconds=3600)

    during = NOW + 1800
    assert not _denied(authorize(authorizer, lambda_context, basic("acme", issued.api_key), monkeypatch, now=during))
    assert not _denied(authorize(authorizer, lambda_context, basic("acme", new.api_key), monkeypatch, now=during))
    after = NOW + 3600
    assert _denied(authorize(authorizer, lambda_context, basic("acme", issued.api_key), monkeypatch, now=after))
    assert not _denied(authorize(authorizer, lambda_context, basic("acme", new.api_key), monkeypatch, now=after))


def test_given_any_request_when_authorizing_then_the_header_and_key_are_never_logged(
    authorizer, issued, lambda_context, monkeypatch, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    authorizer.logger.setLevel(logging.DEBUG)
    header = basic("acme", issued.api_key)
    authorize(authorizer, lambda_context, header, monkeypatch)
    authorize(authorizer, lambda_context, basic("acme", issued.key_id + "." + "B" * 43), monkeypatch)

    logged = caplog.text + capsys.readouterr().out
    assert "Authorization decision" in caplog.text
    secret = issued.api_key.split(".")[1]
    assert header not in logged
    assert secret not in logged
    assert "B" * 43 not in logged
    authorizer.logger.setLevel(logging.WARNING)


def test_given_dynamodb_fails_when_authorizing_then_the_authorizer_fails_closed(
    authorizer, issued, aws, lambda_context, monkeypatch
):
    fail_calls(aws.dynamodb, "GetItem", "InternalServerError")

    with pytest.raises(Exception, match="reading a key failed"):
        authorize(authorizer, lambda_context, basic("acme", issued.api_key), monkeypatch)


@pytest.mark.parametrize(
    "names",
    [("Authorization", "Authorization"), ("Authorization", "authorization"), ("AUTHORIZATION", "authorization")],
    ids=["same-spelling", "two-spellings", "upper-and-lower"],
)
def test_given_two_authorization_headers_when_authorizing_then_401_even_if_one_is_valid(
    authorizer, issued, tenant_admin, lambda_context, monkeypatch, names
):
    tenant_admin.create_tenant("globex")
    other = tenant_admin.issue_key("globex")
    monkeypatch.setattr(authorizer.time, "time", lambda: NOW)
    headers = [(names[0], basic("acme", issued.api_key)), (names[1], basic("globex", other.api_key))]
    event = authorizer_event(method="POST", path="/v1/events", headers=headers)

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer.lambda_handler(event, lambda_context)


def test_given_the_same_credential_twice_when_authorizing_then_still_401(
    authorizer, issued, lambda_context, monkeypatch
):
    monkeypatch.setattr(authorizer.time, "time", lambda: NOW)
    header = basic("acme", issued.api_key)
    event = authorizer_event(method="POST", path="/v1/events", headers=[("Authorization", header)] * 2)

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer.lambda_handler(event, lambda_context)
