"""The lake's queue of work for compaction: the objects the fan-out wrote and compaction has not consumed.

The fan-out enqueues every object it writes (``enqueue``); Plan looks only at
what is pending, never at the whole lake, so its cost does not grow with the
lake's age; Compact consumes a tenant's closed objects and marks them done.
A late object (a late Firehose delivery, a redrive, a backfill) is just one
more pending object: it is compacted by the next run, whatever hour it is for.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PendingObject:
    key: str
    etag: str
    size: int
    hour_end: int  # epoch seconds: the end of the UTC hour its events were received in

    def closed_by(self, cutoff_epoch: int) -> bool:
        return self.hour_end <= cutoff_epoch


@dataclass(frozen=True)
class Inflight:
    """A unit being written: its id and every prefix its files may land under (for clean-up)."""

    unit: str
    prefixes: list[str]


class WorkQueue(Protocol):
    def enqueue(self, tenant: str, objects: Sequence[PendingObject]) -> None: ...
    def done(self, tenant: str, keys: Sequence[str]) -> None: ...
    def pending(self, tenant: str) -> list[PendingObject]: ...
    def all_pending(self) -> Iterator[tuple[str, PendingObject]]: ...


class TenantLocks(Protocol):
    def acquire_lease(self, tenant: str, owner: str, now: int, until: int) -> bool: ...
    def release_lease(self, tenant: str, owner: str) -> None: ...
    def inflight(self, tenant: str) -> Inflight | None: ...
    def set_inflight(self, tenant: str, inflight: Inflight) -> None: ...
    def clear_inflight(self, tenant: str) -> None: ...
