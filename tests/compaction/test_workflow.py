"""The compaction state machine end to end under moto: exact rows, idempotency, late data, failures, Glue."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

DB = os.environ.get("GLUE_DATABASE_NAME", "test_db")


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
            {
                "event_id": "t1",
                "event_type": "track",
                "tenant": "acme",
                "received_at": at(21, 9),
                "timestamp": at(21, 9),
                "name": "Signed Up",
                "properties": {"plan": "pro", "seats": 3},
            },
        ],
    )
    # A redelivered request (same event_id, later received_at) and a new event, hours later.
    workflow.put_raw("raw/2026/11/20/12/b", [view("acme", "e1", at(20, 12)), view("acme", "e3", at(20, 12, 1))])


def rows(workflow, event_type: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["tenant"], r["event_id"]): r for r in workflow.compacted(event_type)}


def test_given_a_seeded_lake_when_compacted_then_rows_equal_the_distinct_events_and_glue_matches_s3(workflow):
    seed(workflow)

    result = workflow.run()

    assert result["status"] == "SUCCEEDED", result
    views = rows(workflow, "page_view")
    assert set(views) == {("acme", "e1"), ("acme", "e2"), ("acme", "e3"), ("globex", "g1")}
    assert views[("acme", "e1")]["received_at"] == at(20, 10, 5)  # the earliest delivery wins
    assert set(rows(workflow, "button_click")) == {("acme", "b1")}
    (track,) = rows(workflow, "track").values()
    assert track["properties"] == '{"plan":"pro","seats":3}'
    report = result["output"]["report"]
    assert (report["ok"], report["failed"], report["duplicates_removed"]) == (4, 0, 1)
    assert (report["rows_in"], report["rows_out"]) == (7, 6)

    partitions = workflow.glue.get_partitions(DatabaseName=DB, TableName="page_view")["Partitions"]
    glue_locations = sorted(p["StorageDescriptor"]["Location"].rstrip("/").split("compacted/")[1] for p in partitions)
    s3_prefixes = sorted({key.rsplit("/", 1)[0] for key in workflow.lake_listing("compacted/page_view/")})
    assert glue_locations == [p.split("compacted/")[1] if "compacted/" in p else p for p in s3_prefixes]
    assert glue_locations == [
        "page_view/tenant=acme/year=2026/month=11/day=20",
        "page_view/tenant=globex/year=2026/month=11/day=20",
    ]
    raw = workflow.glue.get_partitions(DatabaseName=DB, TableName="page_view_raw")["Partitions"]
    assert sorted(p["Values"] for p in raw) == [
        ["acme", "2026", "11", "20", "10"],
        ["acme", "2026", "11", "20", "12"],
        ["globex", "2026", "11", "20", "10"],
    ]


def test_given_a_compacted_lake_when_run_again_then_nothing_changes(workflow):
    seed(workflow)
    workflow.run()
    before = workflow.lake_listing("compacted/")

    result = workflow.run()

    assert result["status"] == "SUCCEEDED"
    assert result["output"]["plan"]["partitions"] == []
    assert workflow.lake_listing("compacted/") == before


def test_given_lost_compaction_state_when_run_again_then_the_rows_are_the_same(workflow):
    seed(workflow)
    workflow.run()
    first = rows(workflow, "page_view")
    import boto3

    from event_collector.adapters.compaction_state import CompactionStateTable

    boto3.client("dynamodb").delete_table(TableName=os.environ["COMPACTION_STATE_TABLE_NAME"])
    boto3.client("dynamodb").create_table(
        TableName=os.environ["COMPACTION_STATE_TABLE_NAME"],
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    assert (
        CompactionStateTable(boto3.client("dynamodb"), os.environ["COMPACTION_STATE_TABLE_NAME"]).fingerprints() == {}
    )

    result = workflow.run()

    assert result["status"] == "SUCCEEDED"
    assert result["output"]["report"]["ok"] == 4
    second = rows(workflow, "page_view")
    assert {k: (v["received_at"], v["url"]) for k, v in second.items()} == {
        k: (v["received_at"], v["url"]) for k, v in first.items()
    }


def test_given_late_data_when_it_reopens_a_compacted_day_then_only_that_partition_is_recompacted(workflow):
    seed(workflow)
    workflow.run()
    globex_before = workflow.lake_listing("compacted/page_view/tenant=globex/")

    workflow.put_raw("raw/2026/11/21/08/late", [view("acme", "e4", at(20, 15)), view("acme", "e2", at(20, 15, 1))])
    result = workflow.run()

    assert result["status"] == "SUCCEEDED"
    assert [p["tenant"] for p in result["output"]["plan"]["partitions"]] == ["acme"]
    assert {k for k in rows(workflow, "page_view") if k[0] == "acme"} == {("acme", e) for e in ("e1", "e2", "e3", "e4")}
    assert workflow.lake_listing("compacted/page_view/tenant=globex/") == globex_before


def test_given_a_new_field_when_a_later_partition_has_it_then_the_schema_evolves(workflow):
    workflow.put_raw("raw/2026/11/20/10/a", [view("acme", "e1", at(20, 10))])
    assert workflow.run()["status"] == "SUCCEEDED"

    workflow.put_raw("raw/2026/11/22/10/b", [view("acme", "e9", at(22, 10), referral_url="https://ref/")])
    result = workflow.run()

    assert result["status"] == "SUCCEEDED", result
    views = rows(workflow, "page_view")
    assert views[("acme", "e9")]["referral_url"] == "https://ref/"
    assert views[("acme", "e1")]["referral_url"] is None


def test_given_an_open_hour_when_planned_then_it_waits_unless_a_cutoff_is_given(workflow):
    now = datetime.now(UTC)
    workflow.put_raw("raw/now/a", [view("acme", "fresh", int(now.timestamp() * 1000))])

    waiting = workflow.run()
    forced = workflow.run({"cutoff": now.replace(minute=0, second=0, microsecond=0).isoformat()})
    later = workflow.run({"cutoff": "2100-01-01T00:00:00+00:00"})

    assert waiting["output"]["plan"]["partitions"] == []
    assert forced["output"]["plan"]["partitions"] == []
    assert [p["tenant"] for p in later["output"]["plan"]["partitions"]] == ["acme"]
    assert ("acme", "fresh") in rows(workflow, "page_view")


def test_given_a_compact_task_that_fails_once_when_run_then_it_is_retried_and_succeeds(workflow):
    seed(workflow)
    real = workflow.handlers["compaction-compact"]
    failures: list[dict] = []

    def flaky(event, context):
        if not failures:
            failures.append(event["partition"])
            raise RuntimeError("transient failure")
        return real(event, context)

    workflow.handlers["compaction-compact"] = flaky

    result = workflow.run()

    assert result["status"] == "SUCCEEDED"
    assert len(failures) == 1
    assert workflow.calls["compaction-compact"] == 4 + 1
    assert result["output"]["report"]["ok"] == 4


def test_given_a_partition_that_keeps_failing_when_run_then_the_others_compact_and_the_execution_fails(workflow):
    seed(workflow)
    real = workflow.handlers["compaction-compact"]

    def broken_for_globex(event, context):
        if event["partition"]["tenant"] == "globex":
            raise RuntimeError("corrupt input")
        return real(event, context)

    workflow.handlers["compaction-compact"] = broken_for_globex

    result = workflow.run()

    assert result["status"] == "FAILED"
    assert result["error"] == "CompactionPartitionsFailed"
    history = workflow.sfn.get_execution_history(executionArn=result["arn"])["events"]
    report = next(
        e
        for e in reversed(history)
        if e["type"] == "TaskStateExited" and e["stateExitedEventDetails"]["name"] == "Report"
    )
    summary = json.loads(report["stateExitedEventDetails"]["output"])["report"]
    assert (summary["ok"], summary["failed"]) == (3, 1)
    assert summary["failures"][0]["partition"]["tenant"] == "globex"
    assert workflow.calls["compaction-compact"] == 3 + 4  # three good partitions; one tried 1 + 3 retries
    assert ("acme", "e1") in rows(workflow, "page_view")


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
    from local.statemachines import lint_all

    assert lint_all() == 0
