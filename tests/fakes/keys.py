"""The tenant-keys table's ports (``KeyStore`` for the admin, ``KeyLookup`` for authentication), in memory."""

from __future__ import annotations

import base64
import dataclasses
import hashlib

from event_collector.auth.keys import KeyRecord, KeyStatus, hash_secret
from event_collector.errors import TenantExistsError


class MemoryKeyStore:
    def __init__(self) -> None:
        self.tenants: dict[str, int] = {}
        self.keys: dict[tuple[str, str], KeyRecord] = {}

    @classmethod
    def holding(cls, *records: KeyRecord) -> MemoryKeyStore:
        """A store that already holds these keys (the lookup port, for authentication tests)."""
        store = cls()
        for record in records:
            store.put_key(record)
        return store

    def tenant_exists(self, tenant: str) -> bool:
        return tenant in self.tenants

    def create_tenant(self, tenant: str, created_at: int) -> None:
        if tenant in self.tenants:
            raise TenantExistsError(f"tenant {tenant!r} already exists")
        self.tenants[tenant] = created_at

    def put_key(self, record: KeyRecord) -> None:
        self.keys[(record.tenant, record.key_id)] = record

    def list_keys(self, tenant: str) -> list[KeyRecord]:
        return [record for (owner, _), record in self.keys.items() if owner == tenant]

    def get_key(self, tenant: str, key_id: str) -> KeyRecord | None:
        return self.keys.get((tenant, key_id))

    def find_key(self, key_id: str) -> KeyRecord | None:
        found = [record for (_, found_id), record in self.keys.items() if found_id == key_id]
        return found[0] if len(found) == 1 else None

    def update_key(self, tenant: str, key_id: str, *, status: KeyStatus, expires_at: int | None) -> None:
        record = self.keys[(tenant, key_id)]
        self.keys[(tenant, key_id)] = dataclasses.replace(record, status=status, expires_at=expires_at)


class DerivedKeys:
    """Every tenant id holds one active secret key derived from the id, so a handler test can send as
    any tenant (``api_request(tenant=...)``) without issuing keys; authentication itself is tested with
    the real table (tests/functions/test_collector_access.py)."""

    @staticmethod
    def api_key_for(tenant: str) -> str:
        digest = hashlib.sha256(tenant.encode()).hexdigest()
        secret = base64.urlsafe_b64encode(hashlib.sha256(b"secret:" + tenant.encode()).digest()).decode().rstrip("=")
        return f"k{digest[:16]}.{secret}"

    def get_key(self, tenant: str, key_id: str) -> KeyRecord | None:
        expected_id, secret = self.api_key_for(tenant).split(".")
        if key_id != expected_id:
            return None
        return KeyRecord(tenant, key_id, hash_secret(secret), "active", created_at=0)

    def find_key(self, key_id: str) -> KeyRecord | None:
        return None
