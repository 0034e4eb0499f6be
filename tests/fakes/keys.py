"""The tenant-keys table's port (``KeyStore`` / ``KeyLookup``), in memory."""

from __future__ import annotations

from event_collector.auth.keys import KeyRecord, KeyStatus
from event_collector.errors import TenantExistsError


class MemoryKeyStore:
    def __init__(self) -> None:
        self.tenants: dict[str, int] = {}
        self.keys: dict[tuple[str, str], KeyRecord] = {}

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

    def update_key(self, tenant: str, key_id: str, *, status: KeyStatus, expires_at: int | None) -> None:
        record = self.keys[(tenant, key_id)]
        self.keys[(tenant, key_id)] = KeyRecord(
            record.tenant, record.key_id, record.secret_hash, status, record.created_at, expires_at
        )
