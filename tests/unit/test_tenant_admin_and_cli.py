from __future__ import annotations

import json
import os

import pytest

from event_collector import admin
from event_collector.errors import ClientInputError, TenantExistsError, UnknownKeyError, UnknownTenantError
from event_collector.tenant_keys import hash_secret, split_api_key
from tests.conftest import NOW


def test_given_a_new_tenant_when_a_key_is_issued_then_only_its_hash_is_stored(tenant_admin, aws):
    tenant_admin.create_tenant("acme")

    key = tenant_admin.issue_key("acme")

    parts = split_api_key(key.api_key)
    assert parts is not None
    key_id, secret = parts
    assert key_id == key.key_id
    assert len(secret) == 43
    items = aws.dynamodb.scan(TableName=os.environ["TENANT_KEYS_TABLE_NAME"])["Items"]
    stored = json.dumps(items)
    assert secret not in stored
    assert key.api_key not in stored
    assert hash_secret(secret) in stored


def test_given_an_existing_tenant_when_created_again_then_error(tenant_admin):
    tenant_admin.create_tenant("acme")
    with pytest.raises(TenantExistsError):
        tenant_admin.create_tenant("acme")


@pytest.mark.parametrize("tenant", ["A", "a", "UPPER", "../x", "a_b", "-ab", "a" * 64, "a b"])
def test_given_a_malformed_tenant_id_when_created_then_refused(tenant_admin, tenant):
    with pytest.raises(ClientInputError):
        tenant_admin.create_tenant(tenant)


def test_given_an_unknown_tenant_or_key_when_administered_then_clear_errors(tenant_admin):
    with pytest.raises(UnknownTenantError):
        tenant_admin.issue_key("ghost")
    tenant_admin.create_tenant("acme")
    with pytest.raises(UnknownKeyError):
        tenant_admin.revoke("acme", "k0123456789abcdef")


def test_given_a_rotation_when_listed_then_the_old_key_expires_after_the_overlap(tenant_admin):
    tenant_admin.create_tenant("acme")
    old = tenant_admin.issue_key("acme")

    new = tenant_admin.rotate("acme", overlap_seconds=600)

    keys = {record.key_id: record for record in tenant_admin.list_keys("acme")}
    assert keys[old.key_id].expires_at == NOW + 600
    assert keys[old.key_id].status == "active"
    assert keys[new.key_id].expires_at is None


def test_given_the_cli_when_used_end_to_end_then_keys_are_printed_once_and_listed_without_secrets(aws, capsys):
    table = ["--table", os.environ["TENANT_KEYS_TABLE_NAME"]]

    assert admin.main([*table, "create-tenant", "acme"], client=aws.dynamodb) == 0
    assert admin.main([*table, "issue-key", "acme", "--expires-in-days", "30"], client=aws.dynamodb) == 0
    issued = json.loads(capsys.readouterr().out.split("\n}\n", 1)[1])
    assert admin.main([*table, "rotate-key", "acme", "--overlap-hours", "1"], client=aws.dynamodb) == 0
    rotated = json.loads(capsys.readouterr().out)
    assert admin.main([*table, "revoke-key", "acme", issued["key_id"]], client=aws.dynamodb) == 0
    capsys.readouterr()
    assert admin.main([*table, "list-keys", "acme"], client=aws.dynamodb) == 0
    listing = json.loads(capsys.readouterr().out)

    assert issued["api_key"].startswith(issued["key_id"] + ".")
    statuses = {key["key_id"]: key["status"] for key in listing["keys"]}
    assert statuses == {issued["key_id"]: "revoked", rotated["key_id"]: "active"}
    assert "secret_hash" not in json.dumps(listing)
    assert issued["api_key"] not in json.dumps(listing)


def test_given_cli_errors_when_run_then_nonzero_exit_and_a_message(aws, capsys):
    table = ["--table", os.environ["TENANT_KEYS_TABLE_NAME"]]

    assert admin.main([*table, "issue-key", "ghost"], client=aws.dynamodb) == 1
    assert admin.main([*table, "create-tenant", "Bad_Id"], client=aws.dynamodb) == 2
    assert "does not exist" in capsys.readouterr().err
