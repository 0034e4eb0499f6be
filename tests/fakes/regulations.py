"""The regulations table's port (``RegulationStore``), in memory, with the adapter's rules
(tests/event_collector/aws/test_regulations_table.py runs the same contract tests on both)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from event_collector.errors import StorageError
from event_collector.privacy.regulations import Regulation, Status, Suppression
from event_collector.privacy.renewal import renewal, suppression_change


class MemoryRegulations:
    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], Regulation] = {}
        self.suppressed: dict[tuple[str, str, str], Suppression] = {}

    def put_request(self, regulation: Regulation) -> Regulation:
        key = (regulation.tenant, regulation.id)
        subject = (regulation.tenant, regulation.selector, regulation.subject)
        existing = self.stored.get(key)
        if existing is not None:
            renewed = renewal(existing, regulation, suppressed=subject in self.suppressed)
            if renewed is None:
                return existing
            regulation = renewed
        self.stored[key] = regulation
        change = suppression_change(regulation)
        if change == "begin":
            self.suppressed[subject] = Suppression(
                regulation.tenant, regulation.selector, regulation.subject, regulation.requested_at, regulation.id
            )
        elif change == "end":
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
        current = self.stored.get(key)
        if current is None:
            raise StorageError("marking a request failed: no such request")
        if current.requested_at != regulation.requested_at:
            return  # asked anew since it was read: the newer request stays to be applied
        applied_at = at if status == "applied" else current.applied_at
        self.stored[key] = dataclasses.replace(current, status=status, removed=dict(removed), applied_at=applied_at)
