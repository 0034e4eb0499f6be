"""The fan-out Lambda handler under moto: every object reported, queued for compaction; failures fail it."""

from __future__ import annotations

import os

import pytest

from event_collector.aws.compaction_state import CompactionStateTable
from event_collector.lake.fan_out import FanOutFailed
from tests.event_collector.lake.test_fan_out import event, lake, lines, put_raw, s3_event

FUNCTION = "stack-FanOutFunction"


def queue(aws) -> CompactionStateTable:
    return CompactionStateTable(aws.dynamodb, os.environ["COMPACTION_STATE_TABLE_NAME"])


def test_given_an_s3_event_when_the_handler_runs_then_it_reports_every_object(aws, fan_out_handler, lambda_context):
    key = put_raw(aws, lines(event("acme"), event("globex"), b"junk"))

    result = fan_out_handler.lambda_handler(s3_event(key), lambda_context)

    (report,) = result["objects"]
    assert (report["lines_in"], report["lines_out"], report["lines_quarantined"]) == (3, 2, 1)
    assert report["objects_written"] == 3
    assert len(lake(aws)) == 3
    assert {tenant for tenant, _ in queue(aws).all_pending()} == {"acme", "globex"}


def test_given_a_failing_object_when_the_handler_runs_then_the_invocation_fails_for_lambda_to_retry(
    aws, fan_out_handler, lambda_context
):
    with pytest.raises(FanOutFailed):
        fan_out_handler.lambda_handler(s3_event("raw/2026/05/28/20/gone"), lambda_context)
