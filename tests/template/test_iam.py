"""S3 permissions on the SAM-transformed template for what writes in multipart uploads: Firehose's deliveries,
the Distributed Map's ResultWriter and Athena's INSERT INTO and query results. An upload that cannot be
aborted leaves parts billed until the lifecycle rule removes them; one that cannot be listed fails."""

from __future__ import annotations

import json

import pytest

from event_collector.lake.layout import COMPACTED_ROOT, LEDGER_ROOT, RAW_PREFIX
from tests.template.policies import allows, resolver, statements
from tools.template import ROOT

OBJECT_WRITES = ("s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts")
RESOLVED = resolver()


def bucket_arn(logical_id: str) -> str:
    return RESOLVED.arn(logical_id)


def test_given_firehose_s_role_when_it_delivers_then_it_may_abort_its_uploads_on_the_objects():
    granted = statements(RESOLVED, "DeliveryStreamRole")
    raw_object = f"{bucket_arn('RawBucket')}/{RAW_PREFIX}2026/12/07/10/stream-1-2026-12-07-10-00-00-abc.gz"

    for action in ("s3:PutObject", "s3:AbortMultipartUpload"):
        assert allows(granted, action, raw_object), action
    for action in ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"):
        assert allows(granted, action, bucket_arn("RawBucket")), action
    assert not allows(granted, "s3:AbortMultipartUpload", bucket_arn("RawBucket"))  # an object action


def test_given_the_distributed_map_when_it_writes_its_results_then_its_role_may_complete_and_abort_them():
    definition = json.loads((ROOT / "statemachines/compaction.asl.json").read_text(encoding="utf-8"))
    writer = definition["States"]["CompactTenants"]["ResultWriter"]["Parameters"]
    substitutions = RESOLVED.resolve(
        RESOLVED.template["Resources"]["CompactionStateMachine"]["Properties"]["DefinitionSubstitutions"]
    )
    assert writer == {"Bucket": "${LakeBucketName}", "Prefix": "${MapResultsPrefix}"}
    result = f"{bucket_arn('LakeBucket')}/{substitutions['MapResultsPrefix']}/0123abcd/SUCCEEDED_0.json"

    granted = statements(RESOLVED, "CompactionStateMachineRole")

    for action in OBJECT_WRITES:
        assert allows(granted, action, result), action


@pytest.mark.parametrize(
    ("bucket", "key"),
    [
        ("LakeBucket", f"{COMPACTED_ROOT}/track/tenant=acme/year=2026/month=12/day=07/20261207_0123_abc.parquet"),
        ("LakeBucket", f"{LEDGER_ROOT}/tenant=acme/year=2026/month=12/day=07/20261207_0123_abc"),
        ("AthenaResultsBucket", "results/0123-abcd.csv"),
    ],
)
def test_given_athena_s_insert_into_when_compact_runs_it_then_its_role_may_write_in_multipart_uploads(bucket, key):
    granted = statements(RESOLVED, "CompactionCompactFunctionRole")

    for action in OBJECT_WRITES:
        assert allows(granted, action, f"{bucket_arn(bucket)}/{key}"), action
    for action in ("s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"):
        assert allows(granted, action, bucket_arn(bucket)), action


def test_given_a_deletion_sweep_when_regulate_runs_then_its_role_may_make_every_call_and_only_it_deletes_raw_versions():
    granted = statements(RESOLVED, "CompactionRegulateFunctionRole")
    raw_object = f"{bucket_arn('RawBucket')}/{RAW_PREFIX}2026/12/07/10/stream-1-2026-12-07-10-00-00-abc.gz"
    lake_object = f"{bucket_arn('LakeBucket')}/{COMPACTED_ROOT}/track/tenant=acme/year=2026/month=12/day=07/u-0.parquet"

    for action in ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObjectVersion"):
        assert allows(granted, action, raw_object), action
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert allows(granted, action, lake_object), action
    assert allows(granted, "s3:ListBucketVersions", bucket_arn("RawBucket"))
    assert allows(granted, "s3:ListBucket", bucket_arn("LakeBucket"))
    for table in ("CountersTable", "CompactionStateTable", "RegulationsTable"):
        for action in ("dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem"):
            assert allows(granted, action, bucket_arn(table)), (table, action)
    assert allows(granted, "dynamodb:Query", f"{bucket_arn('CountersTable')}/index/by_day")
    roles = [name for name, r in RESOLVED.template["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
    deleting = [role for role in roles if allows(statements(RESOLVED, role), "s3:DeleteObjectVersion", raw_object)]
    assert deleting == ["CompactionRegulateFunctionRole"]
