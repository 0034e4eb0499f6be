"""Plan, parse, deduplicate, refresh and report on their own, without the state machine."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from event_collector.compaction.compact import deduplicate, parse_line, to_table
from event_collector.compaction.partitions import DayPartition, parse_lake_object
from event_collector.compaction.plan import plan
from event_collector.compaction.refresh import refresh
from event_collector.compaction.report import summarize
from event_collector.lake_catalog import compacted_table, raw_table

NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)


class State:
    def __init__(self, known: dict[str, str] | None = None) -> None:
        self.known = known or {}

    def fingerprints(self) -> dict[str, str]:
        return self.known


def obj(hour: str, day: str = "26", tenant: str = "acme", etag: str = "e1", name: str = "a"):
    key = f"events/page_view/tenant={tenant}/year=2026/month=11/day={day}/hour={hour}/{name}.json.gz"
    found = parse_lake_object(key, etag, 10)
    assert found is not None
    return found


def test_given_hours_when_planned_then_only_closed_hours_past_the_grace_count():
    objects = [obj("10"), obj("11", name="b"), obj("12", name="c")]

    planned = plan(objects, State(), now=NOW, grace=timedelta(minutes=20))

    assert planned["partitions"] == [
        {"event_type": "page_view", "tenant": "acme", "year": "2026", "month": "11", "day": "26"}
    ]
    assert planned["cutoff"] == (NOW - timedelta(minutes=20)).isoformat()
    # Hour 11 ended 12:00, before the 12:10 cutoff; hour 12 is still open.
    assert plan([obj("12")], State(), now=NOW, grace=timedelta(minutes=20))["partitions"] == []
    assert plan([obj("11")], State(), now=NOW, grace=timedelta(minutes=31))["partitions"] == []


def test_given_a_known_fingerprint_when_planned_then_the_partition_is_skipped_until_an_object_changes():
    from event_collector.compaction.partitions import fingerprint

    objects = [obj("10"), obj("11", name="b")]
    state = State({"page_view#acme#2026-11-26": fingerprint(objects)})

    assert plan(objects, state, now=NOW, grace=timedelta(0))["partitions"] == []
    assert plan([*objects, obj("09", name="late")], state, now=NOW, grace=timedelta(0))["partitions"] != []
    assert plan([obj("10", etag="e2"), objects[1]], state, now=NOW, grace=timedelta(0))["partitions"] != []


def test_given_more_partitions_than_the_bound_when_planned_then_the_oldest_go_first_and_the_rest_wait():
    objects = [obj("01", day=f"{day:02d}", tenant=f"t{day:02d}") for day in range(1, 11)]

    planned = plan(objects, State(), now=NOW, grace=timedelta(0), max_partitions=3)

    assert [p["day"] for p in planned["partitions"]] == ["01", "02", "03"]
    assert planned["deferred"] == 7


def test_given_keys_outside_the_layout_when_parsed_then_they_are_ignored():
    assert parse_lake_object("events/page_view/tenant=../x/year=2026/month=11/day=26/hour=10/a.json.gz", "e", 1) is None
    assert parse_lake_object("quarantine/2026/11/26/10/a.json.gz", "e", 1) is None
    with pytest.raises(ValueError, match="identifiers"):
        DayPartition("page_view", "../x", "2026", "11", "26")


def line(**record) -> bytes:
    return json.dumps(record).encode()


def test_given_duplicates_and_mixed_fields_when_deduplicated_then_the_earliest_wins_and_types_are_stable():
    rows = [
        parse_line(
            line(
                event_id="a",
                event_type="track",
                tenant="t",
                received_at=20,
                timestamp=20,
                name="x",
                properties={"b": 1, "a": [1]},
            )
        ),
        parse_line(
            line(event_id="a", event_type="track", tenant="t", received_at=10, timestamp=10, name="x", properties=None)
        ),
        parse_line(line(event_id="b", event_type="track", tenant="t", received_at=15, name="y")),
    ]
    spec = compacted_table("track", "lake", sorted({name for row in rows for name in row}))

    out = deduplicate(to_table(rows, spec))

    assert out.column("event_id").to_pylist() == ["a", "b"]
    assert out.column("received_at").to_pylist() == [10, 15]
    assert out.column("timestamp").to_pylist() == [10, 15]  # a missing client timestamp falls back to received_at
    assert str(out.schema.field("received_at").type) == "int64"
    assert all(str(out.schema.field(c).type) == "string" for c in ("event_id", "properties", "name"))
    assert out.column_names == ["event_id", "event_type", "received_at", "timestamp", "name", "properties"]
    assert rows[0]["properties"] == '{"a":[1],"b":1}'


def test_given_equal_received_at_when_deduplicated_then_the_row_read_first_wins():
    rows = [
        parse_line(line(event_id="a", event_type="track", tenant="t", received_at=10, name="first")),
        parse_line(line(event_id="a", event_type="track", tenant="t", received_at=10, name="second")),
    ]

    out = deduplicate(to_table(rows, compacted_table("track", "lake")))

    assert out.column("name").to_pylist() == ["first"]


class Catalog:
    def __init__(self) -> None:
        self.tables: dict[str, list[tuple[str, str]]] = {}
        self.partitions: dict[str, list[list[str]]] = {}

    def ensure_table(self, spec):
        self.tables[spec.name] = list(spec.columns)

    def add_partitions(self, spec, values):
        self.partitions.setdefault(spec.name, []).extend(values)
        return len(values)


def test_given_compaction_results_when_refreshed_then_raw_tables_get_one_partition_per_hour():
    results = [
        {
            "status": "ok",
            "partition": {"event_type": "track", "tenant": "t", "year": "2026", "month": "11", "day": "20"},
            "hours": ["09", "10"],
        },
        {
            "status": "failed",
            "partition": {"event_type": "page_view", "tenant": "t", "year": "2026", "month": "11", "day": "20"},
        },
    ]
    catalog = Catalog()

    outcome = refresh(results, catalog, "lake")

    assert outcome == {"raw_tables": ["track"], "raw_partitions_added": 2}
    assert catalog.partitions["track_raw"] == [["t", "2026", "11", "20", "09"], ["t", "2026", "11", "20", "10"]]
    assert ("properties", "string") in catalog.tables["track_raw"]
    assert ("url", "string") in raw_table("page_view", "lake").columns
    # Every registered type has both tables, compacted or not, so the named queries always run.
    assert {"page_view", "page_view_raw", "button_click", "button_click_raw", "track"} <= set(catalog.tables)


def test_given_results_when_summarized_then_totals_and_failures_add_up():
    summary = summarize(
        [
            {"status": "ok", "rows_in": 5, "rows_out": 4, "duplicates_removed": 1, "files_in": 2, "files_out": 1},
            {"status": "skipped", "files_in": 0},
            {"status": "failed", "partition": {"tenant": "x"}, "error": {"Error": "E"}},
        ]
    )

    assert (summary["ok"], summary["skipped"], summary["failed"]) == (1, 1, 1)
    assert (summary["rows_in"], summary["rows_out"], summary["duplicates_removed"]) == (5, 4, 1)
    assert summary["failures"] == [{"partition": {"tenant": "x"}, "error": {"Error": "E"}}]
