"""Plan: the day partitions whose closed hours changed since their last compaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from .partitions import DayPartition, LakeObject, closed, fingerprint

# Each planned item is about 120 bytes of state; 1,000 stay far below the 256 KB payload limit.
DEFAULT_MAX_PARTITIONS = 1000


class CompactionState(Protocol):
    def fingerprints(self) -> dict[str, str]: ...


def plan(
    objects: Iterable[LakeObject],
    state: CompactionState,
    *,
    now: datetime,
    grace: timedelta,
    max_partitions: int = DEFAULT_MAX_PARTITIONS,
    cutoff: datetime | None = None,
) -> dict[str, Any]:
    """``cutoff`` overrides ``now - grace`` (an operator's "compact everything up to X")."""
    cutoff = cutoff or now - grace
    by_partition: dict[DayPartition, list[LakeObject]] = defaultdict(list)
    for item in closed(objects, cutoff):
        by_partition[item.partition].append(item)
    known = state.fingerprints()
    changed = sorted(
        (partition for partition, items in by_partition.items() if known.get(partition.id) != fingerprint(items)),
        key=lambda p: (p.year, p.month, p.day, p.event_type, p.tenant),
    )
    return {
        "cutoff": cutoff.isoformat(),
        "partitions": [partition.as_dict() for partition in changed[:max_partitions]],
        "deferred": max(0, len(changed) - max_partitions),
    }
