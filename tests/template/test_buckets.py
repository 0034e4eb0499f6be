"""Every bucket of the SAM-transformed template refuses requests without TLS, on the bucket and its objects."""

from __future__ import annotations

import fnmatch

import pytest

from tests.template.policies import resolver

RESOLVED = resolver()
BUCKETS = sorted(name for name, r in RESOLVED.template["Resources"].items() if r["Type"] == "AWS::S3::Bucket")


@pytest.mark.parametrize("bucket", BUCKETS)
def test_given_each_bucket_when_a_request_comes_without_tls_then_its_policy_denies_it(bucket):
    name, arn = RESOLVED.physical_name(bucket), RESOLVED.arn(bucket)
    policies = [
        RESOLVED.resolve(r["Properties"])
        for r in RESOLVED.template["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy"
    ]
    statements = [s for p in policies if p["Bucket"] == name for s in p["PolicyDocument"]["Statement"]]

    denied = [
        s
        for s in statements
        if s["Effect"] == "Deny"
        and s["Principal"] == "*"
        and s["Action"] == "s3:*"
        and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]

    assert denied, f"{bucket} has no DenyInsecureTransport statement"
    for resource in (arn, f"{arn}/results/query.csv"):
        assert any(fnmatch.fnmatchcase(resource, pattern) for s in denied for pattern in s["Resource"]), resource
