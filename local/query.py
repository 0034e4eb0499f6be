"""``make query``: SQL over the running local stack's lake, or a summary of its compacted tables.

``make query SQL='select tenant, count(*) from page_view group by 1'`` runs the statement with DuckDB over
one view per table of the stack's Glue database (``local/lake_sql.py``: the names, columns and partition
columns Athena sees) and prints CSV with a header, or JSON lines with ``FORMAT=json``. A statement DuckDB
refuses is one line on stderr and exit status 2.

Without ``SQL``: rows and distinct event ids per type and tenant, the typed columns of tenants' own event
types as the Glue catalog has them (docs/schemas.md), then a few rows of each compacted table.

``TENANT=<tenant id>`` narrows both to one tenant: the summary and its sample rows are that tenant's, and
every view the SQL reads holds that tenant's rows alone (every table is partitioned by tenant), so the
statement needs no ``where tenant = ...`` of its own.

Athena does not run locally, so this reads the same files Athena would, from the local AWS endpoint.
``make query STACK=<name> SQL=...`` runs in Athena instead (``event_collector_cli.query``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from event_collector.event_types import DECLARED_FIELDS
from event_collector.identifiers import TENANT_ID_PATTERN, is_tenant_id
from event_collector_cli.compacted import read_compacted

from .compact import load_stack_info
from .lake_sql import define_athena_functions, one_line, register_lake, write_result

SAMPLE_ROWS = 3
FORMATS = ("csv", "json")


def local_client(info: dict[str, Any], service: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def main(argv: list[str] | None = None) -> int:
    description = "SQL over the running local stack's lake, or a summary of its compacted tables."
    parser = argparse.ArgumentParser(prog="make query", description=description)
    parser.add_argument("--sql", help="the statement (DuckDB's SQL); without it, the summary")
    parser.add_argument("--format", default="csv", help="csv (with a header, the default) or json (JSON lines)")
    parser.add_argument("--tenant", help="one tenant's rows only: in the summary, and in every table the SQL reads")
    arguments = parser.parse_args(argv)
    if arguments.format not in FORMATS:
        print(f"make query: FORMAT must be csv or json, not {arguments.format!r}", file=sys.stderr)
        return 2
    if arguments.tenant is not None and not is_tenant_id(arguments.tenant):
        refused = f"make query: TENANT must be a tenant id ({TENANT_ID_PATTERN}), not {arguments.tenant!r}"
        print(refused, file=sys.stderr)
        return 2
    info = load_stack_info()
    if info is None:
        return 1
    if arguments.sql is None:
        return summary(info, arguments.tenant)
    with local_lake(info, tenant=arguments.tenant) as (con, workdir):
        return run_sql(con, workdir, arguments.sql, arguments.format)


@contextmanager
def local_lake(
    info: dict[str, Any], only: Collection[str] | None = None, tenant: str | None = None
) -> Iterator[tuple[Any, Path]]:
    """A DuckDB connection with one view per Glue table of the stack (or of those in ``only``; with ``tenant``,
    of that tenant's rows alone), and a temporary directory for it."""
    import duckdb

    glue, s3 = local_client(info, "glue"), local_client(info, "s3")
    with tempfile.TemporaryDirectory(prefix="make-query-") as workdir, duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        define_athena_functions(con)
        register_lake(con, glue, s3, info["glue_database"], Path(workdir), only, tenant)
        yield con, Path(workdir)


def run_sql(con: Any, workdir: Path, sql: str, output_format: str) -> int:
    """Print the statement's rows; a statement DuckDB refuses is one line on stderr, and 2."""
    import duckdb

    result = workdir / "result"
    try:
        printed = write_result(con, sql, output_format, result)
    except duckdb.Error as error:
        print(f"make query: {one_line(error)}", file=sys.stderr)
        return 2
    if printed:
        sys.stdout.write(result.read_text(encoding="utf-8"))
    return 0


def summary(info: dict[str, Any], tenant: str | None = None) -> int:
    s3 = local_client(info, "s3")
    rows = [row for row in read_compacted(s3, info["lake_bucket"]) if tenant is None or row["tenant"] == tenant]
    if not rows:
        of_whom = f" of tenant {tenant}" if tenant else ""
        print(f"no compacted data{of_whom} yet: send events, then `make compact`")
        return 0
    counts: Counter[tuple[str, str]] = Counter()
    ids: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        counts[(row["event_type"], row["tenant"])] += 1
        ids[(row["event_type"], row["tenant"])].add(row["event_id"])
    print(f"{'event_type':<16}{'tenant':<24}{'rows':>8}{'distinct event_id':>20}")
    for (event_type, row_tenant), total in sorted(counts.items()):
        print(f"{event_type:<16}{row_tenant:<24}{total:>8}{len(ids[(event_type, row_tenant)]):>20}")
    custom = sorted({event_type for event_type, _ in counts} - set(DECLARED_FIELDS))
    if custom and info.get("glue_database"):
        glue = local_client(info, "glue")
        print("typed tables (tenants' own event types), as the Glue catalog has them:")
        for event_type in custom:
            table = glue.get_table(DatabaseName=info["glue_database"], Name=event_type)["Table"]
            columns = ", ".join(f"{c['Name']} {c['Type']}" for c in table["StorageDescriptor"]["Columns"])
            print(f"  {event_type}: {columns}")
    compacted = sorted({event_type for event_type, _ in counts})
    with local_lake(info, only=compacted, tenant=tenant) as (con, workdir):
        for event_type in compacted:
            # event types are identifiers ([a-z][a-z0-9_]*: identifiers.py), as are the views' names
            every = f"make query{f' TENANT={tenant}' if tenant else ''} SQL='select * from {event_type}'"  # noqa: S608
            print(f"\nnewest rows of {event_type} (all of them: {every}):")
            newest = f"SELECT * FROM {event_type} ORDER BY received_at DESC, event_id LIMIT {SAMPLE_ROWS}"  # noqa: S608
            run_sql(con, workdir, newest, "csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
