"""Compact and Refresh with a tenant's own event type beside built-in ones (fakes only): the engine choice, the typed
file, the ledger, built-in types' files as before, and a value that does not fit failing the unit."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from event_collector.compaction import engine
from event_collector.compaction.compact import Compaction, compact_tenant
from event_collector.compaction.contracts import CompactResult, RawPartitionRef
from event_collector.compaction.refresh import refresh
from event_collector.compaction.rows import output_schema
from event_collector.compaction.typed import ConversionError
from event_collector.lake.catalog import compacted_table
from event_collector.schemas.registry import RegisteredSchema
from tests.event_collector.compaction.helpers import LAKE, Lake, at, event
from tests.event_collector.compaction.test_compact import NOW, RecordingEngine, compaction, request
from tests.fakes.catalog import MemoryCatalog

SCHEMA = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "total": {"type": "integer"}},
    "required": ["order_id"],
}


class Schemas:
    def __init__(self, *registered: RegisteredSchema) -> None:
        self.found = {schema.name: schema for schema in registered}
        self.reads: list[str] = []

    def type_schema(self, event_type: str) -> RegisteredSchema | None:
        self.reads.append(event_type)
        return self.found.get(event_type)


ORDERS = Schemas(RegisteredSchema("acme", "type", "order_completed", 1, SCHEMA, registered_at=0))


def order(event_id: str, **fields: Any) -> dict[str, Any]:
    return event(event_id, at(20, 10), event_type="order_completed", schema_version="1", order_id=event_id, **fields)


def files(lake: Lake, prefix: str) -> list[pa.Table]:
    return [
        pq.read_table(io.BytesIO(body))
        for (bucket, key), body in sorted(lake.store.objects.items())
        if bucket == LAKE and key.startswith(prefix)
    ]


def test_given_a_custom_and_a_built_in_type_when_compacted_then_each_gets_its_columns_and_the_ledger_both():
    lake = Lake()
    lake.land(order("o1", total="12"), event("t1", at(20, 10), name="Signed Up"), order("o1", total="12"))
    catalog = MemoryCatalog()
    schemas = Schemas(*ORDERS.found.values())

    setup = Compaction(lake_bucket=LAKE, store=lake.store, state=lake.state, catalog=catalog, schemas=schemas)

    result = compact_tenant(request(), setup, NOW)

    assert (result.status, result.rows_out, result.duplicates_removed) == ("ok", 2, 1)
    assert result.event_types == ["order_completed", "track"]
    assert schemas.reads == ["order_completed"]  # once per invocation
    (typed,) = files(lake, "compacted/order_completed/")
    assert typed.to_pylist()[0]["total"] == 12
    assert typed.schema.field("total").type == pa.int64()
    (track,) = files(lake, "compacted/track/")
    assert track.schema.equals(output_schema(["name", "properties"]))  # built-in: text columns, as before
    (ledger,) = files(lake, "ledger/")
    assert sorted(zip(ledger["event_id"].to_pylist(), ledger["counter_key"].to_pylist(), strict=True)) == [
        ("o1", None),
        ("t1", "Signed Up"),
    ]
    assert dict(catalog.tables["order_completed"])["total"] == "bigint"
    assert dict(catalog.tables["order_completed"])["schema_version"] == "bigint"


def test_given_a_unit_over_the_threshold_of_custom_types_only_when_compacted_then_the_lambda_engine_takes_it():
    lake = Lake()
    lake.land(order("o1"), order("o2"))
    athena = RecordingEngine()

    result = compact_tenant(request(), compaction(lake, large_unit_bytes=1, large_units=athena, schemas=ORDERS), NOW)

    assert athena.units == []  # only the Lambda engine types a tenant's own types
    assert (result.engine, result.rows_out) == ("lambda", 2)


def test_given_a_value_its_column_cannot_hold_when_compacted_then_the_unit_fails_and_stays_pending():
    lake = Lake()
    lake.land(order("o1", total="twelve"))

    with pytest.raises(ConversionError, match="'order_completed', field 'total', event 'o1'"):
        compact_tenant(request(), compaction(lake, schemas=ORDERS), NOW)

    assert files(lake, "compacted/") == []
    assert len(lake.state.pending("acme")) == 1
    assert lake.state.leases == {}


def test_given_no_schema_lookup_when_a_custom_type_is_pending_then_the_unit_fails_before_writing():
    lake = Lake()
    lake.land(order("o1"))

    with pytest.raises(ConversionError, match="neither built in nor registered"):
        compact_tenant(request(), compaction(lake), NOW)

    assert files(lake, "compacted/") == []
    assert len(lake.state.pending("acme")) == 1


def test_given_a_run_that_compacted_a_custom_type_when_refreshed_then_both_its_tables_follow_its_schema():
    catalog, schemas = MemoryCatalog(), Schemas(*ORDERS.found.values())
    hour = RawPartitionRef(event_type="order_completed", tenant="acme", year="2026", month="11", day="20", hour="10")
    compacted = CompactResult(tenant="acme", status="ok", raw_partitions=[hour], event_types=["order_completed"])

    outcome = refresh([compacted, CompactResult(tenant="globex", status="failed")], catalog, LAKE, schemas)

    assert schemas.reads == ["order_completed"]
    assert dict(catalog.tables["order_completed"])["total"] == "bigint"
    assert dict(catalog.tables["order_completed_raw"])["total"] == "string"  # the raw JSON holds text
    assert dict(catalog.tables["order_completed_raw"])["schema_version"] == "string"
    assert catalog.partition_values("order_completed_raw") == [["acme", "2026", "11", "20", "10"]]
    assert outcome["raw_partitions_registered"] == 1
    assert "track" in catalog.tables  # built-in tables as before


def test_given_a_custom_type_without_a_schema_when_refreshed_then_refresh_fails_loudly():
    hour = RawPartitionRef(event_type="mystery", tenant="acme", year="2026", month="11", day="20", hour="10")

    with pytest.raises(ConversionError, match="'mystery' is neither built in nor registered"):
        refresh([CompactResult(tenant="acme", status="ok", raw_partitions=[hour])], MemoryCatalog(), LAKE, Schemas())


def test_given_more_rows_than_a_row_group_when_typed_then_they_are_converted_a_row_group_at_a_time(monkeypatch):
    monkeypatch.setattr(engine, "ROW_GROUP_ROWS", 2)
    lake = Lake()
    lake.land(*(order(f"o{i}", total=str(i)) for i in range(5)))

    compact_tenant(request(), compaction(lake, schemas=ORDERS), NOW)

    (typed,) = files(lake, "compacted/order_completed/")
    assert sorted(typed["total"].to_pylist()) == [0, 1, 2, 3, 4]
    assert pq.ParquetFile(io.BytesIO(typed_bytes(lake))).num_row_groups == 3


def typed_bytes(lake: Lake) -> bytes:
    (body,) = [body for (_, key), body in lake.store.objects.items() if key.startswith("compacted/order_completed/")]
    return body


def test_given_a_compacted_table_of_an_older_version_when_refreshed_then_refresh_leaves_its_evolution_to_compact():
    catalog = MemoryCatalog()
    older = compacted_table("order_completed", LAKE, typed_columns=(("order_id", "string"), ("extra", "string")))
    catalog.ensure_table(older)
    hour = RawPartitionRef(event_type="order_completed", tenant="acme", year="2026", month="11", day="20", hour="10")

    refresh([CompactResult(tenant="acme", status="ok", raw_partitions=[hour])], catalog, LAKE, ORDERS)

    assert catalog.tables["order_completed"] == list(older.columns)
    assert "total" in dict(catalog.tables["order_completed_raw"])


def test_given_a_unit_over_the_threshold_with_one_custom_event_when_compacted_then_built_in_rows_still_go_to_athena():
    lake = Lake()
    lake.land(order("o1"), *(event(f"t{index}", at(20, 10)) for index in range(50)))
    athena = RecordingEngine()

    result = compact_tenant(request(), compaction(lake, large_unit_bytes=1, large_units=athena, schemas=ORDERS), NOW)

    assert athena.units == [("acme", 1)]  # the built-in type's object: the large-unit engine, as without o1
    (typed,) = files(lake, "compacted/order_completed/")  # the tenant's own type: the Lambda engine, typed
    assert typed.to_pylist()[0]["order_id"] == "o1"
    assert (result.status, result.files_in, result.event_types) == ("ok", 2, ["order_completed"])
    assert lake.state.pending("acme") == []
