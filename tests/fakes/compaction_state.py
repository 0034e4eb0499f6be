"""The compaction state table's ports (the lake's work queue, tenant leases, in-flight units), in memory."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from event_collector.lake.queue import Inflight, PendingObject


class MemoryCompactionState:
    def __init__(self) -> None:
        self.pending_objects: dict[str, dict[str, PendingObject]] = {}
        self.leases: dict[str, tuple[str, int]] = {}
        self.inflight_units: dict[str, Inflight] = {}

    def enqueue(self, tenant: str, objects: Sequence[PendingObject]) -> None:
        for item in objects:
            self.pending_objects.setdefault(tenant, {})[item.key] = item

    def done(self, tenant: str, keys: Sequence[str]) -> None:
        for key in keys:
            self.pending_objects.get(tenant, {}).pop(key, None)

    def pending(self, tenant: str) -> list[PendingObject]:
        return list(self.pending_objects.get(tenant, {}).values())

    def all_pending(self) -> Iterator[tuple[str, PendingObject]]:
        for tenant, objects in sorted(self.pending_objects.items()):
            for item in objects.values():
                yield tenant, item

    def acquire_lease(self, tenant: str, owner: str, now: int, until: int) -> bool:
        held = self.leases.get(tenant)
        if held and held[1] >= now and held[0] != owner:
            return False
        self.leases[tenant] = (owner, until)
        return True

    def release_lease(self, tenant: str, owner: str) -> None:
        if self.leases.get(tenant, ("", 0))[0] == owner:
            del self.leases[tenant]

    def inflight(self, tenant: str) -> Inflight | None:
        return self.inflight_units.get(tenant)

    def set_inflight(self, tenant: str, inflight: Inflight) -> None:
        self.inflight_units[tenant] = inflight

    def clear_inflight(self, tenant: str) -> None:
        self.inflight_units.pop(tenant, None)
