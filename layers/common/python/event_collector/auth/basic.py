"""Parse an HTTP Basic ``Authorization`` header into a tenant id and an API key.

Any malformation raises :class:`MalformedCredentials` (answered 401). The
header value never appears in an exception message or a log line.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from event_collector.identifiers import is_tenant_id

MAX_HEADER_LENGTH = 512


class MalformedCredentials(Exception):
    """The header is missing or not valid Basic credentials; ``reason`` is safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Credentials:
    tenant: str
    api_key: str

    def __repr__(self) -> str:  # never print the key
        return f"Credentials(tenant={self.tenant!r}, api_key=<redacted>)"


def parse_basic_authorization(header: str | None) -> Credentials:
    if not header:
        raise MalformedCredentials("missing Authorization header")
    if len(header) > MAX_HEADER_LENGTH:
        raise MalformedCredentials("Authorization header too long")
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise MalformedCredentials("Authorization scheme must be Basic")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise MalformedCredentials("credentials are not valid base64-encoded UTF-8") from None
    tenant, colon, api_key = decoded.partition(":")
    if not colon:
        raise MalformedCredentials("credentials must be tenant:api_key")
    if not is_tenant_id(tenant):
        raise MalformedCredentials("tenant id is malformed")
    if not api_key:
        raise MalformedCredentials("API key is empty")
    return Credentials(tenant=tenant, api_key=api_key)
