"""The counters table's ports (``CounterStore`` for the fan-out, ``CounterReader`` for the API), in memory."""

from __future__ import annotations

from collections.abc import Sequence

from event_collector.counts.layout import HOUR_PREFIX, TOTAL_SORT_KEY, CounterIncrement, HourGroup, counter_pk


class MemoryCounters:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, int]] = {}
        self.applied: set[str] = set()

    def first_application(self, source_id: str, expires_at: int) -> bool:
        if source_id in self.applied:
            return False
        self.applied.add(source_id)
        return True

    def known_keys(self, group: HourGroup, encoded: Sequence[str]) -> set[str]:
        prefix = counter_pk(group.tenant, group.event_type, "")
        return {key for key in encoded if (prefix + key, HOUR_PREFIX + group.label) in self.items}

    def admit(self, group: HourGroup, wanted: int, limit: int, expires_at: int) -> int:
        key = (counter_pk(group.tenant, group.event_type, "keys"), HOUR_PREFIX + group.label)
        item = self.items.setdefault(key, {})
        granted = max(0, min(wanted, limit - item.get("admitted", 0)))
        item["admitted"] = item.get("admitted", 0) + granted
        return granted

    def add(self, increments: Sequence[CounterIncrement]) -> None:
        for increment in increments:
            item = self.items.setdefault((increment.pk, increment.sk), {})
            item["count"] = item.get("count", 0) + increment.amount
            item["expires_at"] = increment.expires_at

    def count(self, pk: str, sk: str) -> int:
        return self.items.get((pk, sk), {}).get("count", 0)

    def total(self, pk: str) -> int:
        return self.count(pk, TOTAL_SORT_KEY)

    def hourly(self, pk: str, first_hour: str, last_hour: str) -> dict[str, int]:
        return {
            sk.removeprefix(HOUR_PREFIX): item["count"]
            for (found, sk), item in self.items.items()
            if found == pk and HOUR_PREFIX + first_hour <= sk <= HOUR_PREFIX + last_hour and "count" in item
        }
