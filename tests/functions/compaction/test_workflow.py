"""The compaction state machine end to end under moto: one row per (tenant, event_id) across types and
days, each raw object read once, late data, retries, failures, schema evolution, the Glue catalog."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

DB = os.environ.get("GLUE_DATABASE_NAME", "test_db")
FUTURE = {"cutoff": "2100-01-01T00:00:00+00:00"}


def at(day: int, hour: int, minute: int = 0) -> int:
    return int(datetime(2026, 11, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


def view(tenant: str, event_id: str, received_at: int, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": "page_view",
        "tenant": tenant,
        "received_at": received_at,
        "timestamp": received_at,
        "url": f"https://x/{event_id}",
        "session_id": "s",
        **extra,
    }


def track(tenant: str, event_id: str, received_at: int, properties: str = "{}") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": "track",
        "tenant": tenant,
        "received_at": received_at,
        "timestamp": received_at,
        "name": "Signed Up",
        "properties": properties,
    }


def seed(workflow) -> None:
    workflow.put_raw(
        "raw/2026/11/20/10/a",
        [
            view("acme", "e1", at(20, 10, 5)),
            view("acme", "e2", at(20, 10, 6)),
            view("globex", "g1", at(20, 10, 7)),
            {
                "event_id": "b1",
                "event_type": "button_click",
                "tenant": "acme",
                "received_at": at(20, 11),
                "timestamp": at(20, 11),
                "button_id": "buy",
                "session_id": "s",
            },
            track("acme", "t1", at(21, 9), '{"plan":"pro","seats":3}'),
        ],
    )
    # A redelivered request (same event_id, later received_at) and a new event, hours later.
    workflow.put_raw("raw/2026/11/20/12/b", [view("acme", "e1", at(20, 12)), view("acme", "e3", at(20, 12, 1))])


def rows(workflow, event_type: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["tenant"], r["event_id"]): r for r in workflow.compacted(event_type)}


def all_rows(workflow) -> list[tuple[str, str]]:
    return sorted(
        (row["tenant"], row["event_id"])
        for t in ("page_view", "button_click", "track")
        for row in workflow.compacted(t)
    )


def test_given_a_seeded_lake_when_compacted_then_rows_equal_the_distinct_events_and_glue_matches_s3(workflow):
    seed(workflow)

    result = workflow.run(FUTURE)

    assert result["status"] == "SUCCEEDED", result
    views = rows(workflow, "page_view")
    assert set(views) == {("acme", "e1"), ("acme", "e2"), ("acme", "e3"), ("globex", "g1")}
    assert views[("acme", "e1")]["received_at"] == at(20, 10, 5)  # the earliest delivery wins
    assert set(rows(workflow, "button_click")) == {("acme", "b1")}
    (row,) = rows(workflow, "track").values()
    assert row["properties"] == '{"plan":"pro","seats":3}'
    report = result["output"]["report"]
    assert (report["items"], report["ok"], report["failed"]) == (2, 2, 0)  # one unit per tenant
    assert (report["rows_in"], report["rows_out"], report["duplicates_removed"]) == (7, 6, 1)
    assert workflow.pending() == []  # every object consumed

    partitions = workflow.glue.get_partitions(DatabaseName=DB, TableName="page_view")["Partitions"]
    glue_locations = sorted(p["StorageDescriptor"]["Location"].split("compacted/")[1].rstrip("/") for p in partitions)
    s3_prefixes = sorted(
        {key.split("compacted/")[1].rsplit("/", 1)[0] for key in workflow.lake_listing("compacted/page_view/")}
    )
    assert (
        glue_locations
        == s3_prefixes
        == [
            "page_view/tenant=acme/year=2026/month=11/day=20",
            "page_view/tenant=globex/year=2026/month=11/day=20",
        ]
    )
    raw = workflow.glue.get_partitions(DatabaseName=DB, TableName="page_view_raw")["Partitions"]
    assert sorted(p["Values"] for p in raw) == [
        ["acme", "2026", "11", "20", "10"],
        ["acme", "2026", "11", "20", "12"],
        ["globex", "2026", "11", "20", "10"],
    ]
    tables = {t["Name"] for t in workflow.glue.get_tables(DatabaseName=DB)["TableList"]}
    assert {"page_view", "button_click", "track", "track_raw", "compaction_ledger"} <= tables


def test_given_one_event_id_under_two_types_when_compacted_then_one_row_the_earliest(workflow):
    workflow.put_raw(
        "raw/2026/11/20/10/a",
        [track("acme", "same", at(20, 10, 9)), view("acme", "same", at(20, 10, 1)), view("globex", "same", at(20, 10))],
    )

    result = workflow.run(FUTURE)

    assert result["status"] == "SUCCEEDED", result
    assert all_rows(workflow) == [("acme", "same"), ("globex", "same")]  # per tenant: ids never clash across
    assert rows(workflow, "page_view")[("acme", "same")]["received_at"] == at(20, 10, 1)
    assert result["output"]["report"]["duplicates_removed"] == 1


def test_given_a_resend_across_midnight_and_a_later_run_when_compacted_then_one_row(workflow):
    workflow.put_raw("raw/2026/11/20/23/a", [view("acme", "late-night", at(20, 23, 59))])
    first = workflow.run(FUTURE)
    workflow.put_raw("raw/2026/11/21/00/b", [track("acme", "late-night", at(21, 0, 2))])  # the client resent it

    second = workflow.run(FUTURE)

    assert (first["status"], second["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert all_rows(workflow) == [("acme", "late-night")]
    assert second["output"]["report"]["duplicates_already_compacted"] == 1


def test_given_a_resend_beyond_the_dedup_window_when_compacted_then_it_is_kept_as_documented(workflow):
    workflow.put_raw("raw/2026/11/20/10/a", [view("acme", "old", at(20, 10))])
    workflow.run(FUTURE)
    workflow.put_raw("raw/2026/11/23/10/b", [view("acme", "old", at(23, 10))])  # three days later, window is 1

    workflow.run(FUTURE)

    assert all_rows(workflow) == [("acme", "old"), ("acme", "old")]


def test_given_a_compacted_lake_when_run_again_then_nothing_is_read_or_written(workflow):
    seed(workflow)
    workflow.run(FUTURE)
    before = workflow.lake_listing("compacted/")

    result = workflow.run(FUTURE)

    assert result["status"] == "SUCCEEDED"
    assert result["output"]["plan"]["items"] == 0
    assert workflow.lake_listing("compacted/") == before


def test_given_objects_enqueued_again_when_compacted_then_the_ledger_keeps_one_row_each(workflow):
    seed(workflow)
    workflow.run(FUTURE)
    first = all_rows(workflow)
    # A backfill or a lost commit puts compacted objects back in the queue: nothing is stored twice.
    workflow.put_raw("raw/2026/11/20/10/a", [view("acme", "e1", at(20, 10, 5)), view("acme", "e2", at(20, 10, 6))])

    result = workflow.run(FUTURE)

    assert result["status"] == "SUCCEEDED"
    assert all_rows(workflow) == first
    assert result["output"]["report"]["duplicates_already_compacted"] == 2


def test_given_late_data_for_a_compacted_day_when_run_then_only_the_new_objects_are_read(workflow, monkeypatch):
    from tests.conftest import load_function

    seed(workflow)
    workflow.run(FUTURE)
    globex_before = workflow.lake_listing("compacted/page_view/tenant=globex/")
    reads: list[str] = []
    compact_s3 = load_function("compaction_compact").store._client  # the Compact function's own client
    compact_s3.meta.events.register(
        "provide-client-params.s3.GetObject", lambda params, **_: reads.append(params["Key"])
    )

    workflow.put_raw("raw/2026/11/21/08/late", [view("acme", "e4", at(20, 15)), view("acme", "e2", at(20, 15, 1))])
    result = workflow.run(FUTURE)

    assert result["status"] == "SUCCEEDED"
    assert result["output"]["plan"]["items"] == 1
    assert {k for k in rows(workflow, "page_view") if k[0] == "acme"} == {("acme", e) for e in ("e1", "e2", "e3", "e4")}
    assert workflow.lake_listing("compacted/page_view/tenant=globex/") == globex_before
    event_reads = [key for key in reads if key.startswith("events/")]
    assert len(event_reads) == len(set(event_reads)) == 1  # the late object alone, read once
    assert result["output"]["report"]["files_in"] == 1


def test_given_a_new_field_when_a_later_unit_has_it_then_the_schema_evolves(workflow):
    workflow.put_raw("raw/2026/11/20/10/a", [view("acme", "e1", at(20, 10))])
    assert workflow.run(FUTURE)["status"] == "SUCCEEDED"

    workflow.put_raw("raw/2026/11/22/10/b", [view("acme", "e9", at(22, 10), referral_url="https://ref/")])
    result = workflow.run(FUTURE)

    assert result["status"] == "SUCCEEDED", result
    views = rows(workflow, "page_view")
    assert views[("acme", "e9")]["referral_url"] == "https://ref/"
    assert views[("acme", "e1")].get("referral_url") is None
    columns = workflow.glue.get_table(DatabaseName=DB, Name="page_view")["Table"]["StorageDescriptor"]["Columns"]
    assert "referral_url" in [c["Name"] for c in columns]


def test_given_an_open_hour_when_planned_then_it_waits_unless_a_cutoff_is_given(workflow):
    now = datetime.now(UTC)
    workflow.put_raw("raw/now/a", [view("acme", "fresh", int(now.timestamp() * 1000))])

    waiting = workflow.run()
    forced = workflow.run({"cutoff": now.replace(minute=0, second=0, microsecond=0).isoformat()})
    later = workflow.run(FUTURE)

    assert (waiting["output"]["plan"]["items"], waiting["output"]["plan"]["waiting"]) == (0, 1)
    assert forced["output"]["plan"]["items"] == 0
    assert later["output"]["plan"]["items"] == 1
    assert ("acme", "fresh") in rows(workflow, "page_view")


def test_given_a_compact_task_that_fails_once_when_run_then_it_is_retried_and_succeeds(workflow):
    seed(workflow)
    real = workflow.handlers["compaction-compact"]
    failures: list[dict] = []

    def flaky(event, context):
        if not failures:
            failures.append(event)
            raise RuntimeError("transient failure")
        return real(event, context)

    workflow.handlers["compaction-compact"] = flaky

    result = workflow.run(FUTURE)

    assert result["status"] == "SUCCEEDED"
    assert len(failures) == 1
    assert workflow.calls["compaction-compact"] == 2 + 1
    assert result["output"]["report"]["ok"] == 2


def test_given_a_tenant_that_keeps_failing_when_run_then_the_others_compact_and_the_execution_fails(workflow):
    seed(workflow)
    real = workflow.handlers["compaction-compact"]

    def broken_for_globex(event, context):
        if event["item_key"].endswith("/globex.json"):
            raise RuntimeError("corrupt input")
        return real(event, context)

    workflow.handlers["compaction-compact"] = broken_for_globex

    result = workflow.run(FUTURE)

    assert result["status"] == "FAILED"
    assert result["error"] == "CompactionTenantsFailed"
    history = workflow.sfn.get_execution_history(executionArn=result["arn"])["events"]
    report = next(
        e
        for e in reversed(history)
        if e["type"] == "TaskStateExited" and e["stateExitedEventDetails"]["name"] == "Report"
    )
    summary = json.loads(report["stateExitedEventDetails"]["output"])["report"]
    assert (summary["ok"], summary["failed"]) == (1, 1)
    assert summary["failures"][0]["tenant"] == "globex"
    assert "corrupt input" in summary["failures"][0]["error"]
    assert workflow.calls["compaction-compact"] == 1 + 4  # acme once; globex 1 + 3 retries
    assert ("acme", "e1") in rows(workflow, "page_view")
    assert [k for k in workflow.pending() if "tenant=globex" in k]  # globex's objects wait for the next run


def test_given_plan_fails_when_run_then_the_failure_path_still_reports_and_the_execution_fails(workflow):
    def broken(event, context):
        raise RuntimeError("listing failed")

    workflow.handlers["compaction-plan"] = broken

    result = workflow.run()

    assert result["status"] == "FAILED"
    assert result["error"] == "CompactionRunFailed"
    assert workflow.calls["compaction-plan"] == 4  # 1 + 3 retries
    assert workflow.calls["compaction-report"] == 1


def test_given_the_definition_when_substituted_then_statelint_passes():
    from tools.statemachines import lint_all

    assert lint_all() == 0


def test_given_the_definition_when_read_then_it_is_a_distributed_map_with_item_reader_and_result_writer():
    from tools.template import ROOT

    definition = json.loads((ROOT / "statemachines/compaction.asl.json").read_text())
    compact = definition["States"]["CompactTenants"]

    assert compact["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert compact["ItemReader"]["Resource"] == "arn:${Partition}:states:::s3:listObjectsV2"
    assert compact["ResultWriter"]["Resource"] == "arn:${Partition}:states:::s3:putObject"
    assert compact["MaxConcurrencyPath"] == "$.plan.max_concurrency"
    assert compact["ToleratedFailurePercentagePath"] == "$.plan.tolerated_failure_percentage"


def test_given_real_time_counts_off_by_a_resend_when_compacted_then_the_counters_equal_the_distinct_events(
    workflow,
):
    from event_collector.aws.counters_table import CountersTable

    counters = CountersTable(workflow.aws.dynamodb, os.environ["COUNTERS_TABLE_NAME"])
    # What the collector counted in real time: "Signed Up" three times, one of them a resend of t2.
    workflow.aws.dynamodb.update_item(
        TableName=os.environ["COUNTERS_TABLE_NAME"],
        Key={"pk": {"S": "acme#track#k:Signed Up"}, "sk": {"S": "day#2026-11-20"}},
        UpdateExpression="ADD h10 :three",
        ExpressionAttributeValues={":three": {"N": "3"}},
    )
    workflow.put_raw("raw/2026/11/20/10/a", [track("acme", "t1", at(20, 10, 1)), track("acme", "t2", at(20, 10, 2))])
    workflow.put_raw("raw/2026/11/20/10/b", [track("acme", "t2", at(20, 10, 2))])  # the resend, delivered too

    result = workflow.run(FUTURE)

    assert result["status"] == "SUCCEEDED", result
    assert counters.total("acme#track#k:Signed Up") == 2
    assert counters.total("acme#track#*") == 2


def test_given_a_seeded_lake_when_the_workflow_runs_then_daily_counts_has_each_days_keys_in_glue_and_dynamodb(
    workflow,
):
    """The deployed Compact (functions/compaction_compact/app.py) keeps the daily rollup: its Parquet file and
    Glue partition per tenant and day, and the API's items in the counters table."""
    import io

    import pyarrow.parquet as pq

    from event_collector.aws.counters_table import CountersTable

    seed(workflow)

    assert workflow.run(FUTURE)["status"] == "SUCCEEDED"

    partitions = workflow.glue.get_partitions(DatabaseName=DB, TableName="daily_counts")["Partitions"]
    assert sorted(p["Values"] for p in partitions) == [
        ["acme", "2026-11-20"],
        ["acme", "2026-11-21"],
        ["globex", "2026-11-20"],
    ]
    key = "rollups/daily_counts/tenant=acme/day=2026-11-20/rollup.parquet"
    body = workflow.aws.s3.get_object(Bucket=os.environ["LAKE_BUCKET_NAME"], Key=key)["Body"].read()
    assert sorted(tuple(r.values()) for r in pq.read_table(io.BytesIO(body)).to_pylist()) == [
        ("button_click", "buy", 1, 1, 0),
        ("page_view", "https://x/e1", 1, 1, 0),  # sent twice, compacted once
        ("page_view", "https://x/e2", 1, 1, 0),
        ("page_view", "https://x/e3", 1, 1, 0),
    ]
    counters = CountersTable(workflow.aws.dynamodb, os.environ["COUNTERS_TABLE_NAME"])
    (views,) = counters.rollups("acme", "page_view", "2026-11-20", "2026-11-20")
    assert (views.events, views.sessions, views.keys) == (3, 1, 3)
    assert [r.events for r in counters.rollups("acme", "track", "2026-11-01", "2026-11-30")] == [1]
