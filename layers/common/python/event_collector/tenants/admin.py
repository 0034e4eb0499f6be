"""Tenant and key administration: create, issue, list, rotate, revoke."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from event_collector.auth.keys import IssuedKey, KeyRecord, KeyScope, KeyStatus, issue_key
from event_collector.auth.origins import normalize_origin
from event_collector.errors import ClientInputError, UnknownKeyError, UnknownTenantError
from event_collector.identifiers import TENANT_ID_PATTERN, is_key_id, is_tenant_id

DEFAULT_ROTATION_OVERLAP_SECONDS = 24 * 3600


class KeyStore(Protocol):
    def tenant_exists(self, tenant: str) -> bool: ...
    def create_tenant(self, tenant: str, created_at: int) -> None: ...
    def put_key(self, record: KeyRecord) -> None: ...
    def list_keys(self, tenant: str) -> list[KeyRecord]: ...
    def update_key(self, tenant: str, key_id: str, *, status: KeyStatus, expires_at: int | None) -> None: ...


@dataclass(frozen=True)
class NewKey:
    tenant: str
    key_id: str
    api_key: str  # also its write key (Segment's libraries, beacons)
    expires_at: int | None
    scope: KeyScope = "secret"
    origins: tuple[str, ...] = ()
    rate_per_minute: int | None = None


MAX_RATE_PER_MINUTE = 1_000_000


class TenantAdmin:
    def __init__(self, store: KeyStore, clock: Callable[[], int]) -> None:
        self._store = store
        self._clock = clock

    def create_tenant(self, tenant: str) -> None:
        _require_tenant_id(tenant)
        self._store.create_tenant(tenant, created_at=self._clock())

    def issue_key(
        self,
        tenant: str,
        expires_in_seconds: int | None = None,
        *,
        scope: KeyScope = "secret",
        origins: tuple[str, ...] = (),
        rate_per_minute: int | None = None,
    ) -> NewKey:
        """A secret key, or a publishable one restricted to ``origins`` (at least one web origin); either
        optionally limited to ``rate_per_minute`` requests that send events per UTC minute."""
        self._require_existing(tenant)
        allowed = _origins(scope, origins)
        if rate_per_minute is not None and not 1 <= rate_per_minute <= MAX_RATE_PER_MINUTE:
            raise ClientInputError(
                400, "invalid_rate", f"a rate limit is 1 to {MAX_RATE_PER_MINUTE:,} requests per minute"
            )
        now = self._clock()
        issued: IssuedKey = issue_key()
        expires_at = now + expires_in_seconds if expires_in_seconds else None
        self._store.put_key(
            KeyRecord(
                tenant,
                issued.key_id,
                issued.secret_hash,
                "active",
                created_at=now,
                expires_at=expires_at,
                scope=scope,
                origins=allowed,
                rate_per_minute=rate_per_minute,
            )
        )
        return NewKey(tenant, issued.key_id, issued.api_key, expires_at, scope, allowed, rate_per_minute)

    def list_keys(self, tenant: str) -> list[KeyRecord]:
        self._require_existing(tenant)
        return sorted(self._store.list_keys(tenant), key=lambda record: (record.created_at, record.key_id))

    def rotate(
        self,
        tenant: str,
        overlap_seconds: int = DEFAULT_ROTATION_OVERLAP_SECONDS,
        expires_in_seconds: int | None = None,
        *,
        scope: KeyScope = "secret",
        origins: tuple[str, ...] = (),
        rate_per_minute: int | None = None,
    ) -> NewKey:
        """Issue a new key of ``scope``; every key of that scope usable now stays usable for
        ``overlap_seconds`` more, then expires (keys of the other scope are untouched)."""
        new_key = self.issue_key(
            tenant, expires_in_seconds, scope=scope, origins=origins, rate_per_minute=rate_per_minute
        )
        deadline = self._clock() + overlap_seconds
        for record in self._store.list_keys(tenant):
            if record.key_id == new_key.key_id or record.scope != scope or not record.is_usable_at(self._clock()):
                continue
            expires_at = deadline if record.expires_at is None else min(record.expires_at, deadline)
            self._store.update_key(tenant, record.key_id, status="active", expires_at=expires_at)
        return new_key

    def revoke(self, tenant: str, key_id: str) -> None:
        self._require_existing(tenant)
        if not is_key_id(key_id) or key_id not in {record.key_id for record in self._store.list_keys(tenant)}:
            raise UnknownKeyError(f"tenant {tenant!r} has no key {key_id!r}")
        self._store.update_key(tenant, key_id, status="revoked", expires_at=None)

    def _require_existing(self, tenant: str) -> None:
        _require_tenant_id(tenant)
        if not self._store.tenant_exists(tenant):
            raise UnknownTenantError(f"tenant {tenant!r} does not exist; create it first")


def _origins(scope: KeyScope, origins: tuple[str, ...]) -> tuple[str, ...]:
    if scope == "secret":
        if origins:
            raise ClientInputError(400, "invalid_origins", "only a publishable key has an origin allow-list")
        return ()
    if not origins:
        raise ClientInputError(
            400, "invalid_origins", "a publishable key needs one or more origins like https://shop.example"
        )
    for origin in origins:
        if normalize_origin(origin) is None:
            raise ClientInputError(
                400,
                "invalid_origins",
                f"{origin[:100]!r} is not a web origin: scheme and host (and port) only, like https://shop.example, "
                "without a path, query or trailing text",
            )
    normalized = [normalize_origin(origin) for origin in origins]
    return tuple(sorted({origin for origin in normalized if origin}))


def _require_tenant_id(tenant: str) -> None:
    if not is_tenant_id(tenant):
        raise ClientInputError(400, "invalid_tenant_id", f"tenant id must match {TENANT_ID_PATTERN}")
