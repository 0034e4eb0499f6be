"""The compaction state machine under moto with privacy regulations: Plan counts those due, Regulate runs
between the Map and Refresh (even with nothing to compact), Report counts them and fails the run for one
that failed, naming its request id, never the user's."""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import time
from typing import Any

from event_collector.aws.regulations_table import RegulationsTable
from event_collector.errors import StorageError
from event_collector.privacy.regulations import Regulation, request_id, subject_digest
from local.functions import load_function
from tests.conftest import LAKE_BUCKET, RAW_BUCKET
from tests.functions.compaction.test_workflow import FUTURE, at, rows, view

USER = "u-5e1d0a9c77"
OTHER = "u-91c3b0e2f4"


def seed(workflow) -> None:
    workflow.put_raw(
        "raw/2026/11/20/10/a",
        [
            view("acme", "e1", at(20, 10, 5), user_id=USER),
            view("acme", "e2", at(20, 10, 6), user_id=OTHER),
            view("acme", "e3", at(20, 11), user_id=USER, url=USER),
        ],
    )
    workflow.put_raw("raw/2026/11/20/12/b", [view("globex", "g1", at(20, 12), user_id=USER)])


def ask_deletion(workflow, value: str = USER, tenant: str = "acme", requested_at: int | None = None) -> Regulation:
    subject = subject_digest(tenant, "user_id", value)
    regulation = Regulation(
        request_id(tenant, "delete", "user_id", subject),
        tenant,
        "delete",
        "user_id",
        subject,
        # An hour ago by default: due by the clock (its events are past Firehose's buffer), whatever the cutoff.
        requested_at if requested_at is not None else int(time.time() * 1000) - 3_600_000,
    )
    return store(workflow).put_request(regulation)


def store(workflow) -> RegulationsTable:
    return RegulationsTable(workflow.aws.dynamodb, os.environ["REGULATIONS_TABLE_NAME"])


def everything(workflow) -> bytes:
    """Every object of both buckets, GZIP decompressed and Parquet read back, as one text."""
    import io

    import pyarrow.parquet as pq

    texts = []
    for bucket in (RAW_BUCKET, LAKE_BUCKET):
        for page in workflow.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                body = workflow.s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                body = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
                if body[:4] == b"PAR1":
                    body = json.dumps(pq.ParquetFile(io.BytesIO(body)).read().to_pylist()).encode()
                texts.append(body)
    return b"\n".join(texts)


def test_given_a_deletion_due_and_nothing_to_compact_when_the_workflow_runs_then_regulate_applies_it(workflow):
    seed(workflow)
    assert workflow.run(FUTURE)["status"] == "SUCCEEDED"
    regulation = ask_deletion(workflow)

    result = workflow.run(FUTURE)

    assert result["status"] == "SUCCEEDED", result
    plan, report = result["output"]["plan"], result["output"]["report"]
    assert (plan["items"], plan["regulations"]) == (0, 1)
    assert (report["regulations_applied"], report["regulations_failed"]) == (1, 0)
    assert result["output"]["regulations"]["applied"] == 1
    assert set(rows(workflow, "page_view")) == {("acme", "e2"), ("globex", "g1")}
    applied = store(workflow).get("acme", regulation.id)
    assert applied is not None
    assert (applied.status, applied.removed["compacted/page_view"], applied.removed["raw"]) == ("applied", 2, 2)
    text = everything(workflow)
    assert text.count(USER.encode()) == 3  # globex's user (another tenant's): its raw line, lake line and row
    assert USER not in json.dumps(result["output"])


def test_given_no_regulation_when_the_workflow_runs_then_regulate_is_not_invoked(workflow):
    seed(workflow)

    result = workflow.run(FUTURE)

    assert result["status"] == "SUCCEEDED"
    assert result["output"]["plan"]["regulations"] == 0
    assert "compaction-regulate" not in workflow.calls
    assert result["output"]["report"]["regulations_applied"] == 0


def test_given_a_deletion_not_due_yet_when_the_workflow_runs_then_it_waits(workflow):
    seed(workflow)
    ask_deletion(workflow, requested_at=int(time.time() * 1000))  # now: Firehose may still hold its events

    waited = workflow.run()  # the cutoff is the grace period ago
    ahead = workflow.run(FUTURE)  # a cutoff ahead of now: still not due by the clock

    assert [result["output"]["plan"]["regulations"] for result in (waited, ahead)] == [0, 0]
    assert store(workflow).pending()[0].status == "received"


def test_given_compaction_and_a_deletion_in_one_run_when_run_then_the_new_rows_are_compacted_then_removed(workflow):
    seed(workflow)
    ask_deletion(workflow)

    result = workflow.run(FUTURE)

    assert result["status"] == "SUCCEEDED"
    assert (result["output"]["plan"]["items"], result["output"]["report"]["regulations_applied"]) == (2, 1)
    assert set(rows(workflow, "page_view")) == {("acme", "e2"), ("globex", "g1")}
    assert workflow.pending() == []


def test_given_a_regulation_that_fails_when_run_then_the_execution_fails_naming_the_request(workflow, monkeypatch):
    seed(workflow)
    regulation = ask_deletion(workflow)
    module = load_function("compaction_regulate")
    deletion = module.deletion
    monkeypatch.setattr(module, "deletion", dataclasses.replace(deletion, lake=Unwritable(module.store)))

    failed = workflow.run(FUTURE)
    monkeypatch.setattr(module, "deletion", deletion)
    retried = workflow.run(FUTURE)

    assert (failed["status"], failed["error"]) == ("FAILED", "CompactionRegulationsFailed")
    report = failed["output"]["report"] if "report" in failed["output"] else report_of(workflow, failed)
    assert report["regulations_failed"] == 1
    assert report["regulation_failures"][0]["request"] == regulation.id
    assert "InternalError" in report["regulation_failures"][0]["error"]
    assert USER not in json.dumps(report)
    assert retried["status"] == "SUCCEEDED"
    assert retried["output"]["report"]["regulations_applied"] == 1


class Unwritable:
    """The lake store, refusing every upload of a rewritten file."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def put_file(self, bucket: str, key: str, path: str, content_type: str = "") -> None:
        raise StorageError(f"writing s3://{bucket}/{key} failed: InternalError")


def report_of(workflow, result: dict[str, Any]) -> dict[str, Any]:
    history = workflow.sfn.get_execution_history(executionArn=result["arn"])["events"]
    exited = next(
        e
        for e in reversed(history)
        if e["type"] == "TaskStateExited" and e["stateExitedEventDetails"]["name"] == "Report"
    )
    report: dict[str, Any] = json.loads(exited["stateExitedEventDetails"]["output"])["report"]
    return report
