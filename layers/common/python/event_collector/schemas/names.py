"""Names in a tenant's event types: the fields that become lake columns, and the types themselves.

A field that becomes a column or a struct field is a Glue name as it is: lowercase letters, digits and
``_``, starting with a letter (awswrangler would silently rename ``orderId`` to ``orderid``, a column the
files do not have; ``aws/glue.py``). Top-level fields never take a name the envelope, the server or the
lake already uses. A type name is an identifier (``identifiers.EVENT_TYPE_PATTERN``) that names no
built-in type and no table the lake already has. See docs/schemas.md.
"""

from __future__ import annotations

import re
from typing import TypeGuard

from event_collector.event_types import DECLARED_FIELDS
from event_collector.identifiers import EVENT_TYPE_PATTERN, has_control_characters, is_event_type
from event_collector.json_values import is_valid_unicode

FIELD_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
_FIELD_NAME = re.compile(FIELD_NAME_PATTERN)

# Undeclared top-level fields (an open schema admits them) are kept whole in this column, as JSON text,
# the way Segment's messages keep theirs (event_types.SEGMENT_FIELDS).
EXTRA_FIELD = "extra"
# What every event carries beside its own fields (ingest/models.py: EventBase).
ENVELOPE_FIELDS = ("event_id", "event_type", "timestamp", "user_id", "anonymous_id", "context")
# What only the server sets (ingest/validation.py: stored_event), and the version a stored event records.
SERVER_FIELDS = ("tenant", "received_at", "schema_version")
# The lake's own names in the type's tables: partition keys (lake/catalog.py) and the column of the rest.
LAKE_FIELDS = ("year", "month", "day", "hour", EXTRA_FIELD)
RESERVED_FIELDS = frozenset((*ENVELOPE_FIELDS, *SERVER_FIELDS, *LAKE_FIELDS))

# The Glue tables the lake names itself (lake/catalog.py): a type may not take one of their names.
LAKE_TABLES = ("compaction_ledger", "daily_counts")
RAW_TABLE_SUFFIX = "_raw"


def is_field_name(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _FIELD_NAME.fullmatch(value) is not None


def field_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a column or a struct field, if it cannot."""
    if is_field_name(name):
        return None
    return (
        f"{name!r} is not a column name: lowercase letters, digits and _, starting with a letter, "
        "at most 64 characters (for example order_id, not orderId)"
    )


def top_level_field_problem(name: str) -> str | None:
    """Why an event's own top-level field cannot be called ``name``, if it cannot."""
    if name in RESERVED_FIELDS:
        return f"{name!r} is reserved: every event already has it, or the server or the lake sets it"
    return field_name_problem(name)


def event_type_problems(name: str) -> list[str]:
    """Why a tenant cannot register an event type called ``name`` (empty if it can)."""
    if not is_event_type(name):
        return [f"{name!r} is not an event type name: it must match {EVENT_TYPE_PATTERN}"]
    if name in DECLARED_FIELDS:
        return [f"{name!r} is a built-in event type"]
    if name in LAKE_TABLES or name.endswith(RAW_TABLE_SUFFIX):
        return [f"{name!r} would name a table the lake already has (its own, or a type's raw JSON table)"]
    return []


MAX_TRACK_NAME_LENGTH = 128  # as a track event's name (ingest/models.py: TrackFields)


def track_name_problem(name: str) -> str | None:
    """Why a tracking plan cannot be registered for a ``track`` event called ``name``, if it cannot: any
    printable text of 1-128 characters, as the event's ``name`` itself."""
    if not 1 <= len(name) <= MAX_TRACK_NAME_LENGTH:
        return f"a track event's name is 1-{MAX_TRACK_NAME_LENGTH} characters, not {len(name)}"
    if has_control_characters(name) or not is_valid_unicode(name):
        return f"{name!r} is not a track event's name: it must be printable text, without control characters"
    return None
