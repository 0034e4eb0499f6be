"""The regulations table's port (``RegulationStore``), in memory, with the adapter's rules."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from event_collector.privacy.regulations import Regulation, Status, Suppression


class MemoryRegulations:
    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], Regulation] = {}
        self.suppressed: dict[tuple[str, str, str], Suppression] = {}

    def put_request(self, regulation: Regulation) -> Regulation:
        key = (regulation.tenant, regulation.id)
        existing = self.stored.get(key)
        if existing is not None and not (existing.kind == "delete" and existing.status == "applied"):
            return existing
        if existing is not None:  # a deletion asked again after it was applied: applied again
            regulation = dataclasses.replace(existing, status="received", requested_at=regulation.requested_at)
        self.stored[key] = regulation
        subject = (regulation.tenant, regulation.selector, regulation.subject)
        if regulation.kind == "suppress":
            self.suppressed.setdefault(
                subject,
                Suppression(
                    regulation.tenant, regulation.selector, regulation.subject, regulation.requested_at, regulation.id
                ),
            )
        elif regulation.kind == "unsuppress":
            self.suppressed.pop(subject, None)
        return regulation

    def get(self, tenant: str, regulation_id: str) -> Regulation | None:
        return self.stored.get((tenant, regulation_id))

    def requests(self, tenant: str) -> list[Regulation]:
        found = [r for (t, _), r in self.stored.items() if t == tenant]
        return sorted(found, key=lambda r: (-r.requested_at, r.id))

    def suppressions(self, tenant: str) -> list[Suppression]:
        return [s for (t, _, _), s in self.suppressed.items() if t == tenant]

    def pending(self) -> list[Regulation]:
        return [r for r in self.stored.values() if r.status != "applied"]

    def mark(self, regulation: Regulation, status: Status, removed: Mapping[str, int], at: int) -> None:
        key = (regulation.tenant, regulation.id)
        current = self.stored[key]
        applied_at = at if status == "applied" else current.applied_at
        self.stored[key] = dataclasses.replace(current, status=status, removed=dict(removed), applied_at=applied_at)
