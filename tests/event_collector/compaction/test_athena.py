"""The large-unit engine's SQL and its order of work. Athena itself runs only in the cloud (docs/compaction.md)."""

from __future__ import annotations

import pytest

from event_collector.compaction.athena import AthenaEngine, UnitSql
from event_collector.lake.layout import Day, EventObject, HourPartition
from tests.fakes.catalog import MemoryCatalog


def hour(event_type: str, day: str, hour_: str, tenant: str = "acme") -> HourPartition:
    return HourPartition(event_type, tenant, Day("2026", "11", day), hour_)


def unit(window: int = 1) -> UnitSql:
    return UnitSql(
        "events_db",
        "acme",
        {"page_view": [hour("page_view", "20", "10")], "track": [hour("track", "21", "00")]},
        window,
    )


def test_given_a_unit_when_its_insert_is_built_then_the_first_copy_wins_across_every_type_of_the_unit():
    sql = unit().insert("page_view")

    assert sql.startswith('INSERT INTO "events_db"."page_view" (event_id, event_type, received_at, "timestamp",')
    assert 'FROM "events_db"."page_view_raw" r' in sql
    assert 'FROM "events_db"."track_raw" r' in sql
    assert "row_number() OVER (PARTITION BY event_id ORDER BY received_at, src, path) AS n" in sql
    assert "w.n = 1 AND w.src = 'page_view'" in sql
    assert "m.k = 1" in sql  # copies within one object too


def test_given_a_unit_when_its_insert_is_built_then_ids_in_the_ledger_window_are_left_out():
    sql = unit(window=1).insert("track")

    assert 'FROM "events_db"."compaction_ledger" l' in sql
    for day in ("19", "20", "21", "22"):  # the unit's days (20, 21) one day either side
        assert f"l.day = '{day}'" in sql
    assert "l.day = '18'" not in sql
    assert "l.day = '23'" not in sql
    assert "m.event_id NOT IN (SELECT event_id FROM known)" in sql


def test_given_a_unit_when_built_then_reads_are_pruned_to_its_tenant_and_hours():
    sql = unit().insert("page_view")

    assert "r.tenant = 'acme'" in sql
    assert "(r.year = '2026' AND r.month = '11' AND r.day = '20' AND r.hour = '10')" in sql
    assert 'coalesce(m."timestamp", m.received_at)' in sql
    assert all(f'm."{column}"' in sql for column in ("url", "session_id", "referral_url", "ipaddress", "useragent"))


def test_given_a_unit_when_its_statements_are_listed_then_the_ledger_is_reconciled_before_and_after():
    statements = unit().statements()

    kinds = ["ledger" if s.startswith('INSERT INTO "events_db"."compaction_ledger"') else "data" for s in statements]
    assert kinds == ["ledger", "ledger", "data", "data", "ledger", "ledger"]
    assert 'NOT EXISTS (SELECT 1 FROM "events_db"."compaction_ledger" l' in statements[0]


@pytest.mark.parametrize(("database", "tenant"), [("db; DROP", "acme"), ("db", "Acme'; --"), ("db", "a b")])
def test_given_unsafe_names_when_sql_is_built_then_it_refuses(database, tenant):
    with pytest.raises(ValueError, match=r"identifier|safe literal"):
        UnitSql(database, tenant, {"track": [hour("track", "20", "10")]}, 1).statements()


class Runner:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def run(self, sql: str) -> int:
        self.statements.append(sql)
        return 1000


def test_given_a_large_unit_when_run_then_raw_partitions_exist_first_and_every_statement_runs_in_order():
    catalog, runner = MemoryCatalog(), Runner()
    objects = [
        EventObject(p.prefix + "0" * 32 + ".json.gz", p, "0" * 32)
        for p in (hour("page_view", "20", "10"), hour("page_view", "20", "11"), hour("track", "21", "00"))
    ]

    result = AthenaEngine("events_db", "lake", runner, catalog, window_days=1).compact("acme", "u" * 8, objects)

    assert catalog.partitions["page_view_raw"] == {
        ("acme", "2026", "11", "20", "10"),
        ("acme", "2026", "11", "20", "11"),
    }
    assert catalog.partitions["track_raw"] == {("acme", "2026", "11", "21", "00")}
    assert (
        runner.statements
        == UnitSql(
            "events_db", "acme", {"page_view": [o.partition for o in objects[:2]], "track": [objects[2].partition]}, 1
        ).statements()
    )
    assert (result.status, result.engine, result.bytes_out) == ("ok", "athena", 6000)
