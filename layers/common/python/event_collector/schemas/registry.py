"""Where tenants' schemas are kept: the shapes every part of the stack agrees on (no AWS here).

Two kinds of schema, each versioned per tenant (docs/schemas.md):

- ``type``: a tenant's own event type (``event_type`` in ``POST /v1/events``). Type names are the
  stack's: the first tenant to register a name owns it, and only it may register versions of it or
  send it, because the lake has one table per event type (partitioned by tenant, as every other
  type's), and that table's columns follow the owner's schema;
- ``track``: a tracking plan for the ``properties`` of ``track`` events (ours and Segment's) of one
  event name, per tenant; names are free text and belong to the tenant alone.

A tenant also chooses what happens to a ``track`` event whose name has no plan: ``accept`` (the
default) or ``reject``.

The DynamoDB adapter (``aws/schemas_table.py``) implements :class:`SchemaRegistry`; the collector
reads it through a per-container cache, compaction and Refresh by type name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

SchemaKind = Literal["type", "track"]
UnplannedPolicy = Literal["accept", "reject"]
UNPLANNED_POLICIES: tuple[UnplannedPolicy, ...] = ("accept", "reject")
DEFAULT_UNPLANNED: UnplannedPolicy = "accept"


@dataclass(frozen=True)
class RegisteredSchema:
    """One stored version of a tenant's schema."""

    tenant: str
    kind: SchemaKind
    name: str  # the event type, or the track event's name
    version: int  # 1, 2, ...
    document: Mapping[str, Any]  # the JSON Schema as registered
    registered_at: int  # epoch milliseconds


@dataclass(frozen=True)
class TenantSchemas:
    """A tenant's latest version of each of its schemas, and its policy for unplanned track names:
    what the collector validates a request's events against."""

    types: Mapping[str, RegisteredSchema] = field(default_factory=dict)
    tracks: Mapping[str, RegisteredSchema] = field(default_factory=dict)
    unplanned: UnplannedPolicy = DEFAULT_UNPLANNED


class TypeTaken(Exception):
    """The event type is another tenant's (the message never names that tenant)."""


class VersionTaken(Exception):
    """Another registration stored this version first (a concurrent put-schema): read again and retry."""


class SchemaRegistry(Protocol):
    def tenant_schemas(self, tenant: str) -> TenantSchemas:
        """The tenant's latest schemas and policy, in one read (the collector's cache fills from it)."""
        ...

    def versions(self, tenant: str, kind: SchemaKind, name: str) -> list[RegisteredSchema]:
        """Every version of one schema, oldest first (empty when there is none)."""
        ...

    def owner_of(self, event_type: str) -> str | None:
        """The tenant that registered the event type first, None if none did."""
        ...

    def type_schema(self, event_type: str) -> RegisteredSchema | None:
        """The latest version of the event type, whoever owns it (compaction and Refresh type tables by it)."""
        ...

    def put_version(self, schema: RegisteredSchema) -> None:
        """Store a new version: raises :class:`TypeTaken` for another tenant's type, :class:`VersionTaken`
        when that version exists already. Claims the type name for the tenant on its first version."""
        ...

    def set_unplanned(self, tenant: str, policy: UnplannedPolicy) -> None: ...
