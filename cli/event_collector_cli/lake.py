"""Lake operations: ``python -m event_collector_cli.lake --help`` (``event-collector-lake``).

- ``redrive``: re-run every fan-out invocation parked in the dead-letter
  queue; a message is deleted only once its invocation succeeded.
- ``backfill``: fan out every raw object under a prefix again (objects done / total on stderr every ~2 s).
- ``enqueue``: put lake objects already written back in compaction's queue
  (a table restored from backup, objects copied in by hand).

``redrive`` and ``backfill`` invoke the stack's own fan-out function
(``--function``, stack output FanOutFunctionName), synchronously, one
object per invocation: the deployed code and configuration do the work, so
the lake objects, the counts and compaction's queue are exactly what the S3
notification would have produced. Both are idempotent: fan-out writes
deterministic keys, counts each raw object at most once, and compaction
keeps the first copy of an event. Works against AWS and against the local
mode (``--endpoint-url``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote_plus

from event_collector.aws.clients import operator_client
from event_collector.aws.compaction_state import CompactionStateTable
from event_collector.aws.s3 import S3ObjectStore
from event_collector.lake.layout import EVENTS_ROOT, events_prefix, parse_event_object_key
from event_collector.lake.queue import PendingObject
from event_collector_cli.progress import Progress

# (event) -> the function's result; raises FunctionFailed when the invocation failed.
Invoke = Callable[[dict[str, Any]], dict[str, Any]]
REPORT_FIELDS = ("lines_in", "lines_out", "lines_quarantined")


class FunctionFailed(Exception):
    pass


def lambda_invoker(lambda_client: Any, function_name: str) -> Invoke:
    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        response = lambda_client.invoke(
            FunctionName=function_name, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
        )
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            message = payload.get("errorMessage", payload) if isinstance(payload, dict) else payload
            raise FunctionFailed(f"{function_name}: {message}")
        return payload if isinstance(payload, dict) else {}

    return invoke


def s3_event(bucket: str, key: str) -> dict[str, Any]:
    """The ObjectCreated notification S3 sends for one object (keys URL-encoded, as S3 does)."""
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key)}},
            }
        ]
    }


def redrive(invoke: Invoke, sqs: Any, queue_url: str, max_messages: int) -> dict[str, int]:
    done = failed = 0
    while done + failed < max_messages:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            break
        for message in messages:
            record = json.loads(message["Body"])
            try:
                invoke(record.get("requestPayload", record))
            except FunctionFailed as error:
                print(f"still failing, left in the queue: {error}", file=sys.stderr)
                failed += 1
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            done += 1
        if failed:
            break  # failed messages come back after their visibility timeout; do not spin on them
    return {"redriven": done, "failed": failed}


def backfill(
    invoke: Invoke, store: S3ObjectStore, raw_bucket: str, prefix: str, progress: Progress | None = None
) -> dict[str, int]:
    """Fan out every raw object under ``prefix``; on stderr, objects done / total every ~2 s."""
    progress = progress or Progress("backfill")
    totals = dict.fromkeys(("objects", *REPORT_FIELDS, "failed"), 0)
    progress.phase(f"listing s3://{raw_bucket}/{prefix}")
    keys = list(store.keys(raw_bucket, prefix))
    progress.phase("fanning out", f"0/{len(keys)} objects")

    def done() -> str:
        finished = totals["objects"] + totals["failed"]
        share = f" ({finished / len(keys):.0%})" if keys else ""
        return f"{finished}/{len(keys)} objects{share}, {totals['failed']} failed"

    for key in keys:
        progress.update(done)
        try:
            result = invoke(s3_event(raw_bucket, key))
        except FunctionFailed as error:
            print(f"failed: s3://{raw_bucket}/{key}: {error}", file=sys.stderr)
            totals["failed"] += 1
            continue
        totals["objects"] += 1
        for report in result.get("objects", []):
            for name in REPORT_FIELDS:
                totals[name] += int(report.get(name, 0))
    progress.phase("done", done())
    return totals


def enqueue(queue: CompactionStateTable, s3: Any, lake_bucket: str, prefix: str) -> dict[str, int]:
    """Every event object under ``prefix`` becomes pending again (compaction keeps the first copy of an event)."""
    queued = skipped = 0
    batch: dict[str, list[PendingObject]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=lake_bucket, Prefix=prefix):
        for listed in page.get("Contents", []):
            parsed = parse_event_object_key(listed["Key"])
            if parsed is None:
                skipped += 1
                continue
            partition = parsed.partition
            pending = PendingObject(
                listed["Key"], listed["ETag"].strip('"'), int(listed["Size"]), int(partition.end.timestamp())
            )
            batch.setdefault(partition.tenant, []).append(pending)
            queued += 1
        for tenant, objects in batch.items():
            queue.enqueue(tenant, objects)
        batch.clear()
    return {"queued": queued, "skipped": skipped}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="event-collector-lake", description=__doc__)
    parser.add_argument("--region", default=None)
    parser.add_argument("--endpoint-url", default=None, help="AWS endpoint, e.g. the local mode's moto server")
    commands = parser.add_subparsers(dest="command", required=True)
    function = argparse.ArgumentParser(add_help=False)
    function.add_argument(
        "--function", default=os.environ.get("FAN_OUT_FUNCTION_NAME"), help="stack output FanOutFunctionName"
    )
    redrive_parser = commands.add_parser("redrive", parents=[function], help="re-run the dead-lettered invocations")
    redrive_parser.add_argument("--queue-url", required=True, help="stack output FanOutDeadLetterQueueUrl")
    redrive_parser.add_argument("--max-messages", type=int, default=1000)
    backfill_parser = commands.add_parser("backfill", parents=[function], help="fan out every raw object again")
    backfill_parser.add_argument("--raw-bucket", required=True, help="stack output RawBucketName")
    backfill_parser.add_argument("--prefix", required=True, help="for example raw/2026/11/26/")
    enqueue_parser = commands.add_parser("enqueue", help="queue lake objects for compaction again")
    enqueue_parser.add_argument("--lake-bucket", required=True, help="stack output LakeBucketName")
    enqueue_parser.add_argument("--state-table", required=True, help="stack output CompactionStateTableName")
    enqueue_parser.add_argument(
        "--prefix", default=f"{EVENTS_ROOT}/", help=f"for example {events_prefix('track', 'acme')}"
    )
    return parser


def main(argv: Sequence[str] | None = None, clients: Callable[[str], Any] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if clients is None:

        def clients(service: str) -> Any:
            return operator_client(service, region=args.region, endpoint_url=args.endpoint_url)

    if args.command == "enqueue":
        queue = CompactionStateTable(clients("dynamodb"), args.state_table)
        result = enqueue(queue, clients("s3"), args.lake_bucket, args.prefix)
        print(json.dumps(result))
        return 0
    if not args.function:
        print("error: pass --function or set FAN_OUT_FUNCTION_NAME", file=sys.stderr)
        return 2
    invoke = lambda_invoker(clients("lambda"), args.function)
    if args.command == "redrive":
        result = redrive(invoke, clients("sqs"), args.queue_url, args.max_messages)
    else:
        result = backfill(invoke, S3ObjectStore(clients("s3")), args.raw_bucket, args.prefix)
    print(json.dumps(result))
    return 1 if result.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
