"""`make smoke`'s Athena check against moto (the local stack has no Athena: tests/local/test_smoke.py runs the
rest): one query in the stack's workgroup through the compaction's own Athena adapter (awswrangler)."""

from __future__ import annotations

import boto3

from event_collector_cli.smoke import Stack, athena_count
from tests.event_collector.aws.test_athena import RESULTS, WORK_GROUP, next_results, work_group


def test_given_a_deployed_stack_when_the_compacted_rows_are_counted_then_athena_answers_for_the_tenant(aws):
    athena = work_group(aws)
    stack = Stack(
        "https://api.example", {"AthenaWorkGroupName": WORK_GROUP, "GlueDatabaseName": "events_db"}, boto3.Session()
    )
    next_results({"_col0": "bigint"}, ["5"])

    count = athena_count(stack, "smoke-1a2b")

    (execution,) = athena.list_query_executions(WorkGroup=WORK_GROUP)["QueryExecutionIds"]
    query = athena.get_query_execution(QueryExecutionId=execution)["QueryExecution"]
    assert count == 5
    assert query["Query"] == 'SELECT count(*) FROM "events_db"."track" WHERE tenant = \'smoke-1a2b\''
    assert query["ResultConfiguration"]["OutputLocation"].startswith(f"s3://{RESULTS}/")
