"""The rate limiter's store port (``take`` one request of a key's minute), in memory, optionally failing."""

from __future__ import annotations

from event_collector.errors import StorageError


class MemoryRateStore:
    def __init__(self, fail: bool = False) -> None:
        self.counts: dict[tuple[str, int], int] = {}
        self.fail = fail

    def take(self, key_id: str, minute: int, limit: int) -> bool:
        if self.fail:
            raise StorageError("throttled")
        used = self.counts.get((key_id, minute), 0)
        if used >= limit:
            return False
        self.counts[(key_id, minute)] = used + 1
        return True
