"""Parse an HTTP Basic ``Authorization`` header into credentials.

Two forms: ``<tenant id>:<API key>`` (ours), and ``<API key>:`` with an empty
password (Segment's libraries send their write key that way; our API keys
are write keys, docs/clients.md). An empty password always means the second
form, so ``demo:`` is a username that is not a write key, not a tenant whose
key is empty. Any malformation raises :class:`MalformedCredentials`
(answered 401) whose reason names the part that is wrong in the form the
caller used (a mistyped write key is never told about a tenant id it did not
send). The header value never appears in an exception message or a log line.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from event_collector.auth.keys import KEY_FORM, split_api_key
from event_collector.identifiers import TENANT_ID_PATTERN, is_tenant_id

MAX_HEADER_LENGTH = 512
BOTH_FORMS = "send tenant:api_key, or a write key as the username with an empty password"


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
        raise MalformedCredentials(f"missing Authorization header: {BOTH_FORMS} (HTTP Basic)")
    if len(header) > MAX_HEADER_LENGTH:
        raise MalformedCredentials(f"Authorization header too long (over {MAX_HEADER_LENGTH} characters)")
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise MalformedCredentials("Authorization scheme must be Basic")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise MalformedCredentials("credentials are not valid base64-encoded UTF-8") from None
    user, colon, password = decoded.partition(":")
    if not colon:
        raise MalformedCredentials(f"credentials have no ':' between username and password: {BOTH_FORMS}")
    if not password:
        return _write_key(user)
    if not user:
        raise MalformedCredentials(f"the tenant id (the username) is empty: {BOTH_FORMS}")
    if split_api_key(user) is not None:
        raise MalformedCredentials(
            "the username is a write key, so the password must be empty (or send tenant:api_key)"
        )
    if not is_tenant_id(user):
        raise MalformedCredentials(f"the tenant id (the username) is malformed: it must match {TENANT_ID_PATTERN}")
    return Credentials(tenant=user, api_key=password)


def _write_key(user: str) -> Credentials:
    """``<user>:``: Segment's form, the username a write key (docs/authentication.md)."""
    if split_api_key(user) is not None:
        return Credentials(tenant=None, api_key=user)
    if not user:
        raise MalformedCredentials(f"the credentials are empty: {BOTH_FORMS}")
    if is_tenant_id(user):  # ``demo:`` or ``hunter2:``: perhaps a tenant id whose key was left out
        raise MalformedCredentials(
            f"the username is not a write key ({KEY_FORM}), and an empty password means it should be one; "
            "to send a tenant id, put its API key in the password"
        )
    raise MalformedCredentials(f"the write key (the username) is malformed: {KEY_FORM}")
