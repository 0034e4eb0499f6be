"""The compaction state machine, executed by moto from statemachines/compaction.asl.json.

Lambda tasks reach the real handlers in-process (local/moto_bridge.py);
retries' waits are skipped, nothing else is faked.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from event_collector.lake.layout import compacted_type_prefix
from event_collector_cli.compacted import read_compacted
from local import moto_bridge
from local.provision import placeholder_zip
from tests.conftest import LAKE_BUCKET, RAW_BUCKET, TABLES, FakeAws, create_table
from tools.statemachines import substitute
from tools.template import ROOT, template

ACCOUNT = "123456789012"
STEPS = {
    "Plan": "compaction_plan",
    "Compact": "compaction_compact",
    "Regulate": "compaction_regulate",
    "Refresh": "compaction_refresh",
    "Report": "compaction_report",
}


@dataclass
class Workflow:
    aws: FakeAws
    sfn: Any
    arn: str
    handlers: dict[str, Callable[[Any, Any], Any]]
    calls: dict[str, int] = field(default_factory=dict)
    runs: int = 0

    @property
    def s3(self) -> Any:
        return self.aws.s3

    @property
    def glue(self) -> Any:
        return self.aws.glue

    def put_raw(self, key: str, events: list[dict[str, Any]]) -> None:
        """A raw object as Firehose would write it, fanned out (lake, queue, counts) as S3 would trigger."""
        body = gzip.compress(b"".join(json.dumps(e).encode() + b"\n" for e in events))
        self.s3.put_object(Bucket=RAW_BUCKET, Key=key, Body=body)
        self.aws.fan_out().process(RAW_BUCKET, key)

    def run(self, execution_input: dict[str, Any] | None = None) -> dict[str, Any]:
        self.runs += 1
        arn = self.sfn.start_execution(
            stateMachineArn=self.arn, name=f"run-{self.runs}", input=json.dumps(execution_input or {})
        )["executionArn"]
        moto_bridge.wait_for_executions()  # no sleeping: join moto's workers
        execution = self.sfn.describe_execution(executionArn=arn)
        output = json.loads(execution.get("output") or "{}")
        return {"status": execution["status"], "error": execution.get("error"), "output": output, "arn": arn}

    def compacted(self, event_type: str) -> list[dict[str, Any]]:
        return read_compacted(self.s3, LAKE_BUCKET, compacted_type_prefix(event_type))

    def lake_listing(self, prefix: str) -> dict[str, str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=LAKE_BUCKET, Prefix=prefix)
        return {item["Key"]: item["ETag"] for page in pages for item in page.get("Contents", [])}

    def pending(self) -> list[str]:
        items = self.aws.dynamodb.scan(TableName=os.environ["COMPACTION_STATE_TABLE_NAME"])["Items"]
        return sorted(item["sk"]["S"] for item in items if item["pk"]["S"].startswith("pending#"))


@pytest.fixture
def workflow(monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> Iterator[Workflow]:
    from tests.conftest import load_function

    for cls in moto_bridge.lambda_backends():  # restored after the test
        for name in ("_invoke_lambda", "invoke"):
            if name in vars(cls):
                monkeypatch.setattr(cls, name, vars(cls)[name])
    moto_bridge.skip_retry_waits(monkeypatch.setattr)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        s3, glue, dynamodb = boto3.client("s3"), boto3.client("glue"), boto3.client("dynamodb")
        s3.create_bucket(Bucket=RAW_BUCKET)
        s3.create_bucket(Bucket=LAKE_BUCKET)
        glue.create_database(DatabaseInput={"Name": os.environ["GLUE_DATABASE_NAME"]})
        for table in TABLES:
            create_table(dynamodb, os.environ[table], table)
        iam, lambda_client, sfn = boto3.client("iam"), boto3.client("lambda"), boto3.client("stepfunctions")
        role = iam.create_role(RoleName="workflow", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        substitutions = {"LakeBucketName": LAKE_BUCKET, "Partition": "aws"}
        substitutions.update(
            {
                name: str(value)
                for name, value in template()["Resources"]["CompactionStateMachine"]["Properties"][
                    "DefinitionSubstitutions"
                ].items()
                if isinstance(value, str)
            }
        )
        for step in STEPS:
            name = f"compaction-{step.lower()}"
            lambda_client.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role,
                Handler="app.lambda_handler",
                Code={"ZipFile": placeholder_zip()},
            )
            substitutions[f"{step}FunctionArn"] = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"
        handlers = {f"compaction-{step.lower()}": load_function(code).lambda_handler for step, code in STEPS.items()}
        definition = substitute((ROOT / "statemachines/compaction.asl.json").read_text(), substitutions)
        arn = sfn.create_state_machine(name="compaction", definition=definition, roleArn=role)["stateMachineArn"]
        fake = FakeAws(s3=s3, firehose=None, dynamodb=dynamodb, glue=glue)
        flow = Workflow(aws=fake, sfn=sfn, arn=arn, handlers=handlers)

        def invoke(name: str, event: Any) -> Any:
            flow.calls[name] = flow.calls.get(name, 0) + 1
            return flow.handlers[name](event, lambda_context)

        moto_bridge.route_lambda_invocations(invoke)
        yield flow
