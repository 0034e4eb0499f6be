"""The Lambda engine: chunks of whole lines, exact parsing, buckets, first copies, the ledger, outputs."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator, Sequence

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from event_collector.compaction import engine
from event_collector.compaction.engine import compact_streams, first_copies, lines_in_chunks
from event_collector.compaction.rows import SEQUENCE, read_chunk
from event_collector.lake.layout import Day
from tests.event_collector.compaction.helpers import at, event


def gz(*records: dict, newline_at_end: bool = True) -> bytes:
    text = b"\n".join(json.dumps(record).encode() for record in records) + (b"\n" if newline_at_end else b"")
    return gzip.compress(text)


def test_given_multi_member_gzip_and_a_missing_last_newline_when_chunked_then_every_line_is_whole():
    first = gzip.compress(b'{"a":1}\n{"a":2}\n') + gzip.compress(b'{"a":3}\n')  # two members, one object
    second = gz({"a": 4}, {"a": 5}, newline_at_end=False)

    chunks = list(lines_in_chunks([io.BytesIO(first), io.BytesIO(second)], chunk_bytes=10))

    assert all(chunk.endswith(b"\n") for chunk in chunks)
    assert [json.loads(line)["a"] for chunk in chunks for line in chunk.splitlines()] == [1, 2, 3, 4, 5]


def test_given_lines_stored_as_text_when_read_then_the_fast_path_keeps_every_column_text():
    data = b"".join(
        json.dumps(record).encode() + b"\n"
        for record in (
            event("a", at(20, 10), properties='{"x":0.1}'),
            {**event("b", at(20, 11)), "timestamp": None, "extra": None},
        )
    )

    table = read_chunk(data)

    assert "tenant" not in table.column_names
    assert table.column("properties").to_pylist() == ['{"x":0.1}', "{}"]
    assert table.column("timestamp").to_pylist() == [at(20, 10), at(20, 11)]  # a null timestamp is received_at
    assert table.schema.field("extra").type == pa.string()


def test_given_a_legacy_line_with_nested_values_when_read_then_the_exact_parser_keeps_every_digit():
    line = b'{"event_id":"a","event_type":"track","tenant":"t","received_at":1,"timestamp":1,"name":"n",' + (
        b'"properties":{"b":0.30000000000000004,"a":[1,1e-320],"big":9223372036854775807}}\n'
    )

    table = read_chunk(line)

    assert table.column("properties").to_pylist() == [
        '{"a":[1,1e-320],"b":0.30000000000000004,"big":9223372036854775807}'
    ]


def test_given_copies_of_an_id_when_deduplicated_then_the_earliest_then_the_first_read_wins():
    table = pa.table(
        {
            "event_id": ["a", "a", "b", "a", "b"],
            "received_at": [5, 3, 7, 3, 7],
            SEQUENCE: [0, 1, 2, 3, 4],
            "name": ["late", "first", "b1", "second", "b2"],
        }
    )

    kept = first_copies(table)

    assert sorted(kept.column("name").to_pylist()) == ["b1", "first"]


def run(objects: list[bytes], ledger: Sequence[str] = (), tmp_path=None, input_bytes: int = 100):
    tmp_path.mkdir(parents=True, exist_ok=True)
    ledger_tables = [pa.table({"event_id": pa.array(list(ledger), pa.string())})] if ledger else []
    return compact_streams(
        (io.BytesIO(body) for body in objects), ledger_tables, input_bytes=input_bytes, work_dir=str(tmp_path)
    )


def read(path: str) -> list[dict]:
    return pq.read_table(path).to_pylist()


def test_given_types_days_duplicates_and_a_ledger_when_compacted_then_one_row_per_new_id_per_type_and_day(tmp_path):
    objects = [
        gz(event("t1", at(20, 10)), event("dup", at(20, 11)), event("old", at(20, 12))),
        gz(
            event("p1", at(21, 9), "page_view", url="/a", session_id="s"),
            event("dup", at(20, 10), "page_view", url="/b", session_id="s"),
        ),
    ]

    outputs, stats = run(objects, ledger=["old"], tmp_path=tmp_path)

    assert (stats.rows_in, stats.rows_out) == (5, 3)
    assert (stats.duplicates_removed, stats.duplicates_already_compacted) == (1, 1)
    assert sorted(outputs.data) == [
        ("page_view", Day("2026", "11", "20")),
        ("page_view", Day("2026", "11", "21")),
        ("track", Day("2026", "11", "20")),
    ]
    (dup,) = read(outputs.data[("page_view", Day("2026", "11", "20"))][0])
    assert (dup["event_id"], dup["url"]) == ("dup", "/b")  # the earlier copy, though of another type
    ledger_ids = {row["event_id"] for day in outputs.ledger.values() for row in read(day)}
    assert ledger_ids == {"t1", "p1", "dup"}
    assert list(pq.read_schema(outputs.data[("track", Day("2026", "11", "20"))][0]).names) == [
        "event_id",
        "event_type",
        "received_at",
        "timestamp",
        "name",
        "properties",
    ]


def test_given_many_buckets_and_a_column_that_appears_late_when_compacted_then_rows_match_one_bucket(
    tmp_path, monkeypatch
):
    events = [event(f"e{n}", at(20, 10, 0, n % 60)) for n in range(300)]
    events += [event(f"e{n}", at(20, 11), note="repeat") for n in range(0, 300, 7)]  # late copies, new column
    objects = [gz(*events[:150]), gz(*events[150:])]
    single, _ = run(objects, tmp_path=tmp_path / "one")
    monkeypatch.setattr(engine, "BUCKET_BYTES", 1)
    monkeypatch.setattr(engine, "CHUNK_BYTES", 4096)

    many, stats = run(objects, tmp_path=tmp_path / "many", input_bytes=10_000)

    key = ("track", Day("2026", "11", "20"))
    rows_single = sorted(read(single.data[key][0]), key=lambda r: r["event_id"])
    rows_many = sorted(read(many.data[key][0]), key=lambda r: r["event_id"])
    assert rows_many == rows_single
    assert len(rows_many) == 300
    assert stats.duplicates_removed == len(range(0, 300, 7))
    assert all(row["note"] is None for row in rows_many)  # the first copies never had it
    assert "note" in pq.read_schema(many.data[key][0]).names


@pytest.mark.parametrize(
    ("input_bytes", "expected"),
    [
        (0, 1),
        (engine.BUCKET_BYTES // engine.EXPANSION, 1),
        (engine.BUCKET_BYTES // engine.EXPANSION + 1, 2),
        (10**12, engine.MAX_BUCKETS),
    ],
)
def test_given_an_input_size_when_bucketed_then_buckets_follow_it_within_bounds(input_bytes, expected):
    assert engine.bucket_count(input_bytes) == expected


def test_given_a_ledger_in_many_tables_when_compacted_with_one_or_many_buckets_then_the_same_ids_are_dropped(
    tmp_path, monkeypatch
):
    events = [event(f"e{n}", at(20, 10, n % 60)) for n in range(400)]
    ledger = [
        pa.table({"event_id": pa.array([f"e{n}" for n in range(start, start + 50)] + ["x"] * 10)})
        for start in range(0, 1000, 100)
    ]
    objects = [gz(*events[:200]), gz(*events[200:])]

    one, one_stats = compact_streams(
        (io.BytesIO(b) for b in objects), iter(ledger), input_bytes=100, work_dir=str(tmp_path)
    )
    monkeypatch.setattr(engine, "BUCKET_BYTES", 1)
    (tmp_path / "many").mkdir()
    many, many_stats = compact_streams(
        (io.BytesIO(b) for b in objects), iter(ledger), input_bytes=10_000, work_dir=str(tmp_path / "many")
    )

    dropped = {f"e{n}" for start in range(0, 400, 100) for n in range(start, start + 50)}
    key = ("track", Day("2026", "11", "20"))
    for outputs, stats in ((one, one_stats), (many, many_stats)):
        assert {row["event_id"] for row in read(outputs.data[key][0])} == {f"e{n}" for n in range(400)} - dropped
        assert (stats.duplicates_already_compacted, stats.ledger_ids_read) == (len(dropped), 600)


def test_given_no_rows_when_compacted_then_the_ledger_is_not_even_read(tmp_path):
    def ledger() -> Iterator[pa.Table]:
        pytest.fail("the ledger was read for an empty input")
        yield pa.table({"event_id": pa.array([], pa.string())})

    outputs, stats = compact_streams([], ledger(), input_bytes=0, work_dir=str(tmp_path))

    assert (stats.rows_in, stats.ledger_ids_read, outputs.data) == (0, 0, {})


def test_given_chunks_of_many_shapes_and_many_buckets_when_spilled_then_open_files_stay_one_per_bucket(
    tmp_path, monkeypatch
):
    import os
    import random

    rng = random.Random(7)  # noqa: S311 - test data
    optional = ["a", "b", "c", "d", "e"]
    chunks = []
    for number in range(50):  # each object its own chunk: columns differ in set and order
        fields = dict.fromkeys(rng.sample(optional, rng.randrange(len(optional))), "v")
        rows = [event(f"c{number}-{i}", at(20, 10), **fields) for i in range(40)]
        chunks.append(
            gzip.compress(
                b"".join(json.dumps(dict(rng.sample(sorted(r.items()), len(r)))).encode() + b"\n" for r in rows)
            )
        )
    monkeypatch.setattr(engine, "BUCKET_BYTES", 1)
    monkeypatch.setattr(engine, "CHUNK_BYTES", 1)
    buckets = 64
    baseline = len(os.listdir("/proc/self/fd"))
    peak = [0]

    def count_open() -> None:
        peak[0] = max(peak[0], len(os.listdir("/proc/self/fd")) - baseline)

    _, stats = compact_streams(
        (io.BytesIO(c) for c in chunks),
        [],
        input_bytes=buckets // engine.EXPANSION,
        work_dir=str(tmp_path),
        on_chunk=count_open,
    )

    assert engine.bucket_count(buckets // engine.EXPANSION) == buckets
    assert stats.rows_out == 50 * 40
    assert 0 < peak[0] <= buckets + 4  # one spill file per bucket (a few for the input streams)
