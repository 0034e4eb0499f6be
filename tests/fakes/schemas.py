"""The schemas table's port (``SchemaRegistry``), in memory, with the adapter's rules
(tests/event_collector/aws/test_schemas_table.py runs the same contract tests on both)."""

from __future__ import annotations

import copy

from event_collector.schemas.registry import (
    DEFAULT_UNPLANNED,
    RegisteredSchema,
    SchemaKind,
    TenantSchemas,
    TypeTaken,
    UnplannedPolicy,
    VersionTaken,
)


class MemorySchemas:
    def __init__(self) -> None:
        self.stored: dict[tuple[str, SchemaKind, str], list[RegisteredSchema]] = {}
        self.owners: dict[str, str] = {}
        self.policies: dict[str, UnplannedPolicy] = {}
        self.reads = 0  # tenant_schemas calls: what a cache in front of it saves

    def tenant_schemas(self, tenant: str) -> TenantSchemas:
        self.reads += 1
        latest = {key: versions[-1] for key, versions in self.stored.items() if key[0] == tenant}
        return TenantSchemas(
            types={name: schema for (_, kind, name), schema in latest.items() if kind == "type"},
            tracks={name: schema for (_, kind, name), schema in latest.items() if kind == "track"},
            unplanned=self.policies.get(tenant, DEFAULT_UNPLANNED),
        )

    def versions(self, tenant: str, kind: SchemaKind, name: str) -> list[RegisteredSchema]:
        return list(self.stored.get((tenant, kind, name), []))

    def owner_of(self, event_type: str) -> str | None:
        return self.owners.get(event_type)

    def type_schema(self, event_type: str) -> RegisteredSchema | None:
        owner = self.owners.get(event_type)
        versions = self.stored.get((owner, "type", event_type), []) if owner else []
        return versions[-1] if versions else None

    def put_version(self, schema: RegisteredSchema) -> None:
        if schema.kind == "type" and self.owners.get(schema.name, schema.tenant) != schema.tenant:
            raise TypeTaken("this event type is registered by another tenant: choose another name")
        versions = self.stored.setdefault((schema.tenant, schema.kind, schema.name), [])
        if any(stored.version == schema.version for stored in versions):
            raise VersionTaken(f"version {schema.version} of {schema.name!r} is stored already")
        versions.append(RegisteredSchema(**{**schema.__dict__, "document": copy.deepcopy(schema.document)}))
        versions.sort(key=lambda stored: stored.version)
        if schema.kind == "type":
            self.owners.setdefault(schema.name, schema.tenant)

    def set_unplanned(self, tenant: str, policy: UnplannedPolicy) -> None:
        self.policies[tenant] = policy
