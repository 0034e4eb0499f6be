"""Strict patterns for every identifier that reaches an S3 path or a DynamoDB key.

Tenant isolation depends on these: nothing built from client input becomes a
path component or key before it matched one of them (see docs/identifiers.md).
Event ids are not among them: they are data (a column, and what compaction
deduplicates on), never part of a path or key, so they take any printable text.
"""

from __future__ import annotations

import re
from typing import TypeGuard

TENANT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
# Client-chosen event ids (``event_id``, Segment's ``messageId``): 1-256 characters of printable text (no C0/C1
# control characters, no line or paragraph separators, no lone surrogates), anything else allowed: spaces,
# / # @ + = and every Unicode plane. A Python ``re`` pattern (the fan-out checks stored lines with it).
# Also no bidirectional formatting characters (LRM/RLM, embeddings, overrides, isolates): invisible, they make
# an id display as another one in logs and dashboards ("Trojan Source"), and no SDK generates them.
MAX_CLIENT_ID_LENGTH = 256
CLIENT_ID_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]{1,256}$"
KEY_ID_PATTERN = r"^k[0-9a-f]{16}$"
# A privacy request's id (privacy/regulations.py: ``request_id``): a digest, never the user's id.
REGULATION_ID_PATTERN = r"^reg-[0-9a-f]{24}$"

_TENANT_ID = re.compile(TENANT_ID_PATTERN)
_EVENT_TYPE = re.compile(EVENT_TYPE_PATTERN)
_KEY_ID = re.compile(KEY_ID_PATTERN)
_CLIENT_ID = re.compile(CLIENT_ID_PATTERN)
_REGULATION_ID = re.compile(REGULATION_ID_PATTERN)
# Any C0/C1 control character or Unicode line/paragraph separator.
_CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def is_tenant_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _TENANT_ID.fullmatch(value) is not None


def is_event_type(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _EVENT_TYPE.fullmatch(value) is not None


def is_key_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _KEY_ID.fullmatch(value) is not None


def is_regulation_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _REGULATION_ID.fullmatch(value) is not None


def is_client_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _CLIENT_ID.fullmatch(value) is not None


def has_control_characters(value: str) -> bool:
    return _CONTROL_CHARS.search(value) is not None
