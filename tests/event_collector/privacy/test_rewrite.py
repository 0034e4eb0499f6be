"""Objects rewritten as their writers wrote them: kept lines byte for byte, Parquet with its schema and codec;
Parquet files decided on the columns asked for alone."""

from __future__ import annotations

import gzip
import io
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

from event_collector.lake.fan_out import deterministic_gzip
from event_collector.privacy.rewrite import parquet_has, rewrite_lines, rewrite_parquet, scan_lines
from tests.fakes.objects import MemoryObjectStore

LINES = [b'{"n":1,"user_id":"u-1"}\n', b'{"n":2}\r\n', b'{"n":3,"user_id":"u-1"}\n', b'{"n":4}']


def dropping_user(line: bytes) -> list:
    return ["target"] if b'"u-1"' in line else []


def rewritten(body: bytes) -> tuple[bytes, int, dict]:
    found = scan_lines(io.BytesIO(body), dropping_user)
    out = io.BytesIO()
    kept = rewrite_lines(io.BytesIO(body), set(found), out)
    return out.getvalue(), kept, found


def test_given_a_plain_object_when_lines_are_dropped_then_the_others_stay_byte_for_byte_and_plain():
    output, kept, found = rewritten(b"".join(LINES))

    assert sorted(found) == [0, 2]
    assert (output, kept) == (LINES[1] + LINES[3], 2)


def test_given_a_gzip_object_when_rewritten_then_the_output_is_the_deterministic_gzip_the_fan_out_writes():
    output, kept, _ = rewritten(gzip.compress(b"".join(LINES), mtime=123))
    expected = io.BytesIO()
    with deterministic_gzip(expected) as writer:
        writer.write(LINES[1] + LINES[3])

    assert (output, kept) == (expected.getvalue(), 2)
    assert rewritten(gzip.compress(b"".join(LINES)))[0] == output  # the same bytes every time


def test_given_only_dropped_lines_when_rewritten_then_nothing_is_kept():
    _, kept, _ = rewritten(gzip.compress(LINES[0] + LINES[2]))

    assert kept == 0


def parquet_file(path, rows: int = 3000, groups: int = 3) -> None:
    table = pa.table(
        {
            "event_id": [f"e{i}" for i in range(rows)],
            "received_at": pa.array(range(rows), pa.int64()),
            "user_id": ["u-1" if i % 1000 == 7 else (f"u-{i + 2}" if i % 2 else None) for i in range(rows)],
            "properties": [json.dumps({"blob": os.urandom(300).hex(), "i": i}) for i in range(rows)],
        }
    )
    pq.write_table(table, path, compression="snappy", row_group_size=rows // groups)


def test_given_a_parquet_file_when_rows_are_dropped_then_schema_codec_and_row_groups_are_kept(tmp_path):
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    parquet_file(source)

    kept = rewrite_parquet(str(source), str(target), lambda t: pa.compute.equal(t["user_id"], "u-1"))

    before, after = pq.ParquetFile(source), pq.ParquetFile(target)
    assert kept == 2997
    assert after.schema_arrow == before.schema_arrow
    assert after.num_row_groups == before.num_row_groups
    assert after.metadata.row_group(0).column(0).compression == "SNAPPY"
    assert "u-1" not in after.read().column("user_id").to_pylist()
    assert after.read().column("event_id").to_pylist() == [f"e{i}" for i in range(3000) if i % 1000 != 7]


def test_given_every_row_dropped_when_rewritten_then_no_file_is_written(tmp_path):
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    parquet_file(source)

    assert rewrite_parquet(str(source), str(target), lambda t: pa.array([True] * t.num_rows)) == 0
    assert not target.exists()


def test_given_a_parquet_file_when_decided_then_only_the_columns_asked_for_are_read(tmp_path):
    parquet_file(tmp_path / "f.parquet")
    store = MemoryObjectStore()
    body = (tmp_path / "f.parquet").read_bytes()
    store.objects[("lake", "f.parquet")] = body

    found = parquet_has(
        store.open_ranges("lake", "f.parquet", len(body)),
        ["user_id", "absent"],
        lambda t: "u-1" in t["user_id"].to_pylist(),
    )

    assert found
    assert store.bytes_read < len(body) / 4  # the properties column, most of the file, was never read
    assert not parquet_has(io.BytesIO(body), ["absent"], lambda t: True)


def test_given_a_typed_file_of_a_custom_type_when_a_users_rows_are_dropped_then_its_arrow_schema_is_kept(tmp_path):
    # A tenant's own type: structs, lists, timestamps and non-nullable columns (compaction/typed.py).
    from event_collector.compaction.typed import convert, typed_table
    from event_collector.schemas.registry import RegisteredSchema

    line: dict[str, object] = {"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]}
    line["additionalProperties"] = False
    schema = {
        "type": "object",
        "properties": {
            "order_id": {"type": "string"},
            "placed_at": {"type": "string", "format": "date-time"},
            "lines": {"type": "array", "items": line},
        },
        "required": ["order_id"],
    }
    typed = typed_table(RegisteredSchema("acme", "type", "order_completed", 1, schema, registered_at=0))
    stored = pa.Table.from_pylist(
        [
            {
                "event_id": f"e{i}",
                "event_type": "order_completed",
                "received_at": i,
                "timestamp": i,
                "schema_version": "1",
                "user_id": "u-1" if i == 1 else f"u-{i + 2}",
                "order_id": f"o{i}",
                "placed_at": "2026-11-20T10:00:00Z",
                "lines": '[{"sku":"a"}]',
            }
            for i in range(3)
        ]
    )
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(convert(stored, typed), source, compression="snappy")

    kept = rewrite_parquet(str(source), str(target), lambda t: pa.compute.equal(t["user_id"], "u-1"))

    after = pq.ParquetFile(target)
    assert kept == 2
    assert after.schema_arrow.equals(typed.arrow_schema)
    assert after.schema_arrow.field("order_id").nullable is False
    assert after.schema_arrow.field("placed_at").type == pa.timestamp("ms", tz="UTC")
    assert [row["event_id"] for row in after.read().to_pylist()] == ["e0", "e2"]
    assert after.read().to_pylist()[1]["lines"] == [{"sku": "a"}]
