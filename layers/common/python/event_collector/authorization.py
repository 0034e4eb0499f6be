"""The authorizer's decision: 401 for malformed credentials, 403 for wrong ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from .basic_auth import MalformedCredentials, parse_basic_authorization
from .tenant_keys import KeyRecord, secret_matches, split_api_key


class KeyLookup(Protocol):
    def get_key(self, tenant: str, key_id: str) -> KeyRecord | None: ...


@dataclass(frozen=True)
class Decision:
    outcome: Literal["allow", "deny", "unauthorized"]
    reason: str
    tenant: str | None = None
    key_id: str | None = None


def decide(header: str | None, keys: KeyLookup, now: int) -> Decision:
    """``now`` is epoch seconds. Lookup errors propagate: the authorizer fails closed."""
    try:
        credentials = parse_basic_authorization(header)
    except MalformedCredentials as malformed:
        return Decision("unauthorized", malformed.reason)
    parts = split_api_key(credentials.api_key)
    if parts is None:
        return Decision("deny", "API key has the wrong format", tenant=credentials.tenant)
    key_id, secret = parts
    record = keys.get_key(credentials.tenant, key_id)
    if not secret_matches(record, secret) or record is None:
        return Decision("deny", "unknown tenant or key", tenant=credentials.tenant, key_id=key_id)
    if record.status != "active":
        return Decision("deny", "key revoked", tenant=credentials.tenant, key_id=key_id)
    if not record.is_usable_at(now):
        return Decision("deny", "key expired", tenant=credentials.tenant, key_id=key_id)
    return Decision("allow", "valid key", tenant=credentials.tenant, key_id=key_id)
