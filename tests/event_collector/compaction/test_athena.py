"""The large-unit engine's SQL and its order of work. Athena itself runs only in the cloud (docs/compaction.md)."""

from __future__ import annotations

import pytest

from event_collector.compaction import athena
from event_collector.compaction.athena import MAX_PARTITIONS_PER_INSERT, MAX_QUERY_BYTES, AthenaEngine, UnitSql
from event_collector.errors import StorageError
from event_collector.lake.layout import Day, EventObject, HourPartition, athena_queries_key, compacted_prefix
from tests.fakes.athena import FakeQueryRunner
from tests.fakes.catalog import MemoryCatalog
from tests.fakes.objects import MemoryObjectStore

LAKE = "lake"


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
    assert "(r.year = '2026' AND r.month = '11' AND r.day = '20' AND r.hour IN ('10'))" in sql
    assert 'coalesce(m."timestamp", m.received_at)' in sql
    assert all(f'm."{column}"' in sql for column in ("url", "session_id", "referral_url", "ipaddress", "useragent"))


def test_given_a_unit_when_its_statements_are_listed_then_the_ledger_is_reconciled_before_and_after():
    statements = unit().statements()

    def kind(statement: str) -> str:
        if statement.startswith("WITH candidates"):
            return "count"
        return "ledger" if statement.startswith('INSERT INTO "events_db"."compaction_ledger"') else "data"

    assert [kind(s) for s in statements] == ["count", "ledger", "ledger", "data", "data", "ledger", "ledger"]
    assert 'NOT EXISTS (SELECT 1 FROM "events_db"."compaction_ledger" l' in statements[1]
    assert statements[0].endswith("SELECT count(*) AS rows_in, count(DISTINCT event_id) AS ids FROM candidates")


@pytest.mark.parametrize(("database", "tenant"), [("db; DROP", "acme"), ("db", "Acme'; --"), ("db", "a b")])
def test_given_unsafe_names_when_sql_is_built_then_it_refuses(database, tenant):
    with pytest.raises(ValueError, match=r"identifier|safe literal"):
        UnitSql(database, tenant, {"track": [hour("track", "20", "10")]}, 1).statements()


def objects_for(*partitions: HourPartition) -> list[EventObject]:
    return [EventObject(p.prefix + "0" * 32 + ".json.gz", p, "0" * 32) for p in partitions]


def engine(runner: FakeQueryRunner, store: MemoryObjectStore, catalog: MemoryCatalog | None = None) -> AthenaEngine:
    return AthenaEngine("events_db", LAKE, runner, catalog or MemoryCatalog(), store, window_days=1)


def test_given_a_large_unit_when_run_then_raw_partitions_exist_first_and_every_statement_runs_in_order():
    catalog, runner, store = MemoryCatalog(), FakeQueryRunner(), MemoryObjectStore()
    objects = objects_for(hour("page_view", "20", "10"), hour("page_view", "20", "11"), hour("track", "21", "00"))

    result = engine(runner, store, catalog).compact("acme", "u" * 8, objects)

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
    assert (result.status, result.engine, result.bytes_scanned) == ("ok", "athena", 7000)


def test_given_a_large_unit_when_run_then_the_report_gets_real_counts_and_the_files_athena_wrote():
    store = MemoryObjectStore()
    day = Day("2026", "11", "20")
    store.objects[(LAKE, compacted_prefix("page_view", "acme", day) + "0123456789abcdef-0.parquet")] = b"earlier"

    def athena_writes(sql: str) -> None:
        name = f"20261121_000000_{len(store.objects):05d}_abcde_{'0' * 8}-0000-0000-0000-{'0' * 12}"
        store.objects[(LAKE, compacted_prefix("page_view", "acme", day) + name)] = b"x" * 300

    runner = FakeQueryRunner(rows_written=70, select_rows=[["100", "90"]], on_insert=athena_writes)

    result = engine(runner, store).compact("acme", "u" * 8, objects_for(hour("page_view", "20", "10")))

    assert (result.rows_in, result.rows_out) == (100, 70)
    assert (result.duplicates_removed, result.duplicates_already_compacted) == (10, 20)
    assert (result.files_out, result.bytes_out) == (1, 300)  # the earlier file is not this unit's
    assert result.bytes_scanned == 1000 * len(runner.statements)


