"""The large-unit engine: Athena compacts a unit too large for one Lambda, in SQL, into the same tables.

Used when a tenant's closed pending input exceeds ``AthenaThresholdBytes``
(docs/compaction.md has the measured Lambda throughput the default comes
from). Only the cloud runs it: the local mode has no Athena, so its SQL is
tested as text and its order of work against a fake runner.

For one unit (a tenant, the hours of its pending objects), after waiting for
any query an earlier attempt left running (a Lambda that timed out does not
stop its query; running the statements again beside it would insert twice):

1. register the raw tables' partitions for those hours;
2. per group of days (a statement stays under Athena's 262,144-byte query
   text and 100 partitions per ``INSERT INTO``), count the group's rows and
   distinct ids (one ``SELECT``: the report's real counts);
3. reconcile the ledger: every compacted row of the group's days that the
   ledger lacks is added (an earlier attempt may have stopped between its
   data and its ledger insert);
4. per event type, ``INSERT INTO`` the compacted table the first copy of each
   event id across all the group's types (earliest ``received_at``, then type
   and object), leaving out ids the ledger holds within the dedup window;
   Athena reports the rows each insert wrote;
5. reconcile the ledger again, which records what step 4 wrote.

Every query id is recorded (``compaction/athena/tenant=<t>/queries.json``)
before it is waited for, and the record is removed once the unit is done.
Athena writes snappy Parquet (the table's ``parquet.compression``) into the
same ``tenant=/year=/month=/day=`` layout, names its files itself, and
registers new partitions itself. Re-running a unit is safe: rows already
written are in the ledger by step 3.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from event_collector.compaction.contracts import CompactResult
from event_collector.errors import StorageError
from event_collector.event_types import COUNTER_FIELDS, DECLARED_FIELDS
from event_collector.identifiers import is_event_type, is_tenant_id
from event_collector.lake.catalog import LEDGER_TABLE, TableSpec, ledger_table, raw_table
from event_collector.lake.layout import Day, EventObject, HourPartition, athena_queries_key, compacted_prefix

MAX_QUERY_BYTES = 262_144  # Athena's limit on a query's text
MAX_PARTITIONS_PER_INSERT = 100  # Athena's limit on the partitions one INSERT INTO writes


@dataclass(frozen=True)
class QueryOutcome:
    query_id: str
    state: str  # SUCCEEDED, FAILED or CANCELLED
    scanned_bytes: int = 0
    reason: str = ""

    @property
    def succeeded(self) -> bool:
        return self.state == "SUCCEEDED"


class QueryRunner(Protocol):
    def start(self, sql: str) -> str:
        """Start one statement; returns its query id."""
        ...

    def wait(self, query_id: str) -> QueryOutcome:
        """Wait for a query (this attempt's or an earlier one's) to end, however it ends."""
        ...

    def written(self, query_id: str) -> int:
        """The rows a finished ``INSERT INTO`` wrote."""
        ...

    def rows(self, query_id: str) -> list[list[str | None]]:
        """A finished ``SELECT``'s rows (header excluded)."""
        ...


class Store(Protocol):
    def listing(self, bucket: str, prefix: str) -> Iterable[tuple[str, str, int]]: ...
    def put_json(self, bucket: str, key: str, document: Any) -> None: ...
    def get_json(self, bucket: str, key: str) -> Any: ...
    def delete(self, bucket: str, keys: list[str]) -> None: ...


class Catalog(Protocol):
    def ensure_table(self, spec: TableSpec) -> None: ...
    def add_partitions(self, spec: TableSpec, values: list[list[str]]) -> None: ...


def _ident(name: str) -> str:
    # Names are validated identifiers ([a-z0-9_]) before they get here; quoting keeps SQL keywords safe.
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"not an identifier: {name!r}")
    return f'"{name}"'


def _literal(value: str) -> str:
    if not all(ch.isalnum() or ch in "-_" for ch in value) or not value.isascii():
        raise ValueError(f"not a safe literal: {value!r}")
    return f"'{value}'"


