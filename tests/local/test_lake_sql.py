"""The pieces of ``make query SQL=...`` that need no stack: which files a Glue table reads, Glue types as
DuckDB's, a view over Parquet files with text partition columns, and DuckDB's errors in one line."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from local.lake_sql import define_athena_functions, duckdb_type, one_line, table_files, view_sql

PARTITIONS = ["tenant", "year", "month", "day"]


def glue_table(name: str, columns: list[tuple[str, str]], data_format: str = "parquet") -> dict[str, object]:
    return {
        "Name": name,
        "Parameters": {"classification": data_format},
        "StorageDescriptor": {
            "Location": f"s3://lake/compacted/{name}/",
            "Columns": [{"Name": column, "Type": kind} for column, kind in columns],
        },
        "PartitionKeys": [{"Name": key, "Type": "string"} for key in PARTITIONS],
    }


def test_given_a_tables_objects_when_selected_then_only_visible_files_in_its_partition_directories_are_read():
    prefix = "compacted/page_view/"
    keys = [
        f"{prefix}tenant=demo/year=2026/month=12/day=08/abc-0.parquet",
        f"{prefix}tenant=demo/year=2026/month=12/day=08/20261208_query_uuid",  # Athena's INSERT INTO
        f"{prefix}tenant=demo/year=2026/month=12/day=08/_SUCCESS",
        f"{prefix}tenant=demo/year=2026/month=12/day=08/.tmp-abc",
        f"{prefix}tenant=demo/year=2026/month=12/abc-0.parquet",
        f"{prefix}year=2026/tenant=demo/month=12/day=08/abc-0.parquet",
        "compacted/page_view_two/tenant=demo/year=2026/month=12/day=08/abc-0.parquet",
    ]

    assert table_files(keys, prefix, PARTITIONS) == keys[:2]


@pytest.mark.parametrize(
    ("glue", "duck"),
    [
        ("string", "VARCHAR"),
        ("bigint", "BIGINT"),
        ("timestamp", "TIMESTAMP"),
        ("array<struct<city:string,zip:bigint>>", 'STRUCT("city" VARCHAR, "zip" BIGINT)[]'),
    ],
)
def test_given_a_glue_type_when_translated_then_duckdb_reads_the_same_shape(glue, duck):
    assert duckdb_type(glue) == duck


def test_given_parquet_files_of_two_versions_when_viewed_then_columns_follow_glue_and_partitions_are_text(
    tmp_path: Path,
):
    older = tmp_path / "tenant=demo/year=2026/month=11/day=20/a-0.parquet"
    newer = tmp_path / "tenant=demo-two/year=2026/month=12/day=08/b-0.parquet"
    for path in (older, newer):
        path.parent.mkdir(parents=True)
    pq.write_table(pa.table({"event_id": ["e1"], "total": [5]}), older)
    pq.write_table(pa.table({"event_id": ["e2"], "total": [7], "coupon": ["X"]}), newer)
    columns = [("event_id", "string"), ("total", "bigint"), ("coupon", "string"), ("note", "string")]
    con = duckdb.connect()

    con.execute(view_sql(con, glue_table("orders", columns), [older, newer]) or "")

    rows = con.sql("select * from orders order by event_id").fetchall()
    assert con.sql("select * from orders").columns == ["event_id", "total", "coupon", "note", *PARTITIONS]
    assert rows == [
        ("e1", 5, None, None, "demo", "2026", "11", "20"),
        ("e2", 7, "X", None, "demo-two", "2026", "12", "08"),
    ]


def test_given_a_table_without_files_when_viewed_then_it_exists_with_its_columns_and_no_rows():
    con = duckdb.connect()

    con.execute(view_sql(con, glue_table("empty", [("event_id", "string"), ("total", "bigint")]), []) or "")

    assert con.sql("select * from empty").columns == ["event_id", "total", *PARTITIONS]
    assert con.sql("select count(*) from empty").fetchall() == [(0,)]


def test_given_a_parser_error_when_shown_then_it_is_one_line_without_the_source_excerpt():
    with pytest.raises(duckdb.Error) as raised:
        duckdb.connect().sql("selec 1")

    assert one_line(raised.value) == 'Parser Error: syntax error at or near "selec"'


@pytest.fixture
def athena_spelling() -> duckdb.DuckDBPyConnection:
    """A connection as ``make query`` makes it: UTC, Athena's functions defined."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    define_athena_functions(con)
    return con


@pytest.mark.parametrize(
    ("json_text", "path", "athena"),
    [
        ('{"plan":"pro","seats":3}', "$.plan", "pro"),
        ('{"plan":"pro","seats":3}', "$.seats", "3"),
        ('{"price":9.5,"trial":true}', "$.price", "9.5"),
        ('{"price":9.5,"trial":true}', "$.trial", "true"),
        ('{"invitee":{"role":"admin"}}', "$.invitee.role", "admin"),
        ('{"invitee":{"role":"admin"}}', "$.invitee", None),  # an object is not a scalar: NULL, as Trino
        ('{"tags":["a","b"]}', "$.tags", None),  # nor is an array
        ('{"tags":["a","b"]}', "$.tags[1]", "b"),
        ('{"plan":null}', "$.plan", None),
        ('{"plan":"pro"}', "$.missing", None),
        ('{"name":"K\\u00f6ln \\"Mitte\\""}', "$.name", 'Köln "Mitte"'),
    ],
)
def test_given_json_text_when_read_with_athenas_json_extract_scalar_then_the_scalar_is_text_as_in_athena(
    athena_spelling, json_text, path, athena
):
    assert athena_spelling.execute("select json_extract_scalar(?, ?)", [json_text, path]).fetchone() == (athena,)


def test_given_epoch_milliseconds_when_read_with_from_unixtime_and_date_format_then_utc_as_in_athena(
    athena_spelling,
):
    received_at = 1_795_168_859_999  # 2026-11-20T10:00:59.999Z

    hour, day, week = athena_spelling.execute(
        "select date_format(from_unixtime(? / 1000), '%Y-%m-%d %H:00'), cast(from_unixtime(? / 1000) as date), "
        "cast(date_trunc('week', from_unixtime(? / 1000)) as date)",
        [received_at] * 3,
    ).fetchone()

    assert (hour, str(day), str(week)) == ("2026-11-20 10:00", "2026-11-20", "2026-11-16")  # weeks start on Monday


def test_given_two_times_when_date_diff_is_asked_then_whole_units_between_them_count_as_in_athena(athena_spelling):
    late_evening, early_morning = 1_795_129_200_000, 1_795_136_400_000  # 2026-11-19T23:00Z, 2026-11-20T01:00Z

    days, hours = athena_spelling.execute(
        "select date_diff('day', from_unixtime(? / 1000), from_unixtime(? / 1000)), "
        "date_diff('hour', from_unixtime(? / 1000), from_unixtime(? / 1000))",
        [late_evening, early_morning] * 2,
    ).fetchone()

    assert (days, hours) == (0, 2)  # not 1 day: no whole day between them, though midnight is crossed
