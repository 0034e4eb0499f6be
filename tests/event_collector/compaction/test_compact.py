"""Compact one tenant: the lease, the commit protocol, the dedup window, the engine choice (fakes only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow.parquet as pq
import pytest

from event_collector.compaction.compact import Compaction, combined, compact_tenant
from event_collector.compaction.contracts import CompactRequest, CompactResult, RawPartitionRef
from event_collector.compaction.recount import Recount
from event_collector.counts.layout import CounterIncrement
from event_collector.counts.record import CountingLimits
from event_collector.errors import StorageError
from event_collector.lake.layout import run_item_key
from event_collector.lake.queue import Inflight
from tests.event_collector.compaction.helpers import LAKE, Lake, at, event
from tests.fakes.catalog import MemoryCatalog
from tests.fakes.counters import MemoryCounters

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def request(run: str = "run-1", tenant: str = "acme") -> CompactRequest:
    return CompactRequest(item_key=run_item_key(run, tenant), run_id=run, cutoff=datetime(2100, 1, 1, tzinfo=UTC))


def compaction(lake: Lake, **options) -> Compaction:
    return Compaction(lake_bucket=LAKE, store=lake.store, state=lake.state, catalog=MemoryCatalog(), **options)


def compacted_ids(lake: Lake) -> list[str]:
    import io

    ids = []
    for (bucket, key), body in lake.store.objects.items():
        if bucket == LAKE and key.startswith("compacted/"):
            ids += pq.read_table(io.BytesIO(body)).column("event_id").to_pylist()
    return sorted(ids)


def test_given_pending_objects_when_compacted_then_rows_are_written_and_the_queue_is_empty():
    lake = Lake()
    lake.land(event("a", at(20, 10)), event("b", at(20, 11)))

    result = compact_tenant(request(), compaction(lake), NOW)

    assert (result.status, result.rows_out, result.files_in) == ("ok", 2, 2)
    assert compacted_ids(lake) == ["a", "b"]
    assert lake.state.pending("acme") == []
    assert lake.state.inflight("acme") is None
    assert lake.state.leases == {}


def test_given_another_run_holds_the_lease_when_compacted_then_skipped_and_nothing_consumed():
    lake = Lake()
    lake.land(event("a", at(20, 10)))
    lake.state.acquire_lease("acme", "other-run", int(NOW.timestamp()), int(NOW.timestamp()) + 60)

    result = compact_tenant(request(), compaction(lake), NOW)

    assert result.status == "skipped"
    assert len(lake.state.pending("acme")) == 1
    assert compacted_ids(lake) == []


def test_given_an_attempt_that_died_before_committing_when_another_unit_runs_then_its_files_go_first():
    lake = Lake()
    lake.land(event("a", at(20, 10)))
    stale = "compacted/track/tenant=acme/year=2026/month=11/day=20/deadbeefdeadbeef-0.parquet"
    lake.store.objects[(LAKE, stale)] = b"partial"
    keep = "compacted/track/tenant=acme/year=2026/month=11/day=20/0123456789abcdef-0.parquet"
    lake.store.objects[(LAKE, keep)] = b"committed earlier"
    lake.state.set_inflight(
        "acme", Inflight("deadbeefdeadbeef", ["compacted/track/tenant=acme/year=2026/month=11/day=20/"])
    )

    compact_tenant(request(), compaction(lake), NOW)

    assert (LAKE, stale) not in lake.store.objects
    assert (LAKE, keep) in lake.store.objects


def test_given_a_retry_of_the_same_unit_when_compacted_then_its_own_ledger_does_not_drop_its_rows():
    lake = Lake()
    lake.land(event("a", at(20, 10)))
    pending = lake.state.pending("acme")
    first = compact_tenant(request(), compaction(lake), NOW)
    # The attempt wrote every file but its commit was lost: the same objects are pending, the unit in flight.
    lake.state.enqueue("acme", pending)
    lake.state.set_inflight("acme", Inflight(first.unit or "", []))

    again = compact_tenant(request("run-2"), compaction(lake), NOW)

    assert again.unit == first.unit
    assert (again.rows_out, again.duplicates_already_compacted) == (1, 0)
    assert compacted_ids(lake) == ["a"]  # the same file names: overwritten, not added


def test_given_ids_compacted_on_neighbouring_days_when_compacted_then_the_window_decides():
    lake = Lake()
    lake.land(event("near", at(19, 23)), event("far", at(17, 12)))
    compact_tenant(request("run-1"), compaction(lake, dedup_window_days=1), NOW)
    lake.land(event("near", at(20, 1)), event("far", at(20, 1)))

    result = compact_tenant(request("run-2"), compaction(lake, dedup_window_days=1), NOW)

    assert result.duplicates_already_compacted == 1  # "near" (a day before) is known; "far" is 3 days away
    assert compacted_ids(lake) == ["far", "far", "near"]


class RecordingEngine:
    def __init__(self) -> None:
        self.units: list[tuple[str, int]] = []

    def compact(self, tenant: str, unit: str, objects: list[Any]) -> CompactResult:
        self.units.append((tenant, len(objects)))
        return CompactResult(tenant=tenant, status="ok", engine="athena", unit=unit)


def test_given_a_unit_over_the_threshold_when_compacted_then_the_large_unit_engine_takes_it():
    lake = Lake()
    lake.land(event("a", at(20, 10)), event("b", at(20, 11)))
    athena = RecordingEngine()

    result = compact_tenant(request(), compaction(lake, large_unit_bytes=1, large_units=athena), NOW)

    assert athena.units == [("acme", 2)]
    assert (result.engine, result.files_in) == ("athena", 2)
    assert lake.state.pending("acme") == []


def test_given_an_upload_that_fails_when_compacted_then_nothing_is_marked_done_and_the_unit_stays_in_flight():
    lake = Lake()
    lake.land(event("a", at(20, 10)))

    def broken(*_args, **_kwargs):
        raise StorageError("writing failed: InternalError")

    lake.store.put_file = broken  # type: ignore[method-assign]

    with pytest.raises(StorageError):
        compact_tenant(request(), compaction(lake), NOW)

    assert len(lake.state.pending("acme")) == 1
    assert lake.state.inflight("acme") is not None  # the next attempt cleans up whatever was written
    assert lake.state.leases == {}  # the lease is released even on failure


def test_given_ids_athena_put_in_the_ledger_when_a_lambda_unit_runs_then_resends_are_still_dropped():
    import pyarrow as pa

    from event_collector.compaction.engine import LEDGER_SCHEMA

    lake = Lake()
    # Athena's INSERT INTO names its files itself (query id, UUID, no .parquet): every reader must see them.
    name = "20261120_101500_00042_abcde_3b4e8f0a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    columns = {"event_id": ["seen"], "event_type": ["track"], "received_at": [at(20, 9)], "counter_key": ["n"]}
    table = pa.table(columns, schema=LEDGER_SCHEMA)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    lake.store.objects[(LAKE, f"ledger/tenant=acme/year=2026/month=11/day=20/{name}")] = sink.getvalue().to_pybytes()
    lake.land(event("seen", at(20, 10)), event("new", at(20, 10)))

    result = compact_tenant(request(), compaction(lake), NOW)

    assert result.duplicates_already_compacted == 1
    assert compacted_ids(lake) == ["new"]


def test_given_files_a_crashed_lambda_unit_left_when_athena_takes_the_next_unit_then_they_are_removed_first():
    lake = Lake()
    lake.land(event("a", at(20, 10)))
    prefix = "compacted/track/tenant=acme/year=2026/month=11/day=20/"
    ledger = "ledger/tenant=acme/year=2026/month=11/day=20/"
    lake.store.objects[(LAKE, prefix + "deadbeefdeadbeef-0.parquet")] = b"partial"
    lake.store.objects[(LAKE, ledger + "deadbeefdeadbeef.parquet")] = b"partial ledger"
    lake.state.set_inflight("acme", Inflight("deadbeefdeadbeef", [prefix, ledger]))
    seen_by_athena: list[list[str]] = []

    class Athena(RecordingEngine):
        def compact(self, tenant: str, unit: str, objects: list[Any]) -> CompactResult:
            seen_by_athena.append(
                sorted(key for _, key in lake.store.objects if key.startswith(("compacted/", "ledger/")))
            )
            return super().compact(tenant, unit, objects)

    compact_tenant(request(), compaction(lake, large_unit_bytes=1, large_units=Athena()), NOW)

    assert seen_by_athena == [[]]  # Athena never saw the uncommitted ids in the ledger
    assert lake.state.inflight("acme") is None


class Results:
    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], CompactResult] = {}
        self.puts = 0

    def get(self, run_id, tenant):
        return self.kept.get((run_id, tenant))

    def put(self, run_id, tenant, result):
        self.puts += 1
        self.kept[(run_id, tenant)] = result


def test_given_a_success_whose_objects_were_not_marked_done_when_retried_then_its_result_and_totals_stay():
    lake = Lake()
    lake.land(event("a", at(20, 10)), event("b", at(20, 11)))
    pending = lake.state.pending("acme")
    results = Results()
    first = compact_tenant(request(), compaction(lake, results=results), NOW)
    lake.state.enqueue("acme", pending)  # the attempt died after recording its result, before "done"

    again = compact_tenant(request(), compaction(lake, results=results), NOW)

    assert again == first
    assert (again.status, again.rows_out) == ("ok", 2)
    assert results.kept[("run-1", "acme")] == first
    assert lake.state.pending("acme") == []
    assert compacted_ids(lake) == ["a", "b"]


def test_given_a_recorded_success_when_the_retry_finds_nothing_pending_then_it_is_not_replaced_by_skipped():
    lake = Lake()
    lake.land(event("a", at(20, 10)))
    results = Results()
    first = compact_tenant(request(), compaction(lake, results=results), NOW)

    again = compact_tenant(request(), compaction(lake, results=results), NOW)

    assert again == first
    assert results.kept[("run-1", "acme")].status == "ok"
    assert results.puts == 1


def test_given_a_backlog_longer_than_a_unit_when_compacted_then_the_oldest_days_go_first_and_the_rest_wait():
    from event_collector.compaction.compact import MAX_UNIT_DAYS

    lake = Lake()
    days = MAX_UNIT_DAYS + 3
    base = at(1, 10)
    for number in range(days):
        lake.land(event(f"e{number}", base + number * 86_400_000))

    result = compact_tenant(request(), compaction(lake), NOW)

    assert result.rows_out == MAX_UNIT_DAYS
    assert compacted_ids(lake) == sorted(f"e{n}" for n in range(MAX_UNIT_DAYS))
    assert len(lake.state.pending("acme")) == 3
    assert compact_tenant(request("run-2"), compaction(lake), NOW).rows_out == 3


def test_given_two_units_compacted_in_one_run_when_combined_then_no_total_is_lost():
    # A retry in the same run that finds late objects compacts a second unit: its result must not replace
    # the first one's totals in the run's report.
    hour = {"tenant": "acme", "year": "2026", "month": "11", "day": "20"}
    first = CompactResult(
        tenant="acme",
        status="ok",
        engine="lambda",
        unit="u1",
        files_in=3,
        rows_in=10,
        rows_out=9,
        duplicates_removed=1,
        files_out=1,
        bytes_in=300,
        bytes_out=90,
        ledger_ids_read=5,
        raw_partitions=[RawPartitionRef(event_type="track", hour="10", **hour)],
        event_types=["track"],
    )
    second = CompactResult(
        tenant="acme",
        status="ok",
        engine="lambda",
        unit="u2",
        files_in=1,
        rows_in=4,
        rows_out=3,
        duplicates_already_compacted=1,
        files_out=1,
        bytes_in=40,
        bytes_out=30,
        ledger_ids_read=9,
        raw_partitions=[
            RawPartitionRef(event_type="track", hour="10", **hour),
            RawPartitionRef(event_type="page_view", hour="11", **hour),
        ],
        event_types=["page_view", "track"],
    )

    both = combined(first, second)

    assert (both.unit, both.files_in, both.rows_in, both.rows_out) == ("u2", 4, 14, 12)
    assert (both.duplicates_removed, both.duplicates_already_compacted, both.ledger_ids_read) == (1, 1, 14)
    assert (both.files_out, both.bytes_in, both.bytes_out) == (2, 340, 120)
    assert [p.event_type for p in both.raw_partitions] == ["track", "page_view"]
    assert both.event_types == ["page_view", "track"]


class FailingOnce(MemoryCounters):
    """The counters table refusing the first recount (throttled past the SDK's retries)."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    def set_hours(self, settings: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise StorageError("1 of 2 recounts failed: ProvisionedThroughputExceededException")
        super().set_hours(settings)


def counted(counters: MemoryCounters, key: str = "k:n", hour: int = 10) -> int:
    label = f"2026-11-20T{hour:02d}"
    return counters.hourly(f"acme#track#{key}", label, label).get(label, 0)


def test_given_a_unit_when_compacted_then_the_hours_it_touched_are_recounted_from_the_ledger():
    counters = MemoryCounters()
    counters.add([CounterIncrement("acme#track#k:n", "day#2026-11-20", {"h10": 5, "h11": 7}, 2_000_000_000)])
    lake = Lake()
    # A resend after a lost answer: "b" delivered twice; the real-time counters counted it twice (5 for 2).
    lake.land(event("a", at(20, 10, 1)), event("b", at(20, 10, 2)))
    lake.land(event("b", at(20, 10, 2)))

    result = compact_tenant(request(), compaction(lake, recount=Recount(counters, CountingLimits())), NOW)

    assert (result.status, result.rows_out) == ("ok", 2)
    assert (counted(counters), counted(counters, "*")) == (2, 2)
    assert counted(counters, hour=11) == 7  # an hour the unit did not touch is left alone


def test_given_a_recount_that_fails_when_retried_then_the_objects_were_kept_and_the_counts_are_set():
    counters = FailingOnce()
    lake = Lake()
    lake.land(event("a", at(20, 10)), event("b", at(20, 10)))
    work = compaction(lake, recount=Recount(counters, CountingLimits()))

    with pytest.raises(StorageError, match="recounts failed"):
        compact_tenant(request(), work, NOW)
    pending = len(lake.state.pending("acme"))
    retried = compact_tenant(request(), work, NOW)

    assert pending == 1  # left pending: the retry compacts (nothing twice) and recounts
    assert retried.status == "ok"
    assert compacted_ids(lake) == ["a", "b"]
    assert counted(counters) == 2
    assert lake.state.pending("acme") == []


def test_given_a_later_run_that_takes_the_failed_unit_again_then_rows_stay_single_and_counts_exact():
    counters = FailingOnce()
    lake = Lake()
    lake.land(event("a", at(20, 10)), event("b", at(20, 10)))

    with pytest.raises(StorageError):
        compact_tenant(request("run-1"), compaction(lake, recount=Recount(counters, CountingLimits())), NOW)
    lake.land(event("c", at(20, 10)))  # the next run's unit holds the failed one's objects and a new one
    compact_tenant(request("run-2"), compaction(lake, recount=Recount(counters, CountingLimits())), NOW)

    assert compacted_ids(lake) == ["a", "b", "c"]
    assert counted(counters) == 3


def test_given_events_of_several_types_when_compacted_then_the_ledger_holds_each_ones_counter_key():
    import io

    lake = Lake()
    lake.land(
        event("t", at(20, 10), name="Signed Up"),
        event("p", at(20, 10), event_type="page_view", url="https://a.example/", session_id="s"),
        event("i", at(20, 10), event_type="identify"),
    )

    compact_tenant(request(), compaction(lake), NOW)

    (body,) = [body for (bucket, key), body in lake.store.objects.items() if key.startswith("ledger/")]
    ledger = pq.read_table(io.BytesIO(body)).to_pydict()
    assert sorted(zip(ledger["event_id"], ledger["counter_key"], strict=True)) == [
        ("i", None),
        ("p", "https://a.example/"),
        ("t", "Signed Up"),
    ]
