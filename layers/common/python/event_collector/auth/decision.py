"""Who is calling: 401 for malformed or missing credentials, 403 for wrong ones, and what a key may do.

A request carries one credential: an ``Authorization`` header (``tenant:key``
or a write key with an empty password), or, where no header can be sent (a
beacon), a write key in the query string or the body. Two credentials are
refused, never chosen from (a cache or a proxy might pick the other one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from event_collector.auth.basic import Credentials, MalformedCredentials, parse_basic_authorization
from event_collector.auth.keys import KEY_FORM, KeyRecord, KeyScope, secret_matches, split_api_key

# Which of the two was wrong is not said: an unknown tenant and a wrong key of a known one answer alike.
UNKNOWN_TENANT_OR_KEY = "unknown tenant, or the API key is not one of its keys"
UNKNOWN_WRITE_KEY = "the write key is not a key this stack issued"


class KeyLookup(Protocol):
    def get_key(self, tenant: str, key_id: str) -> KeyRecord | None: ...
    def find_key(self, key_id: str) -> KeyRecord | None: ...


@dataclass(frozen=True)
class Decision:
    outcome: Literal["allow", "deny", "unauthorized"]
    reason: str
    tenant: str | None = None
    key_id: str | None = None
    scope: KeyScope = "secret"
    origins: tuple[str, ...] = field(default_factory=tuple)
    rate_per_minute: int | None = None


def authorization_values(event: Mapping[str, Any]) -> list[str]:
    """Every Authorization header of an API Gateway request event, under any spelling of the name.

    API Gateway keeps only the last value in ``headers``; ``multiValueHeaders`` shows every copy.
    """
    multi = event.get("multiValueHeaders") or {}
    found = [value for name, values in multi.items() if name.lower() == "authorization" for value in values or []]
    if found:
        return found
    return [value for name, value in (event.get("headers") or {}).items() if name.lower() == "authorization"]


def decide(headers: Sequence[str], keys: KeyLookup, now: int, write_key: str | None = None) -> Decision:
    """``headers``: every Authorization header of the request; ``write_key``: one sent in the query string
    or body instead; ``now`` is epoch seconds. Lookup errors propagate: callers fail closed."""
    if len(headers) + (write_key is not None) > 1:
        return Decision("unauthorized", "more than one credential")
    if write_key is not None:
        if not write_key:
            return Decision("unauthorized", "the writeKey is empty")
        if split_api_key(write_key) is None:
            return Decision("unauthorized", f"the writeKey is malformed: {KEY_FORM}")
        credentials = Credentials(tenant=None, api_key=write_key)
    else:
        try:
            credentials = parse_basic_authorization(headers[0] if headers else None)
        except MalformedCredentials as malformed:
            return Decision("unauthorized", malformed.reason)
    parts = split_api_key(credentials.api_key)
    if parts is None:
        return Decision("deny", f"the API key (the password) is malformed: {KEY_FORM}", tenant=credentials.tenant)
    key_id, secret = parts
    record = keys.get_key(credentials.tenant, key_id) if credentials.tenant else keys.find_key(key_id)
    tenant = credentials.tenant or (record.tenant if record else None)
    if not secret_matches(record, secret) or record is None:
        unknown = UNKNOWN_WRITE_KEY if credentials.tenant is None else UNKNOWN_TENANT_OR_KEY
        return Decision("deny", unknown, tenant=tenant, key_id=key_id)
    # Only the holder of the exact secret learns these two.
    if record.status != "active":
        return Decision("deny", "the API key was revoked", tenant=tenant, key_id=key_id)
    if not record.is_usable_at(now):
        return Decision("deny", "the API key has expired", tenant=tenant, key_id=key_id)
    return Decision(
        "allow",
        "valid key",
        tenant=tenant,
        key_id=key_id,
        scope=record.scope,
        origins=record.origins,
        rate_per_minute=record.rate_per_minute,
    )


def for_reading(decision: Decision) -> Decision:
    """Reading counts takes a secret key: a publishable one may only send events."""
    if decision.outcome == "allow" and decision.scope != "secret":
        return Decision("deny", "a publishable key can only send events", decision.tenant, decision.key_id)
    return decision
