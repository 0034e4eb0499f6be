"""Asking for a privacy request and reading requests back: what the API (``POST /v1/regulations``,
``GET /v1/regulations/{id}``) and the admin CLI (``delete-user``, ``suppress-user``, ``unsuppress-user``,
``regulations``) share (docs/privacy.md, "Requests").

A request names its user by exactly one selector, whose value follows the rules the event models apply to
``user_id`` and ``anonymous_id`` (so any value an event could carry can be named, and nothing else). The
value is digested at once (``subject_digest``) and never leaves this module: what is stored, answered and
printed is the request (``RegulationView``), with the subject, never the id.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from event_collector.errors import ClientInputError
from event_collector.identifiers import TENANT_ID_PATTERN, is_regulation_id, is_tenant_id
from event_collector.ingest.models import Identity
from event_collector.privacy.regulations import (
    Kind,
    Regulation,
    RegulationStore,
    Selector,
    Status,
    request_id,
    subject_digest,
)

Source = Literal["cli", "api"]


class RegulationBody(BaseModel):
    """Body of ``POST /v1/regulations``: the kind of request, and the user by exactly one selector."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Kind = Field(
        description="delete: remove the user's events; suppress: stop storing new ones; unsuppress: end that"
    )
    user_id: Identity | None = Field(default=None, description="The user's id as your events carry it")
    anonymous_id: Identity | None = Field(default=None, description="Or a browser's or device's anonymous id")

    @model_validator(mode="after")
    def _one_selector(self) -> RegulationBody:
        given = [name for name in ("user_id", "anonymous_id") if getattr(self, name) is not None]
        if len(given) != 1:
            problem = "not both" if given else "one is required"
            raise ValueError(f"name the user by exactly one of user_id or anonymous_id ({problem})")
        return self

    def selected(self) -> tuple[Selector, str]:
        if self.user_id is not None:
            return "user_id", self.user_id
        assert self.anonymous_id is not None  # _one_selector
        return "anonymous_id", self.anonymous_id


class RegulationView(BaseModel):
    """A request as the API answers it and the CLI prints it: never the user's id, only its digest."""

    id: str = Field(description="The request's id: the same for the same request, so asking again finds it")
    type: Kind
    selector: Selector
    subject: str = Field(description="SHA-256 digest of the tenant, the selector and the user's id (not the id)")
    status: Status = Field(description="received, applying, applied")
    requested_at: int = Field(description="Epoch milliseconds when the request was (last) acknowledged")
    applied_at: int | None = Field(default=None, description="Epoch milliseconds when it was last applied")
    removed: dict[str, int] = Field(description="What its last application removed: table or prefix -> events")
    source: Source = Field(description="Asked through the API or the admin CLI")

    @classmethod
    def of(cls, regulation: Regulation) -> RegulationView:
        return cls(
            id=regulation.id,
            type=regulation.kind,
            selector=regulation.selector,
            subject=regulation.subject,
            status=regulation.status,
            requested_at=regulation.requested_at,
            applied_at=regulation.applied_at,
            removed=dict(regulation.removed),
            source=regulation.source,
        )


class RegulationRequests:
    def __init__(
        self,
        store: RegulationStore,
        clock: Callable[[], float] = time.time,
        *,
        on_suppressions_changed: Callable[[str], None] = lambda tenant: None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._on_suppressions_changed = on_suppressions_changed  # the collector's cache forgets the tenant

    def ask(self, tenant: str, body: RegulationBody, *, source: Source) -> tuple[Regulation, bool]:
        """Store the request (idempotently: privacy/renewal.py); also whether this ask recorded it (new, or
        asked anew) rather than finding it stored. An ``unsuppress`` is applied as it is stored."""
        _require_tenant_id(tenant)
        now = int(self._clock() * 1000)
        selector, value = body.selected()
        subject = subject_digest(tenant, selector, value)
        applied = body.type == "unsuppress"
        regulation = Regulation(
            id=request_id(tenant, body.type, selector, subject),
            tenant=tenant,
            kind=body.type,
            selector=selector,
            subject=subject,
            requested_at=now,
            status="applied" if applied else "received",
            applied_at=now if applied else None,
            source=source,
        )
        stored = self._store.put_request(regulation)
        recorded = stored.requested_at == now
        if recorded and body.type != "delete":
            self._on_suppressions_changed(tenant)
        return stored, recorded

    def get(self, tenant: str, regulation_id: str) -> Regulation | None:
        """The tenant's request with this id; None for another tenant's, an unknown or a malformed id."""
        if not is_tenant_id(tenant) or not is_regulation_id(regulation_id):
            return None
        return self._store.get(tenant, regulation_id)

    def listed(self, tenant: str) -> list[Regulation]:
        _require_tenant_id(tenant)
        return self._store.requests(tenant)


def _require_tenant_id(tenant: str) -> None:
    if not is_tenant_id(tenant):
        raise ClientInputError(400, "invalid_tenant_id", f"tenant id must match {TENANT_ID_PATTERN}")