def _counter_key(alias: str, event_type: str) -> str:
    """The ledger's ``counter_key`` of a row of ``event_type``: its counter field's value (a compacted column
    of that type's table), or null for a type without one (counts/recount.py)."""
    field_name = COUNTER_FIELDS.get(event_type)
    return f"{alias}.{_ident(field_name)}" if field_name else "CAST(NULL AS varchar)"


def _days_predicate(alias: str, days: Iterable[Day]) -> str:
    terms = [
        f"({alias}.year = {_literal(d.year)} AND {alias}.month = {_literal(d.month)}"
        f" AND {alias}.day = {_literal(d.day)})"
        for d in sorted(set(days))
    ]
    return "(" + " OR ".join(terms) + ")"


def _hours_predicate(alias: str, hours: Iterable[HourPartition]) -> str:
    """One term per day, its hours in a list: a day of 24 hours costs ~200 bytes of query text, not 2,400."""
    by_day: dict[Day, set[str]] = defaultdict(set)
    for h in hours:
        by_day[h.day].add(h.hour)
    terms = []
    for d in sorted(by_day):
        listed = ", ".join(_literal(h) for h in sorted(by_day[d]))
        terms.append(
            f"({alias}.year = {_literal(d.year)} AND {alias}.month = {_literal(d.month)} "
            f"AND {alias}.day = {_literal(d.day)} AND {alias}.hour IN ({listed}))"
        )
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
                f"SELECT c.event_id, c.event_type, c.received_at, {_counter_key('c', event_type)},\n"
                f"  c.tenant, c.year, c.month, c.day\n"
                f"FROM {self.table(event_type)} c\n"
                f"WHERE c.tenant = {_literal(self.tenant)} AND {_days_predicate('c', self.days)}\n"
                f"  AND NOT EXISTS (SELECT 1 FROM {self.table(LEDGER_TABLE)} l\n"
                f"    WHERE l.tenant = c.tenant AND l.year = c.year AND l.month = c.month AND l.day = c.day\n"
                f"      AND l.event_id = c.event_id)"
            )
        return statements

    def _candidates(self) -> str:
        tenant = _literal(self.tenant)
        return "\n  UNION ALL\n".join(
            f'  SELECT event_id, received_at, {_literal(t)} AS src, "$path" AS path\n'
            f"  FROM {self.table(f'{t}_raw')} r WHERE r.tenant = {tenant} AND {_hours_predicate('r', hours)}"
            for t, hours in sorted(self.hours.items())
        )

    def counts(self) -> str:
        """The unit's rows and distinct ids: with the rows the inserts wrote, the report's counts."""
        return (
            f"WITH candidates AS (\n{self._candidates()}\n)\n"
            f"SELECT count(*) AS rows_in, count(DISTINCT event_id) AS ids FROM candidates"
        )

    def insert(self, event_type: str) -> str:
        """The first copy of each new event id of this type, across every type of the unit."""
        tenant = _literal(self.tenant)
        candidates = self._candidates()
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
        """Every statement of the unit, in order (counts, reconcile, inserts, reconcile)."""
        inserts = [self.insert(t) for t in sorted(self.hours)]
        return [self.counts(), *self.reconcile_ledger(), *inserts, *self.reconcile_ledger()]

    def fits(self) -> bool:
        return len(self.days) <= MAX_PARTITIONS_PER_INSERT and all(
            len(statement.encode()) <= MAX_QUERY_BYTES for statement in self.statements()
        )

    def split(self) -> list[UnitSql]:
        """The unit as groups of consecutive days whose statements fit Athena's limits, oldest first."""
        if self.fits():
            return [self]
        days = self.days
        if len(days) == 1:
            raise ValueError("one day's statements exceed Athena's query limits")
        middle = days[len(days) // 2]
        parts = []
        for older in (True, False):
            hours = {t: [h for h in hs if (h.day < middle) == older] for t, hs in self.hours.items()}
            parts.append(
                UnitSql(self.database, self.tenant, {t: hs for t, hs in hours.items() if hs}, self.window_days)
            )
        return [group for part in parts for group in part.split()]


@dataclass(frozen=True)
class AthenaEngine:
    database: str
    lake_bucket: str
    runner: QueryRunner
    catalog: Catalog
    store: Store
    window_days: int = 1

    def compact(self, tenant: str, unit: str, objects: Sequence[EventObject]) -> CompactResult:
        self._settle(tenant)
        # The ledger table as the statements below write it (its counter_key column included), before any
        # of them runs: a stack upgraded since the table was made would otherwise refuse the insert.
        self.catalog.ensure_table(ledger_table(self.lake_bucket))
        hours: dict[str, list[HourPartition]] = defaultdict(list)
        for item in objects:
            hours[item.partition.event_type].append(item.partition)
        for event_type, partitions in hours.items():
            spec = raw_table(event_type, self.lake_bucket)
            self.catalog.ensure_table(spec)
            self.catalog.add_partitions(spec, [p.raw_partition_values for p in sorted(set(partitions))])
        totals = dict.fromkeys(("rows_in", "ids", "rows_out", "files_out", "bytes_out", "bytes_scanned"), 0)
        started: list[str] = []
        for group in UnitSql(self.database, tenant, dict(hours), self.window_days).split():
            before = self._files(group)
            counted = self._run(tenant, group.counts(), started, totals)
            rows_in, ids = (int(value or 0) for value in self.runner.rows(counted)[0])
            totals["rows_in"] += rows_in
            totals["ids"] += ids
            for statement in group.reconcile_ledger():
                self._run(tenant, statement, started, totals)
            for event_type in sorted(group.hours):
                totals["rows_out"] += self.runner.written(self._run(tenant, group.insert(event_type), started, totals))
            for statement in group.reconcile_ledger():
                self._run(tenant, statement, started, totals)
            written = {key: size for key, size in self._files(group).items() if key not in before}
            totals["files_out"] += len(written)
            totals["bytes_out"] += sum(written.values())
        self.store.delete(self.lake_bucket, [athena_queries_key(tenant)])
        return CompactResult(
            tenant=tenant,
            status="ok",
            engine="athena",
            unit=unit,
            rows_in=totals["rows_in"],
            rows_out=totals["rows_out"],
            duplicates_removed=totals["rows_in"] - totals["ids"],
            # An id the inserts left out is in the ledger's window (or left by an earlier attempt).
            duplicates_already_compacted=totals["ids"] - totals["rows_out"],
            files_out=totals["files_out"],
            bytes_out=totals["bytes_out"],
            bytes_scanned=totals["bytes_scanned"],
            event_types=sorted(hours),
        )

    def _settle(self, tenant: str) -> None:
        """Wait for every query an earlier attempt recorded: one still running would write beside ours."""
        key = athena_queries_key(tenant)
        if not any(found == key for found, _, _ in self.store.listing(self.lake_bucket, key)):
            return
        for query_id in self.store.get_json(self.lake_bucket, key).get("queries", []):
            self.runner.wait(query_id)  # however it ended: step 3 reconciles whatever it wrote

    def _run(self, tenant: str, sql: str, started: list[str], totals: dict[str, int]) -> str:
        query_id = self.runner.start(sql)
        started.append(query_id)
        self.store.put_json(self.lake_bucket, athena_queries_key(tenant), {"queries": started})
        outcome = self.runner.wait(query_id)
        totals["bytes_scanned"] += outcome.scanned_bytes
        if not outcome.succeeded:
            raise StorageError(f"Athena query {query_id} {outcome.state.lower()}: {outcome.reason}")
        return query_id

    def _files(self, group: UnitSql) -> dict[str, int]:
        """The compacted files of the group's types and days, with their sizes (what the inserts add)."""
        return {
            key: size
            for event_type in group.hours
            for day in group.days
            for key, _, size in self.store.listing(self.lake_bucket, compacted_prefix(event_type, group.tenant, day))
        }
