"""The counters table's ports (``CounterStore`` for the writers, ``CounterReader`` for the API), in memory,
with the table's layout: one item per key and UTC day holding ``hHH`` attributes, and on a type's total item
the hour's key admissions ``aHH``."""

from __future__ import annotations

from collections.abc import Sequence

from event_collector.counts.layout import (
    DAY_PREFIX,
    OVERFLOW,
    CounterIncrement,
    HourGroup,
    counter_pk,
    day_sort_key,
    hour_attribute,
    is_hour_attribute,
)
from event_collector.counts.rollups import DayRollup, from_item, rollup_pk, rollup_sk, to_item


class MemoryCounters:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, int]] = {}
        self.applied: set[str] = set()
        self.writes = 0
        self.rollup_items: dict[tuple[str, str], dict] = {}  # the adapter's attribute values, as DynamoDB holds them

    def counted(self, source_id: str) -> bool:
        return source_id in self.applied

    def mark_counted(self, source_id: str, expires_at: int) -> None:
        self.applied.add(source_id)

    def known_keys(self, group: HourGroup, encoded: Sequence[str], deadline: float | None = None) -> set[str]:
        prefix = counter_pk(group.tenant, group.event_type, "")
        day, attribute = day_sort_key(group.label), hour_attribute(group.label)
        return {key for key in encoded if attribute in self.items.get((prefix + key, day), {})}

    def admit(self, totals: Sequence[CounterIncrement], deadline: float | None = None) -> list[dict[str, int]]:
        self.add(totals)
        return [{name: self.items[(total.pk, total.sk)][name] for name in total.admitting} for total in totals]

    def add(self, increments: Sequence[CounterIncrement], deadline: float | None = None) -> None:
        for increment in increments:
            self.writes += 1
            item = self.items.setdefault((increment.pk, increment.sk), {})
            for attribute, amount in {**increment.hours, **increment.admitting}.items():
                item[attribute] = item.get(attribute, 0) + amount
            item["expires_at"] = increment.expires_at

    def day_keys(self, tenant: str, event_type: str, day: str, hours: Sequence[str]) -> dict[str, set[str]]:
        """As the by_day index and a read of the hours: every key item of the day, and the overflow's."""
        prefix = counter_pk(tenant, event_type, "")
        return {
            pk.removeprefix(prefix): {hour for hour in hours if hour in item}
            for (pk, sk), item in self.items.items()
            if sk == DAY_PREFIX + day
            and pk.startswith(prefix)
            and pk.removeprefix(prefix).startswith(("k:", "h:", OVERFLOW))
        }

    def set_hours(self, settings: Sequence[CounterIncrement]) -> None:
        for setting in settings:
            self.writes += 1
            item = self.items.setdefault((setting.pk, setting.sk), {})
            item.update(setting.hours)
            item["expires_at"] = setting.expires_at

    def delete_counter(self, pk: str) -> int:
        doomed = [key for key in self.items if key[0] == pk]
        for key in doomed:
            del self.items[key]
        return len(doomed)

    def total(self, pk: str) -> int:
        return sum(
            value
            for (found, sk), item in self.items.items()
            if found == pk and sk.startswith(DAY_PREFIX)
            for attribute, value in item.items()
            if is_hour_attribute(attribute)
        )

    def hourly(self, pk: str, first_hour: str, last_hour: str) -> dict[str, int]:
        counts = {}
        for (found, sk), item in self.items.items():
            if found != pk or not sk.startswith(DAY_PREFIX):
                continue
            day = sk.removeprefix(DAY_PREFIX)
            for attribute, value in item.items():
                label = f"{day}T{attribute[1:]}"
                if attribute[0] == "h" and attribute[1:].isdigit() and first_hour <= label <= last_hour:
                    counts[label] = value
        return counts

    def put_rollups(self, rollups: Sequence[DayRollup]) -> None:
        for rollup in rollups:
            item = to_item(rollup)
            self.rollup_items[(item["pk"]["S"], item["sk"]["S"])] = item

    def delete_rollups(self, tenant: str, day: str, event_types: Sequence[str]) -> None:
        for event_type in event_types:
            self.rollup_items.pop((rollup_pk(tenant, event_type), rollup_sk(day)), None)

    def rollups(self, tenant: str, event_type: str, first_day: str, last_day: str) -> list[DayRollup]:
        pk, first, last = rollup_pk(tenant, event_type), rollup_sk(first_day), rollup_sk(last_day)
        return [
            from_item(item)
            for (found, sk), item in sorted(self.rollup_items.items())
            if found == pk and first <= sk <= last
        ]
