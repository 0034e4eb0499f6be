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
