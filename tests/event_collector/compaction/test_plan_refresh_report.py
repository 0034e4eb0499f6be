"""Plan, Refresh and Report on their own, against in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from event_collector.compaction.contracts import CompactResult, PlanRequest, RawPartitionRef, Report, RunInput, WorkItem
from event_collector.compaction.plan import plan
from event_collector.compaction.refresh import refresh
from event_collector.compaction.report import summarize
from event_collector.lake.queue import PendingObject
from tests.fakes.catalog import MemoryCatalog
from tests.fakes.compaction_state import MemoryCompactionState

NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)


def pending(hour_end: datetime, key: str, size: int = 10) -> PendingObject:
    return PendingObject(key=key, etag="e", size=size, hour_end=int(hour_end.timestamp()))


def queue_with(**tenants: list[PendingObject]) -> MemoryCompactionState:
    state = MemoryCompactionState()
    for tenant, objects in tenants.items():
        state.enqueue(tenant.replace("_", "-"), objects)
    return state


def test_given_pending_objects_when_planned_then_one_item_per_tenant_with_closed_hours_past_the_grace():
    closed, just_closed, still_open = (NOW.replace(minute=0) - timedelta(hours=h) for h in (1, 0, -1))
    state = queue_with(
        acme=[pending(closed, "a1", 5), pending(closed, "a2", 7), pending(still_open, "a3")],
        globex=[pending(just_closed, "g1")],  # ended 12:00, 30 min ago: closed with a 20-minute grace
        initech=[pending(still_open, "i1")],
    )

    planned, items = plan(
        PlanRequest(run_id="run-1"), state, now=NOW, grace=timedelta(minutes=20), lake_bucket="lake", max_concurrency=3
    )

    assert items == [WorkItem(tenant="acme", objects=2, bytes=12), WorkItem(tenant="globex", objects=1, bytes=10)]
    assert (planned.items, planned.objects, planned.waiting) == (2, 3, 2)
    assert planned.cutoff == NOW - timedelta(minutes=20)
    assert planned.items_prefix == "compaction/runs/run-1/items/"
    assert planned.results_prefix == "compaction/runs/run-1/results/"
    assert planned.max_concurrency == 3


def test_given_a_cutoff_in_the_input_when_planned_then_it_replaces_now_minus_grace():
    state = queue_with(acme=[pending(NOW + timedelta(hours=2), "a1")])
    request = PlanRequest(run_id="run-2", input=RunInput(cutoff=datetime(2100, 1, 1, tzinfo=UTC)))

    planned, items = plan(request, state, now=NOW, grace=timedelta(minutes=20), lake_bucket="l", max_concurrency=1)

    assert [item.tenant for item in items] == ["acme"]
    assert planned.cutoff == datetime(2100, 1, 1, tzinfo=UTC)


def test_given_the_scheduler_input_when_validated_then_unknown_fields_are_ignored():
    request = PlanRequest.model_validate({"run_id": "r", "input": {"time": "2026-11-26T12:00:00Z"}})

    assert request.input.cutoff is None


def result(tenant: str, status: str = "ok", **values: int) -> CompactResult:
    partition = RawPartitionRef(event_type="track", tenant=tenant, year="2026", month="11", day="20", hour="09")
    raw = [partition] if status == "ok" else []
    return CompactResult(tenant=tenant, status=status, raw_partitions=raw, **values)


def test_given_compaction_results_when_refreshed_then_every_table_exists_and_raw_hours_are_registered():
    catalog = MemoryCatalog()

    outcome = refresh([result("acme"), result("globex", "failed")], catalog, "lake")

    assert outcome == {"raw_tables": ["track"], "raw_partitions_registered": 1}
    assert catalog.partitions["track_raw"] == {("acme", "2026", "11", "20", "09")}
    assert {"page_view", "page_view_raw", "button_click", "button_click_raw", "track", "track_raw"} <= set(
        catalog.tables
    )
    assert "compaction_ledger" in catalog.tables
    assert catalog.partition_keys["daily_counts"] == ("tenant", "day")  # named queries over it run from the start
    assert ("properties", "string") in catalog.tables["track_raw"]


def test_given_results_and_the_plan_when_summarized_then_totals_add_up_and_every_failure_is_listed():
    planned = [WorkItem(tenant=t, objects=1, bytes=1) for t in ("acme", "globex", "initech", "hooli")]
    results = [
        result("acme", rows_in=5, rows_out=4, duplicates_removed=1, files_in=2, files_out=1),
        result("globex", "skipped"),
        CompactResult(tenant="initech", status="failed", error="corrupt input"),
        # hooli: no result at all (its item never ran)
    ]

    report = summarize("run-1", planned, results)

    assert (report.items, report.ok, report.skipped, report.failed) == (4, 1, 1, 2)
    assert (report.rows_in, report.rows_out, report.duplicates_removed) == (5, 4, 1)
    assert report.failures == [
        {"tenant": "initech", "error": "corrupt input"},
        {"tenant": "hooli", "error": "no result recorded (see the map run)"},
    ]


def test_given_a_tenant_failure_to_record_when_handled_then_its_result_is_failed_with_the_error():
    from event_collector.compaction.contracts import FailureRecord, ReportRequest
    from event_collector.compaction.report import handle
    from event_collector.lake.layout import run_item_key, run_result_key
    from tests.fakes.objects import MemoryObjectStore

    store = MemoryObjectStore()
    failure = FailureRecord(run_id="run-1", item_key=run_item_key("run-1", "acme"), error={"Cause": "x" * 5000})

    outcome = handle(ReportRequest(record_failure=failure), store, "lake")

    assert outcome == {"recorded": "acme"}
    recorded = CompactResult.model_validate(store.get_json("lake", run_result_key("run-1", "acme")))
    assert recorded.status == "failed"
    assert recorded.error is not None
    assert len(recorded.error) == 2000


def test_given_a_failed_run_with_or_without_a_plan_when_handled_then_it_reports_what_the_run_had():
    from event_collector.compaction.contracts import FailedRun, ReportRequest
    from event_collector.compaction.plan import plan as make_plan
    from event_collector.compaction.report import handle, metrics_of
    from event_collector.lake.layout import run_item_key, run_result_key
    from tests.fakes.objects import MemoryObjectStore

    store = MemoryObjectStore()
    planned, items = make_plan(
        PlanRequest(run_id="run-1"),
        queue_with(acme=[pending(NOW - timedelta(hours=2), "a1")]),
        now=NOW,
        grace=timedelta(minutes=20),
        lake_bucket="lake",
        max_concurrency=1,
    )
    for item in items:
        store.put_json("lake", run_item_key("run-1", item.tenant), item.model_dump())
    store.put_json("lake", run_result_key("run-1", "acme"), result("acme", rows_in=3, rows_out=3).model_dump())

    with_plan = handle(ReportRequest(failed_run=FailedRun(plan=planned, error={"Error": "X"})), store, "lake")
    without = handle(ReportRequest(failed_run=FailedRun(error={"Error": "Y"})), store, "lake")

    assert isinstance(with_plan, Report)
    assert isinstance(without, Report)
    assert (with_plan.ok, with_plan.rows_out, with_plan.run_error) == (1, 3, {"Error": "X"})
    assert (without.run_id, without.items, without.run_error) == (None, 0, {"Error": "Y"})
    emitted = {name: (unit, value) for name, unit, value in metrics_of(with_plan)}
    assert emitted["CompactionRunsFailed"] == ("Count", 1)
    assert emitted["rows_out"] == ("Count", 3)
    assert emitted["bytes_scanned"] == ("Bytes", 0)
    finished = handle(ReportRequest(plan=planned), store, "lake")
    assert isinstance(finished, Report)
    assert "CompactionRunsFailed" not in {name for name, _, _ in metrics_of(finished)}


def test_given_regulations_when_planned_then_those_due_or_being_applied_are_counted_even_with_nothing_to_compact():
    from event_collector.privacy.regulations import Regulation
    from tests.fakes.regulations import MemoryRegulations

    cutoff_ms = int((NOW - timedelta(minutes=20)).timestamp() * 1000)
    store = MemoryRegulations()
    for name, kind, requested_at in (
        ("due", "delete", cutoff_ms - 300_000),  # its events had the Firehose buffer (300 s) to arrive
        ("early", "delete", cutoff_ms - 299_000),
        ("suppress-early", "suppress", cutoff_ms - 300_000),  # the collector's cache may let some through
        ("suppress-due", "suppress", cutoff_ms - 360_000),
        ("unsuppress", "unsuppress", cutoff_ms),  # nothing to wait for: only marked applied
    ):
        store.put_request(Regulation(f"reg-{name}", "acme", kind, "user_id", name, requested_at))  # type: ignore[arg-type]
    applying = store.put_request(Regulation("reg-applying", "acme", "delete", "user_id", "s", cutoff_ms))
    store.mark(applying, "applying", {}, cutoff_ms)

    planned, items = plan(
        PlanRequest(run_id="run-1"),
        MemoryCompactionState(),
        now=NOW,
        grace=timedelta(minutes=20),
        lake_bucket="lake",
        max_concurrency=1,
        regulations=store,
        firehose_buffer_seconds=300,
    )

    assert (items, planned.items, planned.regulations) == ([], 0, 4)


def test_given_a_cutoff_ahead_of_now_when_planned_then_a_request_is_not_due_before_its_events_landed():
    """make compact and make smoke pass a cutoff an hour ahead to compact open hours; a deletion asked a
    minute ago still waits for the Firehose buffer by the clock."""
    from event_collector.compaction.contracts import RunInput
    from event_collector.privacy.regulations import Regulation
    from tests.fakes.regulations import MemoryRegulations

    now_ms = int(NOW.timestamp() * 1000)
    store = MemoryRegulations()
    store.put_request(Regulation("reg-recent", "acme", "delete", "user_id", "recent", now_ms - 60_000))
    store.put_request(Regulation("reg-landed", "acme", "delete", "user_id", "landed", now_ms - 300_000))

    planned, _ = plan(
        PlanRequest(run_id="run-1", input=RunInput(cutoff=NOW + timedelta(hours=1))),
        MemoryCompactionState(),
        now=NOW,
        grace=timedelta(minutes=20),
        lake_bucket="lake",
        max_concurrency=1,
        regulations=store,
        firehose_buffer_seconds=300,
    )

    assert planned.regulations == 1  # "landed" alone


def test_given_a_longer_suppression_cache_when_planned_then_a_suppression_waits_for_it():
    """A collector may store a suppressed user's events for SuppressionCacheSeconds after the request: its
    sweep waits for what got through in that window to reach the lake, whatever the operator set."""
    from event_collector.privacy.regulations import Regulation
    from tests.fakes.regulations import MemoryRegulations

    cutoff_ms = int((NOW - timedelta(minutes=20)).timestamp() * 1000)
    store = MemoryRegulations()
    for name, requested_at in (("due", cutoff_ms - 900_000), ("waiting", cutoff_ms - 899_000)):
        store.put_request(Regulation(f"reg-{name}", "acme", "suppress", "user_id", name, requested_at))

    def planned_with(cache_seconds: int) -> int:
        planned, _ = plan(
            PlanRequest(run_id="run-1"),
            MemoryCompactionState(),
            now=NOW,
            grace=timedelta(minutes=20),
            lake_bucket="lake",
            max_concurrency=1,
            regulations=store,
            firehose_buffer_seconds=300,
            suppression_cache_seconds=cache_seconds,
        )
        return planned.regulations

    assert (planned_with(60), planned_with(600)) == (2, 1)  # 300 s buffer + 600 s cache: only "due"


def test_given_a_run_whose_regulate_step_ran_when_reported_then_its_counts_and_failures_are_in_the_report():
    from event_collector.compaction.contracts import RegulateResult, RegulationOutcome, ReportRequest
    from event_collector.compaction.report import handle, metrics_of
    from event_collector.lake.layout import run_regulations_key
    from tests.fakes.objects import MemoryObjectStore

    store = MemoryObjectStore()
    planned, _ = plan(
        PlanRequest(run_id="run-1"),
        MemoryCompactionState(),
        now=NOW,
        grace=timedelta(1),
        lake_bucket="lake",
        max_concurrency=1,
    )
    outcomes = [
        RegulationOutcome(request="reg-a", tenant="acme", status="applied", removed={"raw": 2}),
        RegulationOutcome(
            request="reg-b", tenant="globex", status="failed", error="writing s3://lake/x failed: SlowDown"
        ),
    ]
    regulated = RegulateResult(run_id="run-1", applied=1, failed=1, outcomes=outcomes)
    store.put_json("lake", run_regulations_key("run-1"), regulated.model_dump(mode="json"))

    report = handle(ReportRequest(plan=planned), store, "lake")

    assert isinstance(report, Report)
    assert (report.regulations_applied, report.regulations_failed) == (1, 1)
    assert report.regulation_failures == [
        {"request": "reg-b", "tenant": "globex", "error": "writing s3://lake/x failed: SlowDown"}
    ]
    emitted = {name: value for name, _, value in metrics_of(report)}
    assert (emitted["RegulationsApplied"], emitted["RegulationsFailed"]) == (1, 1)
