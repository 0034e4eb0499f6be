"""The large-unit engine: Athena compacts a unit too large for one Lambda, in SQL, into the same tables.

Used when a tenant's closed pending input exceeds ``AthenaThresholdBytes``
(docs/compaction.md has the measured Lambda throughput the default comes
from). Only the cloud runs it: the local mode has no Athena, so its SQL is
tested as text and its order of statements against a fake runner.

For one unit (a tenant, the hours of its pending objects):

1. register the raw tables' partitions for those hours;
2. reconcile the ledger: every compacted row of the unit's days that the
   ledger lacks is added (a previous attempt may have stopped between its
   data and its ledger insert);
3. per event type, ``INSERT INTO`` the compacted table the first copy of each
   event id across all the unit's types (earliest ``received_at``, then type
   and object), leaving out ids the ledger holds within the dedup window;
4. reconcile the ledger again, which records what step 3 wrote.

Athena writes snappy Parquet (the table's ``parquet.compression``) into the
same ``tenant=/year=/month=/day=`` layout and registers new partitions itself.
Re-running a unit is safe: rows already written are in the ledger by step 2.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from event_collector.compaction.contracts import CompactResult
from event_collector.event_types import DECLARED_FIELDS
from event_collector.identifiers import is_event_type, is_tenant_id
from event_collector.lake.catalog import LEDGER_TABLE, TableSpec, raw_table
from event_collector.lake.layout import Day, EventObject, HourPartition


class QueryRunner(Protocol):
    def run(self, sql: str) -> int:
        """Run one statement to its end; returns the bytes Athena scanned. Raises if it failed."""
        ...


class Catalog(Protocol):
    def ensure_table(self, spec: TableSpec) -> None: ...
    def add_partitions(self, spec: TableSpec, values: list[list[str]]) -> int: ...


def _ident(name: str) -> str:
    # Names are validated identifiers ([a-z0-9_]) before they get here; quoting keeps SQL keywords safe.
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"not an identifier: {name!r}")
    return f'"{name}"'


def _literal(value: str) -> str:
    if not all(ch.isalnum() or ch in "-_" for ch in value) or not value.isascii():
        raise ValueError(f"not a safe literal: {value!r}")
    return f"'{value}'"


def _days_predicate(alias: str, days: Iterable[Day]) -> str:
    terms = [
        f"({alias}.year = {_literal(d.year)} AND {alias}.month = {_literal(d.month)}"
        f" AND {alias}.day = {_literal(d.day)})"
        for d in sorted(set(days))
    ]
    return "(" + " OR ".join(terms) + ")"


def _hours_predicate(alias: str, hours: Iterable[HourPartition]) -> str:
    terms = [
        f"({alias}.year = {_literal(h.day.year)} AND {alias}.month = {_literal(h.day.month)} "
        f"AND {alias}.day = {_literal(h.day.day)} AND {alias}.hour = {_literal(h.hour)})"
        for h in sorted(set(hours))
    ]
    return "(" + " OR ".join(terms) + ")"


@dataclass(frozen=True)
class UnitSql:
    database: str
    tenant: str
    hours: dict[str, list[HourPartition]]  # event type -> the hours of its pending objects
    window_days: int

    def __post_init__(self) -> None:
        if not is_tenant_id(self.tenant) or not all(is_event_type(t) for t in self.hours):
            raise ValueError("tenant and event types must be validated identifiers")

    @property
    def days(self) -> list[Day]:
        return sorted({h.day for hours in self.hours.values() for h in hours})

    def table(self, name: str) -> str:
        return f"{_ident(self.database)}.{_ident(name)}"

    def reconcile_ledger(self) -> list[str]:
        """Add every compacted row of the unit's days that the ledger lacks (one statement per type)."""
        statements = []
        for event_type in sorted(self.hours):
            statements.append(
                f"INSERT INTO {self.table(LEDGER_TABLE)}\n"
                f"SELECT c.event_id, c.event_type, c.received_at, c.tenant, c.year, c.month, c.day\n"
                f"FROM {self.table(event_type)} c\n"
                f"WHERE c.tenant = {_literal(self.tenant)} AND {_days_predicate('c', self.days)}\n"
                f"  AND NOT EXISTS (SELECT 1 FROM {self.table(LEDGER_TABLE)} l\n"
                f"    WHERE l.tenant = c.tenant AND l.year = c.year AND l.month = c.month AND l.day = c.day\n"
                f"      AND l.event_id = c.event_id)"
            )
        return statements

    def insert(self, event_type: str) -> str:
        """The first copy of each new event id of this type, across every type of the unit."""
        tenant = _literal(self.tenant)
        candidates = "\n  UNION ALL\n".join(
            f'  SELECT event_id, received_at, {_literal(t)} AS src, "$path" AS path\n'
            f"  FROM {self.table(f'{t}_raw')} r WHERE r.tenant = {tenant} AND {_hours_predicate('r', hours)}"
            for t, hours in sorted(self.hours.items())
        )
        window = sorted(
            {day.plus(offset) for day in self.days for offset in range(-self.window_days, self.window_days + 1)}
        )
        fields = sorted(DECLARED_FIELDS.get(event_type, ()))
        columns = ", ".join(["event_id", "event_type", "received_at", '"timestamp"', *(_ident(f) for f in fields)])
        values = ", ".join(
            [
                "m.event_id",
                "m.event_type",
                "m.received_at",
                'coalesce(m."timestamp", m.received_at)',
                *(f"m.{_ident(f)}" for f in fields),
            ]
        )
        return (
            f"INSERT INTO {self.table(event_type)} ({columns}, tenant, year, month, day)\n"
            f"WITH candidates AS (\n{candidates}\n),\n"
            f"ranked AS (\n  SELECT event_id, src, path, received_at,\n"
            f"    row_number() OVER (PARTITION BY event_id ORDER BY received_at, src, path) AS n\n"
            f"  FROM candidates\n),\n"
            f"known AS (\n  SELECT event_id FROM {self.table(LEDGER_TABLE)} l\n"
            f"  WHERE l.tenant = {tenant} AND {_days_predicate('l', window)}\n),\n"
            f'mine AS (\n  SELECT r.*, "$path" AS path,\n'
            f'    row_number() OVER (PARTITION BY r.event_id ORDER BY r.received_at, "$path") AS k\n'
            f"  FROM {self.table(f'{event_type}_raw')} r\n"
            f"  WHERE r.tenant = {tenant} AND {_hours_predicate('r', self.hours[event_type])}\n)\n"
            f"SELECT {values}, m.tenant, m.year, m.month, m.day\n"
            f"FROM mine m JOIN ranked w\n"
            f"  ON w.event_id = m.event_id AND w.n = 1 AND w.src = {_literal(event_type)}\n"
            f"  AND w.path = m.path AND w.received_at = m.received_at\n"
            f"WHERE m.k = 1 AND m.event_id NOT IN (SELECT event_id FROM known)"
        )

    def statements(self) -> list[str]:
        return [*self.reconcile_ledger(), *(self.insert(t) for t in sorted(self.hours)), *self.reconcile_ledger()]


@dataclass(frozen=True)
class AthenaEngine:
    database: str
    lake_bucket: str
    runner: QueryRunner
    catalog: Catalog
    window_days: int = 1

    def compact(self, tenant: str, unit: str, objects: Sequence[EventObject]) -> CompactResult:
        hours: dict[str, list[HourPartition]] = defaultdict(list)
        for item in objects:
            hours[item.partition.event_type].append(item.partition)
        for event_type, partitions in hours.items():
            spec = raw_table(event_type, self.lake_bucket)
            self.catalog.ensure_table(spec)
            self.catalog.add_partitions(spec, [p.raw_partition_values for p in sorted(set(partitions))])
        sql = UnitSql(self.database, tenant, dict(hours), self.window_days)
        scanned = sum(self.runner.run(statement) for statement in sql.statements())
        # Athena does not say how many rows an INSERT wrote: the row counts of this unit stay 0 in the
        # report; the ledger and the tables hold the exact record.
        return CompactResult(
            tenant=tenant, status="ok", engine="athena", unit=unit, event_types=sorted(hours), bytes_out=scanned
        )
