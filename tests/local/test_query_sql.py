"""``make query SQL=...`` runs SQL over the local stack's lake with the tables Athena has: the Glue names,
columns and partition columns (text), a tenant's own types typed; CSV with a header or JSON lines; a
refused statement is one line on stderr and exit status 2. One stack, one compaction for the module."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from typing import Any

import pytest

from event_collector.aws.schemas_table import SchemasTable
from event_collector.schemas.registry import RegisteredSchema
from tests.local.conftest import RunningStack
from tools.template import ROOT

ORDER_SCHEMA = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "total": {"type": "integer"},
        "placed_at": {"type": "string", "format": "date-time"},
        "shipping": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
    "required": ["order_id", "total"],
    "additionalProperties": False,
}
RECEIVED_AT = 1_795_168_800_000  # 2026-11-20T10:00:00Z


def make_query(stack: RunningStack, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "LOCAL_STATE_DIR": str(stack.stack_file.parent)}
    command = [sys.executable, "-m", "local.query", *arguments]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


def register_and_store_orders(stack: RunningStack, tenant: str) -> None:
    """A tenant's own type, its raw lines put where the fan-out finds them (as Firehose delivers them)."""
    dynamodb = stack.aws("dynamodb")
    (table_name,) = [name for name in dynamodb.list_tables()["TableNames"] if "Schemas" in name]
    SchemasTable(dynamodb, table_name).put_version(
        RegisteredSchema(tenant, "type", "sql_order", 1, ORDER_SCHEMA, registered_at=RECEIVED_AT)
    )
    lines = [
        {
            "event_id": f"so-{i}",
            "event_type": "sql_order",
            "tenant": tenant,
            "received_at": RECEIVED_AT + i,
            "timestamp": RECEIVED_AT + i,
            "schema_version": "1",
            "order_id": f"A-{i}",
            "total": str(1000 * (i + 1)),
            "placed_at": "2026-11-20T11:00:00.250+01:00",
            "shipping": json.dumps({"city": "Köln"}, ensure_ascii=False, separators=(",", ":")),
        }
        for i in range(2)
    ]
    body = gzip.compress(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    stack.aws("s3").put_object(Bucket=stack.info["raw_bucket"], Key="raw/2026/11/20/10/sql-order-1", Body=body)


@pytest.fixture(scope="module")
def lake(local_stack: RunningStack) -> RunningStack:
    """Two page views of ``demo`` (one sent twice), one of ``demo-two``, two orders of ``demo``; compacted."""
    (demo, demo_key), (two, two_key) = local_stack.demo_auth(0), local_stack.demo_auth(1)
    views = [
        {"event_type": "page_view", "url": f"/sql/{i}", "session_id": "s", "event_id": f"sql-pv-{i}"} for i in range(2)
    ]
    for _ in range(2):
        assert local_stack.request("POST", "/v1/events", body={"events": views}, auth=(demo, demo_key)).status == 200
    other = [{"event_type": "page_view", "url": "/sql/two", "session_id": "s", "event_id": "sql-pv-two"}]
    assert local_stack.request("POST", "/v1/events", body={"events": other}, auth=(two, two_key)).status == 200
    register_and_store_orders(local_stack, demo)
    local_stack.drain()
    run = local_stack.request("POST", "/__local/compact", body={}).json()
    assert run["status"] == "SUCCEEDED", run
    return local_stack


def test_given_a_compacted_lake_when_queried_with_sql_then_csv_with_a_header_counts_each_tenant_once(lake):
    result = make_query(lake, "--sql", "select tenant, count(*) as events from page_view group by 1 order by 1")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "tenant,events\ndemo,2\ndemo-two,1\n"


def test_given_format_json_when_queried_then_each_row_is_one_json_line(lake):
    result = make_query(
        lake, "--format", "json", "--sql", "select event_id, url from page_view where tenant = 'demo' order by 1"
    )

    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"event_id": "sql-pv-0", "url": "/sql/0"},
        {"event_id": "sql-pv-1", "url": "/sql/1"},
    ]


def test_given_a_compacted_table_when_described_then_it_has_glue_columns_and_text_partition_columns(lake):
    glue = lake.aws("glue").get_table(DatabaseName=lake.info["glue_database"], Name="page_view")["Table"]
    result = make_query(lake, "--format", "json", "--sql", "describe page_view")

    described = [json.loads(line) for line in result.stdout.splitlines()]
    expected = [column["Name"] for column in glue["StorageDescriptor"]["Columns"]] + ["tenant", "year", "month", "day"]
    assert [row["column_name"] for row in described] == expected
    assert [row["column_type"] for row in described[-4:]] == ["VARCHAR"] * 4


def test_given_partition_columns_when_filtered_then_they_prune_by_tenant_and_day_as_in_athena(lake):
    result = make_query(
        lake,
        "--sql",
        "select tenant, year, month, day, count(*) as orders, sum(total) as revenue from sql_order "
        "where tenant = 'demo' and year = '2026' and month = '11' and day = '20' group by all",
    )

    assert result.stdout == "tenant,year,month,day,orders,revenue\ndemo,2026,11,20,2,3000\n", result.stderr


def test_given_a_tenants_own_type_when_queried_then_its_parquet_types_are_kept(lake):
    result = make_query(
        lake,
        "--format",
        "json",
        "--sql",
        "select order_id, total, placed_at, shipping.city as city, typeof(total) as total_type, "
        "typeof(shipping) as shipping_type from sql_order order by 1 limit 1",
    )

    row: dict[str, Any] = json.loads(result.stdout)
    assert row == {
        "order_id": "A-0",
        "total": 1000,
        "placed_at": "2026-11-20 10:00:00.25+00",
        "city": "Köln",
        "total_type": "BIGINT",
        "shipping_type": "STRUCT(city VARCHAR)",
    }