def test_given_queries_an_earlier_attempt_left_running_when_run_again_then_they_end_before_anything_starts():
    store, runner = MemoryObjectStore(), FakeQueryRunner()
    runner.start("INSERT INTO a leftover of the timed-out attempt")
    store.put_json(LAKE, athena_queries_key("acme"), {"queries": ["q-1"]})
    runner.log.clear()

    engine(runner, store).compact("acme", "u" * 8, objects_for(hour("track", "20", "10")))

    assert runner.log[0] == ("wait", "q-1")
    assert runner.log[1][0] == "start"
    assert runner.running == set()
    assert (LAKE, athena_queries_key("acme")) not in store.objects  # done: nothing left to wait for


def test_given_a_query_that_fails_when_run_then_the_error_names_it_and_every_started_query_stays_recorded():
    store, runner = MemoryObjectStore(), FakeQueryRunner(fail_when='INSERT INTO "events_db"."track"')

    with pytest.raises(StorageError, match="failed: SYNTAX_ERROR"):
        engine(runner, store).compact("acme", "u" * 8, objects_for(hour("track", "20", "10")))

    recorded = store.get_json(LAKE, athena_queries_key("acme"))["queries"]
    assert recorded == list(runner.queries)  # the next attempt waits for each of them first


def backlog(types: int, days: int) -> dict[str, list[HourPartition]]:
    names = ["page_view", "button_click", "track"][:types]
    start = Day("2026", "01", "01")
    return {
        t: [HourPartition(t, "acme", start.plus(d), f"{h:02d}") for d in range(days) for h in range(24)] for t in names
    }


def test_given_a_backlog_of_100_days_of_3_types_when_split_then_every_statement_fits_athenas_limits():
    unit_sql = UnitSql("events_db", "acme", backlog(3, 100), 1)

    groups = unit_sql.split()

    for group in groups:
        assert len(group.days) <= MAX_PARTITIONS_PER_INSERT
        assert max(len(statement.encode()) for statement in group.statements()) <= MAX_QUERY_BYTES
    covered = [h for group in groups for hours in group.hours.values() for h in hours]
    assert sorted(covered) == sorted(h for hours in unit_sql.hours.values() for h in hours)
    assert [group.days[0] for group in groups] == sorted(group.days[0] for group in groups)  # oldest first


def test_given_statements_over_the_text_limit_when_split_then_groups_of_whole_days_fit_oldest_first(monkeypatch):
    unit_sql = UnitSql("events_db", "acme", backlog(3, 8), 1)
    longest = max(len(s.encode()) for s in unit_sql.statements())
    monkeypatch.setattr(athena, "MAX_QUERY_BYTES", longest // 3)

    groups = unit_sql.split()

    assert len(groups) > 2
    assert all(max(len(s.encode()) for s in group.statements()) <= longest // 3 for group in groups)
    days = [day for group in groups for day in group.days]
    assert days == sorted(days) == unit_sql.days  # each day in exactly one group, in order


def test_given_a_unit_when_the_ledger_is_reconciled_then_each_row_carries_its_types_counter_key():
    page_view, track = unit().reconcile_ledger()

    # The ledger's columns in order (event_id, event_type, received_at, counter_key): the recount reads keys there.
    assert 'SELECT c.event_id, c.event_type, c.received_at, c."url",' in page_view
    assert 'SELECT c.event_id, c.event_type, c.received_at, c."name",' in track


def test_given_a_type_without_a_counter_field_when_its_ledger_rows_are_added_then_their_key_is_null():
    sql = UnitSql("events_db", "acme", {"identify": [hour("identify", "20", "10")]}, 1).reconcile_ledger()[0]

    assert "c.received_at, CAST(NULL AS varchar)," in sql
