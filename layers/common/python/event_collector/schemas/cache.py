"""Each tenant's schemas in a collector container: no AWS call per request once read (docs/api.md).

- A tenant's :class:`~event_collector.schemas.registry.TenantSchemas` are read in one call and kept for
  ``ttl_seconds`` (``SCHEMA_CACHE_SECONDS``, default 60; 0 reads them for every request that needs them):
  a new version, plan or policy holds in every container from ``ttl_seconds`` after it was registered.
- An event type the cached schemas do not know, an event its cached version refuses, or (for a tenant
  that rejects unplanned names) a track name without a plan makes the cache read the tenant again, at
  most once per ``recheck_seconds`` (5) per tenant: a type or version registered a moment ago works
  within seconds, and a client sending what no schema takes cannot turn each request into a read.
- A request reads the registry once at most (:class:`TenantLookup`), and not at all when none of its
  events needs a schema (``page_view``, ``button_click``, or no event at all).
- A failed read keeps what was read before, reports the failure (``on_load_failed``: a log line and the
  ``SchemaLoadFailures`` metric in the collector) and tries again after ``recheck_seconds``; with nothing
  read before, the request is answered 503 (:class:`~event_collector.errors.SchemasUnavailable`): an event
  cannot be checked against a schema the collector cannot read, and the client retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from event_collector.errors import SchemasUnavailable
from event_collector.schemas.registry import RegisteredSchema, TenantSchemas, UnplannedPolicy

RECHECK_SECONDS = 5.0


class SchemaSource(Protocol):
    def tenant_schemas(self, tenant: str) -> TenantSchemas: ...


def ignore_load_failure(tenant: str, error: Exception) -> None:
    """No one to tell (tests); the deployed collector logs and counts it in a metric."""


@dataclass(frozen=True)
class _Read:
    schemas: TenantSchemas
    fresh_until: float  # on the cache's clock
    tried_at: float  # the last read, or the last attempt that failed


class SchemaCache:
    def __init__(
        self,
        registry: SchemaSource,
        ttl_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_load_failed: Callable[[str, Exception], None] = ignore_load_failure,
        recheck_seconds: float = RECHECK_SECONDS,
    ) -> None:
        self._registry = registry
        self._ttl = ttl_seconds
        self.clock = clock
        self._on_load_failed = on_load_failed
        self._recheck = recheck_seconds
        self._tenants: dict[str, _Read] = {}

    def schemas(self, tenant: str) -> TenantSchemas:
        """The tenant's schemas, read again once those kept are older than the TTL."""
        now = self.clock()
        kept = self._tenants.get(tenant)
        if kept is not None and now < kept.fresh_until:
            return kept.schemas
        return self._read(tenant, kept, now)

    def recheck(self, tenant: str) -> TenantSchemas:
        """The tenant's schemas after a name they lack: read again unless read in the last few seconds."""
        now = self.clock()
        kept = self._tenants.get(tenant)
        if kept is not None and now - kept.tried_at < self._recheck:
            return kept.schemas
        return self._read(tenant, kept, now)

    def for_request(self, tenant: str) -> TenantLookup:
        return TenantLookup(self, tenant)

    def _read(self, tenant: str, kept: _Read | None, now: float) -> TenantSchemas:
        try:
            found = self._registry.tenant_schemas(tenant)
        except Exception as error:  # any failure: keep what was read, report, retry later
            self._on_load_failed(tenant, error)
            if kept is None:
                raise SchemasUnavailable(f"schemas of tenant {tenant!r} could not be read: {error}") from error
            self._tenants[tenant] = _Read(kept.schemas, now + min(self._recheck, self._ttl), now)
            return kept.schemas
        self._tenants[tenant] = _Read(found, now + self._ttl, now)
        return found


class TenantLookup:
    """One request's view of its tenant's schemas: read when an event first needs them, once."""

    def __init__(self, cache: SchemaCache, tenant: str) -> None:
        self._cache = cache
        self._tenant = tenant
        self._schemas: TenantSchemas | None = None
        self._rechecked = False

    def _current(self) -> TenantSchemas:
        if self._schemas is None:
            self._schemas = self._cache.schemas(self._tenant)
        return self._schemas

    def _after_recheck(self) -> TenantSchemas:
        if not self._rechecked:
            self._rechecked = True
            self._schemas = self._cache.recheck(self._tenant)
        return self._current()

    def event_type(self, name: str) -> RegisteredSchema | None:
        """The latest version of the tenant's own type ``name``; None for a type it does not own."""
        found = self._current().types.get(name)
        return found if found is not None else self._after_recheck().types.get(name)

    def track_plan(self, name: str) -> RegisteredSchema | None:
        """The tenant's plan for ``name``. A name without one is read again only when the tenant rejects
        unplanned names: under ``accept`` the event is taken either way until the TTL brings the plan."""
        current = self._current()
        found = current.tracks.get(name)
        if found is not None or current.unplanned == "accept":
            return found
        return self._after_recheck().tracks.get(name)

    def newer(self, schema: RegisteredSchema) -> RegisteredSchema | None:
        """After an event failed ``schema``: a later version of it a recheck finds (None if none). A
        client sending an event of a version registered a moment ago is not refused for up to the TTL."""
        kept = self._after_recheck()
        found = (kept.types if schema.kind == "type" else kept.tracks).get(schema.name)
        return found if found is not None and found.version > schema.version else None

    @property
    def unplanned(self) -> UnplannedPolicy:
        return self._current().unplanned
