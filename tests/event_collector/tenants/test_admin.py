from __future__ import annotations

import json
import os

import pytest

from event_collector.auth.keys import hash_secret, split_api_key
from event_collector.errors import ClientInputError, TenantExistsError, UnknownKeyError, UnknownTenantError
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
