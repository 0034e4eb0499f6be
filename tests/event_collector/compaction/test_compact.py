"""Compact one tenant: the lease, the commit protocol, the dedup window, the engine choice (fakes only)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest

from event_collector.compaction.compact import Compaction, compact_tenant
from event_collector.compaction.contracts import CompactRequest, CompactResult
from event_collector.errors import StorageError
from event_collector.lake.layout import run_item_key
from event_collector.lake.queue import Inflight
from tests.event_collector.compaction.helpers import LAKE, Lake, at, event
from tests.fakes.catalog import MemoryCatalog

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

    def compact(self, tenant, unit, objects):
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
