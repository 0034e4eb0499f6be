"""The authorizer's decision: 401 for malformed credentials, 403 for wrong ones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from event_collector.auth.basic import MalformedCredentials, parse_basic_authorization
from event_collector.auth.keys import KeyRecord, secret_matches, split_api_key


class KeyLookup(Protocol):
    def get_key(self, tenant: str, key_id: str) -> KeyRecord | None: ...


@dataclass(frozen=True)
class Decision:
    outcome: Literal["allow", "deny", "unauthorized"]
    reason: str
    tenant: str | None = None
    key_id: str | None = None


def authorization_values(event: Mapping[str, Any]) -> list[str]:
    """Every Authorization header of an API Gateway request event, under any spelling of the name.

    API Gateway keeps only the last value in ``headers``; ``multiValueHeaders`` shows every copy.
    """
    multi = event.get("multiValueHeaders") or {}
    found = [value for name, values in multi.items() if name.lower() == "authorization" for value in values or []]
    if found:
        return found
    return [value for name, value in (event.get("headers") or {}).items() if name.lower() == "authorization"]


def decide(headers: Sequence[str], keys: KeyLookup, now: int) -> Decision:
    """``headers``: every Authorization header of the request; ``now`` is epoch seconds.

    Two credentials in one request are refused, never chosen from (a cache or a proxy might pick
    the other one). Lookup errors propagate: the authorizer fails closed."""
    if len(headers) > 1:
        return Decision("unauthorized", "more than one Authorization header")
    try:
        credentials = parse_basic_authorization(headers[0] if headers else None)
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
