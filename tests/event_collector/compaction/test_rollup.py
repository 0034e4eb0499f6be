"""The daily_counts rollup: recomputed whole for the days a Compact touched, from every compacted file (fakes)."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest

from event_collector.compaction.compact import compact_tenant
from event_collector.compaction.rollup import Rollups, roll_up_days
from event_collector.counts.rollups import TOP_KEYS, DayRollup, KeyCount
from event_collector.errors import StorageError
from event_collector.lake.layout import Day, daily_counts_object_key
from tests.event_collector.compaction.helpers import LAKE, Lake, at, event
from tests.event_collector.compaction.test_compact import NOW, compaction, request
from tests.fakes.catalog import MemoryCatalog
from tests.fakes.counters import MemoryCounters

DAY_20, DAY_21 = Day("2026", "11", "20"), Day("2026", "11", "21")


def view(event_id: str, day: int, hour: int, url: str | None, session: str | None, user: str | None = None) -> dict:
    return event(event_id, at(day, hour), event_type="page_view", url=url, session_id=session, anonymous_id=user)


def rollup_rows(lake: Lake, day: Day, tenant: str = "acme") -> list[tuple]:
    body = lake.store.objects[(LAKE, daily_counts_object_key(tenant, day))]
    table = pq.read_table(io.BytesIO(body))
    assert table.schema.names == ["event_type", "key", "events", "sessions", "users"]
    return [tuple(row.values()) for row in table.to_pylist()]


def wired(lake: Lake, items: MemoryCounters | None = None, catalog: MemoryCatalog | None = None):
    catalog = catalog or MemoryCatalog()
    items = items or MemoryCounters()
    rollups = Rollups(lake.store, LAKE, catalog, items)
    return compaction(lake, rollups=rollups), items, catalog


def test_given_views_with_a_resent_event_when_compacted_then_each_url_has_its_exact_events_sessions_and_users():
    lake = Lake()
    lake.land(
        view("a", 20, 10, "/home", "s1", "u1"),
        view("b", 20, 10, "/home", "s2", "u1"),
        view("c", 20, 11, "/home", "s2", "u2"),
        view("d", 20, 11, "/pricing", "s1", None),
        view("e", 20, 12, None, "s3", "u3"),  # no url: a row with a NULL key
    )
    lake.land(view("a", 20, 10, "/home", "s1", "u1"))  # the same event resent: counted once
    setup, items, catalog = wired(lake)

    compact_tenant(request(), setup, NOW)

    assert rollup_rows(lake, DAY_20) == [
        ("page_view", "/home", 3, 2, 2),
        ("page_view", "/pricing", 1, 1, 0),
        ("page_view", None, 1, 1, 1),
    ]
    assert items.rollups("acme", "page_view", "2026-11-20", "2026-11-20") == [
        DayRollup(
            "acme",
            "page_view",
            "2026-11-20",
            events=5,
            sessions=3,
            users=3,
            keys=2,
            top=(KeyCount("/home", 3, 2, 2), KeyCount("/pricing", 1, 1, 0)),
        )
    ]
    assert catalog.partitions["daily_counts"] == {("acme", "2026-11-20")}
    assert dict(catalog.tables["daily_counts"])["events"] == "bigint"


def test_given_a_late_event_in_a_later_run_when_compacted_then_its_day_is_recomputed_from_both_runs_files():
    lake = Lake()
    lake.land(view("a", 20, 10, "/home", "s1"), view("b", 21, 9, "/home", "s1"))
    setup, items, _ = wired(lake)
    compact_tenant(request("run-1"), setup, NOW)

    lake.land(view("late", 20, 23, "/home", "s9"), view("a", 20, 10, "/home", "s1"))  # late, and a resend
    compact_tenant(request("run-2"), setup, NOW)

    assert rollup_rows(lake, DAY_20) == [("page_view", "/home", 2, 2, 0)]
    assert rollup_rows(lake, DAY_21) == [("page_view", "/home", 1, 1, 0)]
    assert [r.events for r in items.rollups("acme", "page_view", "2026-11-01", "2026-11-30")] == [2, 1]


def test_given_several_types_when_rolled_up_then_each_type_has_its_own_rows_and_keyless_types_one_null_row():
    lake = Lake()
    lake.land(
        event("t1", at(20, 10), name="Signed Up", user_id="u1"),
        event("t2", at(20, 10), name="Signed Up", user_id="u2"),
        event("i1", at(20, 10), event_type="identify", user_id="u1", traits="{}"),
        event("c1", at(20, 10), event_type="button_click", button_id="buy", session_id="s1"),
    )
    setup, items, _ = wired(lake)

    compact_tenant(request(), setup, NOW)

    assert rollup_rows(lake, DAY_20) == [
        ("button_click", "buy", 1, 1, 0),
        ("identify", None, 1, 0, 1),
        ("track", "Signed Up", 2, 0, 2),
    ]
    identify = items.rollups("acme", "identify", "2026-11-20", "2026-11-20")
    assert [(r.events, r.keys, r.top) for r in identify] == [(1, 0, ())]


def test_given_more_keys_than_the_items_keep_when_rolled_up_then_the_file_has_all_and_the_item_the_top_ones():
    lake = Lake()
    views = [view(f"v{n}-{i}", 20, 10, f"/p{n:03}", "s") for n in range(TOP_KEYS + 5) for i in range(1 + n % 3)]
    lake.land(*views)
    setup, items, _ = wired(lake)

    compact_tenant(request(), setup, NOW)

    assert len(rollup_rows(lake, DAY_20)) == TOP_KEYS + 5
    (item,) = items.rollups("acme", "page_view", "2026-11-20", "2026-11-20")
    assert (item.events, item.keys, len(item.top)) == (len(views), TOP_KEYS + 5, TOP_KEYS)
    assert [entry.events for entry in item.top] == sorted((entry.events for entry in item.top), reverse=True)
    assert item.top[0] == KeyCount("/p002", 3, 1, 0)  # most events, then the smallest key


def test_given_a_type_whose_events_all_went_when_the_day_is_recomputed_then_its_rows_and_item_go():
    lake = Lake()
    lake.land(view("a", 20, 10, "/home", "s1"), event("t", at(20, 10), name="x"))
    setup, items, catalog = wired(lake)
    compact_tenant(request(), setup, NOW)
    for bucket, key in list(lake.store.objects):  # as a deletion that removed every track event would leave it
        if key.startswith(("compacted/track/", "ledger/")):
            del lake.store.objects[(bucket, key)]
    lake.store.objects.update({(LAKE, k): v for k, v in _ledger_without_track(lake).items()})

    roll_up_days(Rollups(lake.store, LAKE, catalog, items), "acme", [DAY_20])

    assert items.rollups("acme", "track", "2026-11-20", "2026-11-20") == []
    assert rollup_rows(lake, DAY_20) == [("page_view", "/home", 1, 1, 0)]


def _ledger_without_track(lake: Lake) -> dict[str, bytes]:
    """A ledger file holding the page view only (what a deletion's ledger rewrite leaves)."""
    import pyarrow as pa

    table = pa.table({"event_id": ["a"], "event_type": ["page_view"], "received_at": [at(20, 10)]})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return {"ledger/tenant=acme/year=2026/month=11/day=20/0123456789abcdef.parquet": sink.getvalue()}


class FailingItems(MemoryCounters):
    def __init__(self) -> None:
        super().__init__()
        self.fail = True

    def put_rollups(self, rollups):
        if self.fail:
            raise StorageError("writing rollups failed: ProvisionedThroughputExceededException")
        super().put_rollups(rollups)


def test_given_the_rollup_fails_when_compacting_then_the_objects_stay_pending_and_a_retry_writes_it():
    lake = Lake()
    lake.land(view("a", 20, 10, "/home", "s1"))
    items = FailingItems()
    setup, _, _ = wired(lake, items)

    with pytest.raises(StorageError, match="rollups"):
        compact_tenant(request(), setup, NOW)
    assert len(lake.state.pending("acme")) == 1

    items.fail = False
    result = compact_tenant(request(), setup, NOW)  # the Map's retry, in the same run

    assert (result.status, result.rows_out) == ("ok", 1)
    assert lake.state.pending("acme") == []
    assert [r.events for r in items.rollups("acme", "page_view", "2026-11-20", "2026-11-20")] == [1]
