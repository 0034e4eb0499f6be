"""``make query STACK=<name> SQL='...' [FORMAT=json] [REGION=...]``: the SQL in Athena, on a deployed stack.

The database and workgroup are the stack's outputs ``GlueDatabaseName`` and ``AthenaWorkGroupName``
(CloudFormation ``DescribeStacks``); the workgroup enforces where results go and how much a query may
scan. awswrangler runs the query (``wr.athena.read_sql_query``, without its CTAS approach: a plain
``SELECT``'s results, no temporary table in the database) and the rows print as the local ``make query``
prints them: CSV with a header, or JSON lines. A query Athena refuses is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, TextIO

from event_collector.aws.clients import operator_session

FORMATS = ("csv", "json")


def stack_outputs(session: Any, stack_name: str) -> dict[str, str]:
    described = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    return {item["OutputKey"]: item["OutputValue"] for item in described.get("Outputs", [])}


def athena_rows(session: Any, stack_name: str, sql: str, read_sql_query: Callable[..., Any] | None = None) -> Any:
    """The statement's rows (a pandas DataFrame), run in the stack's database and workgroup."""
    if read_sql_query is None:
        import awswrangler as wr

        read_sql_query = wr.athena.read_sql_query
    outputs = stack_outputs(session, stack_name)
    return read_sql_query(
        sql=sql,
        database=outputs["GlueDatabaseName"],
        workgroup=outputs["AthenaWorkGroupName"],
        ctas_approach=False,
        boto3_session=session,
    )


def print_rows(frame: Any, output_format: str, out: TextIO) -> None:
    if output_format == "csv":
        frame.to_csv(out, index=False)
    elif not frame.empty:
        out.write(frame.to_json(orient="records", lines=True, date_format="iso").rstrip("\n") + "\n")


def main(
    argv: list[str] | None = None,
    *,
    session: Any = None,
    read_sql_query: Callable[..., Any] | None = None,
    out: TextIO = sys.stdout,
) -> int:
    parser = argparse.ArgumentParser(prog="make query STACK=<name>", description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--region")
    parser.add_argument("--sql")
    parser.add_argument("--format", default="csv")
    parser.add_argument("--tenant", help="refused here: in Athena the SQL filters itself (where tenant = '...')")
    arguments = parser.parse_args(argv)
    if arguments.tenant is not None:
        print(
            "make query STACK=...: TENANT narrows the local lake only; in Athena, filter in the SQL: "
            f"where tenant = '{arguments.tenant}'",
            file=sys.stderr,
        )
        return 2
    if not arguments.sql:
        print("make query STACK=...: set SQL='select ...' (the summary is the local mode's)", file=sys.stderr)
        return 2
    if arguments.format not in FORMATS:
        print(f"make query: FORMAT must be csv or json, not {arguments.format!r}", file=sys.stderr)
        return 2
    session = session or operator_session(arguments.region)
    try:
        frame = athena_rows(session, arguments.stack_name, arguments.sql, read_sql_query)
    except Exception as error:  # noqa: BLE001 - any failure (refused SQL, no stack, no credentials) is one line
        print(f"make query: {type(error).__name__}: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    print_rows(frame, arguments.format, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
