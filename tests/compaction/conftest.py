"""The compaction state machine, executed by moto from statemachines/compaction.asl.json.

Lambda tasks reach the real handlers in-process (local.lambdas routes moto's
Lambda backend to them); retries' waits are skipped, nothing else is faked.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from event_collector.adapters.s3_objects import S3ObjectStore
from event_collector.fan_out import FanOut
from local.functions import load_function
from local.harness import read_compacted
from local.lambdas import route_moto_lambda_invocations
from local.provision import placeholder_zip
from local.statemachines import substitute
from local.template import ROOT
from tests.conftest import LAKE_BUCKET, RAW_BUCKET

ACCOUNT = "123456789012"
STEPS = {
    "Plan": "compaction_plan",
    "Compact": "compaction_compact",
    "Refresh": "compaction_refresh",
    "Report": "compaction_report",
}


@dataclass
class Workflow:
    s3: Any
    sfn: Any
    glue: Any
    arn: str
    handlers: dict[str, Callable[[Any, Any], Any]]
    calls: dict[str, int] = field(default_factory=dict)
    runs: int = 0

    def put_raw(self, key: str, events: list[dict[str, Any]]) -> None:
        body = gzip.compress(b"".join(json.dumps(e).encode() + b"\n" for e in events))
        self.s3.put_object(Bucket=RAW_BUCKET, Key=key, Body=body)
        FanOut(S3ObjectStore(self.s3), LAKE_BUCKET).process(RAW_BUCKET, key)

    def run(self, execution_input: dict[str, Any] | None = None) -> dict[str, Any]:
        from moto.stepfunctions.parser.utils import TMP_THREADS

        self.runs += 1
        arn = self.sfn.start_execution(
            stateMachineArn=self.arn, name=f"run-{self.runs}", input=json.dumps(execution_input or {})
        )["executionArn"]
        while any(thread.is_alive() for thread in TMP_THREADS):  # wait for moto's workers, no sleeping
            for thread in list(TMP_THREADS):
                thread.join(timeout=120)
        execution = self.sfn.describe_execution(executionArn=arn)
        output = json.loads(execution.get("output") or "{}")
        return {"status": execution["status"], "error": execution.get("error"), "output": output, "arn": arn}

    def compacted(self, event_type: str) -> list[dict[str, Any]]:
        return read_compacted(self.s3, LAKE_BUCKET, f"compacted/{event_type}/")

    def lake_listing(self, prefix: str) -> dict[str, str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=LAKE_BUCKET, Prefix=prefix)
        return {item["Key"]: item["ETag"] for page in pages for item in page.get("Contents", [])}


@pytest.fixture
def workflow(monkeypatch: pytest.MonkeyPatch, lambda_context: Any) -> Iterator[Workflow]:
    from moto.awslambda.models import LambdaFunction
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    monkeypatch.setattr(LambdaFunction, "_invoke_lambda", LambdaFunction._invoke_lambda)
    monkeypatch.setattr(LambdaSimpleBackend, "invoke", LambdaSimpleBackend.invoke)
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=lambda _: None))
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        s3, glue, dynamodb = boto3.client("s3"), boto3.client("glue"), boto3.client("dynamodb")
        s3.create_bucket(Bucket=RAW_BUCKET)
        s3.create_bucket(Bucket=LAKE_BUCKET)
        glue.create_database(DatabaseInput={"Name": os.environ["GLUE_DATABASE_NAME"]})
        dynamodb.create_table(
            TableName=os.environ["COMPACTION_STATE_TABLE_NAME"],
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        iam, lambda_client, sfn = boto3.client("iam"), boto3.client("lambda"), boto3.client("stepfunctions")
        role = iam.create_role(RoleName="workflow", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        substitutions = {}
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
        flow = Workflow(s3=s3, sfn=sfn, glue=glue, arn=arn, handlers=handlers)

        def invoke(name: str, event: Any) -> Any:
            flow.calls[name] = flow.calls.get(name, 0) + 1
            return flow.handlers[name](event, lambda_context)

        route_moto_lambda_invocations(invoke)
        yield flow
