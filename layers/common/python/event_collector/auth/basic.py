"""Parse an HTTP Basic ``Authorization`` header into credentials.

Two forms: ``<tenant id>:<API key>`` (ours), and ``<API key>:`` with an empty
password (Segment's libraries send their write key that way; our API keys
are write keys, docs/clients.md). Any malformation raises
:class:`MalformedCredentials` (answered 401). The header value never appears
in an exception message or a log line.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from event_collector.auth.keys import split_api_key
from event_collector.identifiers import is_tenant_id

MAX_HEADER_LENGTH = 512


class MalformedCredentials(Exception):
    """The header is missing or not valid Basic credentials; ``reason`` is safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Credentials:
    """``tenant`` is None for a write key: the key itself names its tenant."""

    tenant: str | None
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
    user, colon, password = decoded.partition(":")
    if not colon:
        raise MalformedCredentials("credentials must be tenant:api_key")
    if not password and split_api_key(user) is not None:
        return Credentials(tenant=None, api_key=user)  # a write key, as Segment's libraries send it
    if not is_tenant_id(user):
        raise MalformedCredentials("tenant id is malformed")
    if not password:
        raise MalformedCredentials("API key is empty")
    return Credentials(tenant=user, api_key=password)
