"""Fan-out operations: ``python -m event_collector.fan_out_cli --help``.

- ``redrive``: re-run every fan-out invocation parked in the dead-letter
  queue; a message is deleted only after its objects were fanned out.
- ``backfill``: fan out every raw object under a prefix again.

Both are idempotent: fan-out writes deterministic keys, so running them
twice (or after a partial success) overwrites the same lake objects.
Works against AWS and against the local mode (``--endpoint-url``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from .adapters.s3_objects import S3ObjectStore
from .fan_out import FanOut, fan_out_event


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="event-collector-fan-out", description=__doc__)
    parser.add_argument("--lake-bucket", default=os.environ.get("LAKE_BUCKET_NAME"), help="stack output LakeBucketName")
    parser.add_argument("--region", default=None)
    parser.add_argument("--endpoint-url", default=None, help="AWS endpoint, e.g. the local mode's moto server")
    commands = parser.add_subparsers(dest="command", required=True)
    redrive = commands.add_parser("redrive", help="re-run the invocations in the dead-letter queue")
    redrive.add_argument("--queue-url", required=True, help="stack output FanOutDeadLetterQueueUrl")
    redrive.add_argument("--max-messages", type=int, default=1000)
    backfill = commands.add_parser("backfill", help="fan out every raw object under a prefix")
    backfill.add_argument("--raw-bucket", required=True, help="stack output RawBucketName")
    backfill.add_argument("--prefix", required=True, help="for example raw/2026/11/26/")
    return parser


def redrive(fan_out: FanOut, sqs: Any, queue_url: str, max_messages: int) -> dict[str, int]:
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
                fan_out_event(fan_out, record.get("requestPayload", record))
            except Exception as error:  # noqa: BLE001 - reported; the message stays for the next redrive
                print(f"still failing, left in the queue: {error}", file=sys.stderr)
                failed += 1
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            done += 1
        if failed:
            break  # failed messages come back after their visibility timeout; do not spin on them
    return {"redriven": done, "failed": failed}


def backfill(fan_out: FanOut, store: S3ObjectStore, raw_bucket: str, prefix: str) -> dict[str, int]:
    objects = lines_in = lines_out = quarantined = 0
    for key in store.keys(raw_bucket, prefix):
        report = fan_out.process(raw_bucket, key)
        objects += 1
        lines_in += report.lines_in
        lines_out += report.lines_out
        quarantined += report.lines_quarantined
    return {"objects": objects, "lines_in": lines_in, "lines_out": lines_out, "lines_quarantined": quarantined}


def main(argv: Sequence[str] | None = None, s3: Any = None, sqs: Any = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.lake_bucket:
        print("error: pass --lake-bucket or set LAKE_BUCKET_NAME", file=sys.stderr)
        return 2
    if s3 is None or sqs is None:
        import boto3

        s3 = s3 or boto3.client("s3", region_name=args.region, endpoint_url=args.endpoint_url)
        sqs = sqs or boto3.client("sqs", region_name=args.region, endpoint_url=args.endpoint_url)
    store = S3ObjectStore(s3)
    fan_out = FanOut(store, args.lake_bucket)
    if args.command == "redrive":
        result = redrive(fan_out, sqs, args.queue_url, args.max_messages)
    else:
        result = backfill(fan_out, store, args.raw_bucket, args.prefix)
    print(json.dumps(result))
    return 1 if result.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
