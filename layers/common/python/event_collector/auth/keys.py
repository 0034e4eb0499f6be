"""API keys: generation, hashing and verification. Only hashes are ever stored.

A key reads ``<key id>.<secret>``: the key id (public, 64 random bits) lets
the authorizer fetch exactly one item; the secret (256 random bits) is
checked against its SHA-256 with ``hmac.compare_digest``. A slow password
hash is not needed because the secret is random, not chosen by a person
(docs/authentication.md).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal

KeyStatus = Literal["active", "revoked"]
# secret: send events and read counts (a server's key). publishable: send events only, and only from the
# key's own web origins (safe to embed in a page; docs/authentication.md).
KeyScope = Literal["secret", "publishable"]

_API_KEY = re.compile(r"^(k[0-9a-f]{16})\.([A-Za-z0-9_-]{43})$")
# How a key looks, for messages about one that does not (never the key sent: it may be a real one, mistyped).
KEY_FORM = "a key reads k, 16 hex digits, '.', then 43 characters"
# Compared against when the key id is unknown, so both paths cost the same.
_UNKNOWN_KEY_HASH = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    api_key: str
    secret_hash: str


@dataclass(frozen=True)
class KeyRecord:
    tenant: str
    key_id: str
    secret_hash: str
    status: KeyStatus
    created_at: int
    expires_at: int | None = None
    scope: KeyScope = "secret"
    origins: tuple[str, ...] = ()  # a publishable key's web origins (``https://shop.example``)
    rate_per_minute: int | None = None  # requests that send events, per UTC minute (docs/authentication.md)

    def is_usable_at(self, now: int) -> bool:
        return self.status == "active" and (self.expires_at is None or now < self.expires_at)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_key() -> IssuedKey:
    key_id = "k" + secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return IssuedKey(key_id=key_id, api_key=f"{key_id}.{secret}", secret_hash=hash_secret(secret))


def split_api_key(api_key: str) -> tuple[str, str] | None:
    match = _API_KEY.fullmatch(api_key)
    return (match.group(1), match.group(2)) if match else None


def secret_matches(record: KeyRecord | None, secret: str) -> bool:
    expected = record.secret_hash if record else _UNKNOWN_KEY_HASH
    return hmac.compare_digest(hash_secret(secret), expected) and record is not None