def test_given_the_ledger_and_raw_tables_when_queried_then_they_are_views_too(lake):
    result = make_query(
        lake,
        "--sql",
        "select (select count(*) from compaction_ledger where event_id like 'sql-pv-%') as ledger, "
        "(select count(*) from page_view_raw where event_id like 'sql-pv-%') as raw, "
        "(select count(distinct hour) from page_view_raw where event_id = 'sql-pv-two') as hours",
    )

    assert result.stdout == "ledger,raw,hours\n3,5,1\n", result.stderr


def test_given_a_compacted_lake_when_daily_counts_is_queried_then_each_key_has_the_events_sent_once(lake):
    result = make_query(
        lake,
        "--sql",
        "select tenant, event_type, key, events, sessions from daily_counts "
        "where key like '/sql/%' order by tenant, key",
    )

    assert result.stdout == (
        "tenant,event_type,key,events,sessions\n"
        "demo,page_view,/sql/0,1,1\n"
        "demo,page_view,/sql/1,1,1\n"
        "demo-two,page_view,/sql/two,1,1\n"
    ), result.stderr


def test_given_a_tenants_own_type_when_rolled_up_then_it_has_one_row_without_a_key(lake):
    result = make_query(
        lake, "--sql", "select tenant, day, key, events from daily_counts where event_type = 'sql_order'"
    )

    assert result.stdout == "tenant,day,key,events\ndemo,2026-11-20,,2\n", result.stderr


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("select * from no_such_table", "make query: Catalog Error: Table with name no_such_table does not exist!"),
        ("selec 1", 'make query: Parser Error: syntax error at or near "selec"'),
    ],
)
def test_given_sql_duckdb_refuses_when_queried_then_one_line_on_stderr_and_exit_status_2(lake, sql, message):
    result = make_query(lake, "--sql", sql)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr


def test_given_an_unknown_format_when_queried_then_it_is_refused_in_one_line(lake):
    result = make_query(lake, "--format", "xml", "--sql", "select 1")

    assert (result.returncode, result.stderr) == (2, "make query: FORMAT must be csv or json, not 'xml'\n")


def test_given_no_sql_when_queried_then_the_summary_is_kept_and_sample_rows_follow(lake):
    result = make_query(lake)

    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    assert lines[0].split() == ["event_type", "tenant", "rows", "distinct", "event_id"]
    assert ["page_view", "demo-two", "1", "1"] in [line.split() for line in lines]
    assert "newest rows of sql_order (all of them: make query SQL='select * from sql_order'):" in lines
    assert lines[
        lines.index("newest rows of sql_order (all of them: make query SQL='select * from sql_order'):") + 1
    ].startswith("event_id,event_type,received_at,timestamp,schema_version")


def test_given_make_query_with_sql_and_format_when_run_then_both_reach_the_program_quotes_intact(lake):
    environment = {**os.environ, "LOCAL_STATE_DIR": str(lake.stack_file.parent)}
    sql = """select url as "the url" from page_view where event_id = 'sql-pv-two'"""
    command = ["make", "--no-print-directory", "query", f"SQL={sql}", "FORMAT=json"]

    result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == '{"the url":"/sql/two"}'


def test_given_a_tenant_when_summarised_then_only_its_rows_and_samples_are_printed(lake):
    result = make_query(lake, "--tenant", "demo-two")

    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    assert [line.split()[:2] for line in lines[1 : lines.index("")]] == [["page_view", "demo-two"]]
    heading = "newest rows of page_view (all of them: make query TENANT=demo-two SQL='select * from page_view'):"
    samples = lines[lines.index(heading) + 2 :]
    assert samples
    assert all(",demo-two," in row for row in samples)


def test_given_a_tenant_when_queried_with_sql_then_every_table_holds_only_its_rows(lake):
    result = make_query(
        lake,
        "--tenant",
        "demo-two",
        "--sql",
        "select (select count(*) from page_view) as compacted, (select count(*) from page_view_raw) as raw, "
        "(select count(*) from compaction_ledger) as ledger, (select count(*) from sql_order) as orders, "
        "(select string_agg(distinct tenant, ',') from daily_counts) as tenants",
    )

    assert result.stdout == "compacted,raw,ledger,orders,tenants\n1,1,1,0,demo-two\n", result.stderr


def test_given_a_tenant_without_compacted_rows_when_summarised_then_it_says_so(lake):
    result = make_query(lake, "--tenant", "nobody-here")

    assert (result.returncode, result.stdout) == (
        0,
        "no compacted data of tenant nobody-here yet: send events, then `make compact`\n",
    )


def test_given_a_malformed_tenant_when_queried_then_one_line_and_exit_status_2(lake):
    result = make_query(lake, "--tenant", "Demo Two", "--sql", "select 1")

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "make query: TENANT must be a tenant id (^[a-z0-9][a-z0-9-]{1,62}$), not 'Demo Two'\n"


def test_given_make_query_with_a_tenant_and_format_json_when_piped_then_stdout_is_json_lines_alone(lake):
    environment = {**os.environ, "LOCAL_STATE_DIR": str(lake.stack_file.parent)}
    command = [
        "make",
        "--no-print-directory",
        "query",
        "TENANT=demo",
        "FORMAT=json",
        "SQL=select tenant, url from page_view order by url",
    ]

    result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"tenant": "demo", "url": "/sql/0"},
        {"tenant": "demo", "url": "/sql/1"},
    ]
