"""SQL over the local lake: one DuckDB view per table of the stack's Glue database, as Athena sees them.

Athena does not run locally, so ``make query SQL=...`` asks DuckDB instead. Each Glue table (the compacted
``<type>`` tables, ``compaction_ledger`` and the raw ``<type>_raw`` ones) becomes a view of the same name,
with the catalog's columns in its order, then its partition columns as text (``tenant``, ``year``,
``month``, ``day``, and ``hour`` for raw tables), as Glue declares them. The files are the table's own:
every visible object under the table's location in ``<key>=<value>/`` partition directories (Hive's
rule, which Athena follows), copied from the local S3 into a temporary directory; DuckDB's S3 access
(httpfs) is an extension it would download, and nothing is downloaded here.

Types: a Parquet table's columns keep the files' types (a tenant's own types: structs, timestamps...);
a column the catalog has but no file holds yet reads NULL of the catalog's type. Raw JSON tables are read
with the catalog's types, as the OpenX SerDe reads them (a nested value as its JSON text).

Athena's spelling: the functions of Athena (Trino) that DuckDB names otherwise are macros here
(:data:`ATHENA_FUNCTIONS`), so a statement written for Athena (queries/*.sql, docs/querying.md) runs
unchanged, with Athena's results on the values the lake stores (epoch-millisecond bigints, JSON text).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from event_collector.lake.catalog import parse_glue_type

_SCALARS = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}
# The statement's rows, named for the COPY that prints them; no Glue table starts with "_" (identifiers.py).
RESULT_VIEW = "_make_query_result"
_PARTITION_DIRECTORY = re.compile(r"(?P<key>[a-z_]+)=[^/]+")
# Athena's name -> DuckDB's body. Trino's json_extract_scalar answers NULL for an object or an array (DuckDB's
# json_extract_string would answer its JSON text); from_unixtime takes seconds (received_at / 1000) and
# gives a timestamp with time zone, printed in the session's UTC; date_format's %Y %m %d %H are
# strftime's (its other specifiers are MySQL's: %i minutes, %s seconds, which strftime spells otherwise).
# A macro of a built-in's name (date_diff) is found first: DuckDB's own is then out of reach, as wanted.
ATHENA_FUNCTIONS = {
    "json_extract_scalar(json_text, path)": (
        "CASE WHEN json_type(json_text, path) IN ('OBJECT', 'ARRAY') THEN NULL "
        "ELSE json_extract_string(json_text, path) END"
    ),
    "from_unixtime(seconds)": "to_timestamp(seconds)",
    "date_format(moment, format)": "strftime(moment, format)",
    # Trino counts whole units between the two (23:00 to 01:00 is 0 days); DuckDB's own date_diff counts the
    # boundaries crossed (1 day), its date_sub whole units.
    "date_diff(unit, start, finish)": "date_sub(unit, start, finish)",
}


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def duckdb_type(glue_type: str) -> str:
    """``struct<a:string,b:array<bigint>>`` as ``STRUCT("a" VARCHAR, "b" BIGINT[])``."""
    return _duckdb(parse_glue_type(glue_type))


def _duckdb(parsed: Any) -> str:
    if isinstance(parsed, str):
        return _SCALARS.get(parsed, "VARCHAR")
    kind, inner = parsed
    if kind == "array":
        return _duckdb(inner) + "[]"
    return "STRUCT(" + ", ".join(f"{quoted(name)} {_duckdb(field)}" for name, field in inner.items()) + ")"


def table_files(keys: Iterable[str], prefix: str, partition_keys: list[str], tenant: str | None = None) -> list[str]:
    """The keys a query of the table reads: ``<prefix><k1>=<v>/.../<kn>=<v>/<name>``, partition keys in the
    table's order, the name visible (not starting with ``_`` or ``.``); with ``tenant``, only those under
    its ``tenant=<tenant>/`` partition (every table of the lake is partitioned by tenant)."""
    found = []
    for key in keys:
        if not key.startswith(prefix):
            continue
        *directories, name = key[len(prefix) :].split("/")
        matches = [_PARTITION_DIRECTORY.fullmatch(directory) for directory in directories]
        if (
            name
            and not name.startswith(("_", "."))
            and [match["key"] if match else None for match in matches] == partition_keys
            and (tenant is None or f"tenant={tenant}" in directories)
        ):
            found.append(key)
    return found


def download_table(s3: Any, table: dict[str, Any], workdir: Path, tenant: str | None = None) -> list[Path]:
    """Copy the table's files (those of ``tenant`` alone, if given) from S3 under ``workdir`` (mirroring their
    keys, so the partition directories stay in the paths DuckDB reads)."""
    bucket, _, prefix = table["StorageDescriptor"]["Location"].removeprefix("s3://").partition("/")
    partition_keys = [key["Name"] for key in table.get("PartitionKeys", [])]
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]
    paths = []
    for key in table_files(keys, prefix, partition_keys, tenant):
        path = workdir / bucket / key
        path.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(path))
        paths.append(path)
    return paths


def view_sql(con: Any, table: dict[str, Any], files: list[Path]) -> str | None:
    """``CREATE VIEW`` for one Glue table over its downloaded files; None for a format it is not."""
    data_format = table.get("Parameters", {}).get("classification")
    columns = [(column["Name"], column["Type"]) for column in table["StorageDescriptor"]["Columns"]]
    partitions = [key["Name"] for key in table.get("PartitionKeys", [])]
    partition_columns = [quoted(name) for name in partitions]
    if data_format not in ("parquet", "json"):
        return None
    if not files:
        nulls = [f"CAST(NULL AS {duckdb_type(kind)}) AS {quoted(name)}" for name, kind in columns]
        nulls += [f"CAST(NULL AS VARCHAR) AS {quoted(name)}" for name in partitions]
        return f"CREATE VIEW {quoted(table['Name'])} AS SELECT {', '.join(nulls)} LIMIT 0"
    file_list = "[" + ", ".join(literal(str(path)) for path in files) + "]"
    hive = "{" + ", ".join(f"{literal(name)}: 'VARCHAR'" for name in partitions) + "}"
    options = f"hive_partitioning = true, hive_types = {hive}" if partitions else "hive_partitioning = false"
    if data_format == "parquet":
        source = f"read_parquet({file_list}, union_by_name = true, {options})"
        present = set(con.sql(f"SELECT * FROM {source} LIMIT 0").columns)  # noqa: S608 - quoted paths
    else:
        types = "{" + ", ".join(f"{literal(name)}: {literal(duckdb_type(kind))}" for name, kind in columns) + "}"
        source = f"read_json({file_list}, format = 'newline_delimited', columns = {types}, {options})"
        present = {name for name, _ in columns}
    selected = [
        quoted(name) if name in present else f"CAST(NULL AS {duckdb_type(kind)}) AS {quoted(name)}"
        for name, kind in columns
    ]
    view = f"CREATE VIEW {quoted(table['Name'])} AS SELECT {', '.join(selected + partition_columns)}"
    return f"{view} FROM {source}"


def define_athena_functions(con: Any) -> None:
    for signature, body in ATHENA_FUNCTIONS.items():
        con.execute(f"CREATE MACRO {signature} AS {body}")


def glue_tables(glue: Any, database: str) -> list[dict[str, Any]]:
    pages = glue.get_paginator("get_tables").paginate(DatabaseName=database)
    return [table for page in pages for table in page["TableList"]]


def register_lake(
    con: Any,
    glue: Any,
    s3: Any,
    database: str,
    workdir: Path,
    only: Collection[str] | None = None,
    tenant: str | None = None,
) -> list[str]:
    """One view per table of ``database`` (or of those named in ``only``); the names registered, in name
    order. With ``tenant``, each view holds that tenant's rows alone (``make query TENANT=...``). Every
    table's files are copied on each call: a query's tables cannot be known before DuckDB binds it."""
    registered = []
    for table in sorted(glue_tables(glue, database), key=lambda table: table["Name"]):
        if only is not None and table["Name"] not in only:
            continue
        statement = view_sql(con, table, download_table(s3, table, workdir, tenant))
        if statement is not None:
            con.execute(statement)
            registered.append(table["Name"])
    return registered


def one_line(error: Exception) -> str:
    """DuckDB's message without the source excerpt it appends (``LINE 1: ...`` and a caret line)."""
    kept = []
    for line in str(error).splitlines():
        if line.startswith("LINE "):
            break
        if line.strip():
            kept.append(line.strip())
    return " ".join(kept) or type(error).__name__


def write_result(con: Any, sql: str, output_format: str, destination: Path) -> bool:
    """Run ``sql``; write its rows to ``destination`` as CSV with a header or as JSON lines. False when the
    statement returns no rows (``SET``, ``CREATE``...). DuckDB's errors propagate (``duckdb.Error``)."""
    relation = con.sql(sql)
    if relation is None:
        return False
    relation.create_view(RESULT_VIEW)
    options = "FORMAT csv, HEADER true" if output_format == "csv" else "FORMAT json"
    con.execute(f"COPY {RESULT_VIEW} TO {literal(str(destination))} ({options})")
    return True
