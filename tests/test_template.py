"""The template and the code agree: handlers import, routes exist, samples work, docs are current."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from event_collector.aws.schemas_table import SchemasTable
from event_collector.compaction.contracts import CompactRequest, PlanRequest, RefreshRequest, ReportRequest
from event_collector.ingest.openapi import openapi_document
from event_collector.ingest.routes import DOCS_PATH, ROUTES
from event_collector.schemas.registration import Registered, register
from tests.conftest import api_request, basic, call, load_function
from tests.fakes.keys import DerivedKeys
from tools.openapi import openapi_json
from tools.template import ROOT, resources_of_type, template

FUNCTIONS = resources_of_type("AWS::Serverless::Function")


def api_events(function: dict) -> list[dict]:
    return [e["Properties"] for e in function["Properties"].get("Events", {}).values() if e["Type"] == "Api"]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_given_each_function_when_its_code_uri_and_handler_resolve_then_the_handler_is_callable(name):
    properties = FUNCTIONS[name]["Properties"]
    code_dir = ROOT / properties["CodeUri"]
    module_file, handler_name = properties["Handler"].rsplit(".", 1)

    assert (code_dir / f"{module_file}.py").is_file()
    module = load_function(code_dir.name)
    assert callable(getattr(module, handler_name))


def test_given_the_common_layer_when_packaged_then_the_shared_package_sits_under_python():
    layer = resources_of_type("AWS::Serverless::LayerVersion")["CommonLayer"]
    assert (ROOT / layer["Properties"]["ContentUri"] / "python" / "event_collector" / "__init__.py").is_file()
    assert {"Ref": "CommonLayer"} in template()["Globals"]["Function"]["Layers"]


def test_given_the_common_layer_build_when_run_then_it_ships_every_source_and_nothing_else(tmp_path):
    layer = resources_of_type("AWS::Serverless::LayerVersion")["CommonLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    source = ROOT / layer["Properties"]["ContentUri"]

    make = shutil.which("make") or "make"
    subprocess.run(
        [make, "-s", "-f", str(source / "Makefile"), "build-CommonLayer", f"ARTIFACTS_DIR={tmp_path}"],
        check=True,
        cwd=tmp_path,
    )

    shipped = {p.relative_to(tmp_path / "python") for p in (tmp_path / "python").rglob("*") if p.is_file()}
    sources = {p.relative_to(source / "python") for p in (source / "python" / "event_collector").rglob("*.py")}
    assert shipped == sources


@pytest.mark.parametrize("name", ["ArrowLayer", "WranglerLayer"])
def test_given_the_trimmed_layers_when_read_then_each_runs_the_one_shared_recipe(name):
    # SAM's build cache hashes a layer's own directory (following links): the recipe is linked into each.
    layer = resources_of_type("AWS::Serverless::LayerVersion")[name]
    source = ROOT / layer["Properties"]["ContentUri"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert (source / "pip-layer.mk").resolve() == ROOT / "layers" / "pip-layer.mk"
    assert f"build-{name}: pip-layer" in (source / "Makefile").read_text(encoding="utf-8")


def test_given_an_installed_package_when_trimmed_then_only_what_runs_stays_and_shared_objects_are_stripped(
    tmp_path,
):
    import markupsafe  # a small package with a shared object (the dev environment's, x86_64: llvm-strip reads any)

    layer = tmp_path / "python"
    shutil.copytree(Path(markupsafe.__file__).parent, layer / "markupsafe")
    compiled = next((layer / "markupsafe").glob("_speedups*.so"))
    for relative in ("markupsafe/tests/test_x.py", "markupsafe/include/x.h", "markupsafe/_x.pyx", "bin/script"):
        (layer / relative).parent.mkdir(parents=True, exist_ok=True)
        (layer / relative).write_text("x", encoding="utf-8")
    size = compiled.stat().st_size
    make = shutil.which("make") or "make"

    subprocess.run(
        [make, "-s", "-f", str(ROOT / "layers" / "pip-layer.mk"), "trim", f"LAYER_PYTHON={layer}"], check=True
    )

    left = {str(p.relative_to(layer)) for p in layer.rglob("*") if p.is_file()}
    assert not {"markupsafe/tests/test_x.py", "markupsafe/include/x.h", "markupsafe/_x.pyx", "bin/script"} & left
    assert "markupsafe/__init__.py" in left
    assert not any("__pycache__" in name for name in left)
    readelf = shutil.which("llvm-readelf") or "/usr/bin/llvm-readelf"
    sections = subprocess.run([readelf, "-S", str(compiled)], capture_output=True, text=True, check=True)
    assert ".symtab" not in sections.stdout
    assert compiled.stat().st_size < size
    probe = f"import sys; sys.path.insert(0, {str(layer)!r}); import markupsafe._speedups"
    subprocess.run([sys.executable, "-I", "-S", "-c", probe], check=True)  # still loads, stripped


LEAN = ("collector", "authorizer", "fan_out", "compaction_plan", "compaction_report", "api_gateway_logging_role")
WRANGLED = ("compaction_compact", "compaction_refresh")  # Glue and Athena through awswrangler


def test_given_the_template_when_read_then_exactly_the_wrangled_functions_carry_the_wrangler_layer():
    carrying = {
        Path(function["Properties"]["CodeUri"]).name
        for function in FUNCTIONS.values()
        if {"Ref": "WranglerLayer"} in function["Properties"].get("Layers", [])
    }
    assert carrying == set(WRANGLED)


@pytest.mark.parametrize(
    ("functions", "expected"),
    [(LEAN, "[]"), *(((name,), "['awswrangler', 'pandas', 'pyarrow']") for name in WRANGLED)],
)
def test_given_each_function_when_imported_then_only_compact_and_refresh_load_pandas_and_pyarrow(functions, expected):
    probe = (
        "import sys; from local.functions import load_function;"
        f"[load_function(name) for name in {functions!r}];"
        "print(sorted(m for m in ('pandas', 'awswrangler', 'pyarrow') if m in sys.modules))"
    )
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == expected


def test_given_the_api_events_when_compared_with_the_route_table_and_the_document_then_all_three_agree():
    declared = {(r["Path"], r["Method"].upper()) for r in api_events(FUNCTIONS["CollectorFunction"])}
    documented = {(path, method.upper()) for path, item in openapi_document("/")["paths"].items() for method in item}

    assert {(route.path, route.method) for route in ROUTES} == documented
    assert declared == documented | {(DOCS_PATH, "GET")}  # the document and Swagger UI: served, not documented


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: f"{route.method} {route.path}")
def test_given_each_documented_route_when_called_empty_then_it_answers_one_of_its_documented_statuses(
    collector, lambda_context, route
):
    status, _, body = call(collector, api_request(route.method, route.path), lambda_context)

    assert status in (*route.ok, *route.errors), body
    assert body.get("message") != "No such route"  # the route is served (GET /v1/regulations/{id} may answer 404)


def test_given_the_api_when_auth_is_declared_then_the_gateway_checks_exactly_the_routes_that_read():
    api = template()["Resources"]["Api"]["Properties"]
    assert api["Auth"]["DefaultAuthorizer"] == "TenantAuthorizer"
    public = {
        r["Path"] for r in api_events(FUNCTIONS["CollectorFunction"]) if r.get("Auth", {}).get("Authorizer") == "NONE"
    }
    # Open at the gateway: what is public, and what the collector authenticates itself (beacons).
    assert public == {route.path for route in ROUTES if route.auth != "gateway"} | {DOCS_PATH}


def test_given_gateway_responses_when_declared_then_each_has_cors_and_a_json_body():
    responses = template()["Resources"]["Api"]["Properties"]["GatewayResponses"]
    assert set(responses) >= {"DEFAULT_4XX", "DEFAULT_5XX", "UNAUTHORIZED", "ACCESS_DENIED"}
    for response in responses.values():
        assert "Access-Control-Allow-Origin" in response["ResponseParameters"]["Headers"]
        assert '"error"' in response["ResponseTemplates"]["application/json"]


@pytest.mark.parametrize("sample", sorted(p.name for p in (ROOT / "events").glob("collector-*.json")))
def test_given_each_sample_event_when_invoked_then_the_collector_answers_2xx(collector, aws, lambda_context, sample):
    event = json.loads((ROOT / "events" / sample).read_text())
    # The custom event's type, registered for the samples' tenant as `put-schema demo order_completed` would.
    document = json.loads((ROOT / "events/schema-order-completed.json").read_text())
    registry = SchemasTable(aws.dynamodb, os.environ["SCHEMAS_TABLE_NAME"])
    assert isinstance(register(registry, "demo", "type", "order_completed", document, 0), Registered)
    if "Authorization" in (event.get("headers") or {}):  # the samples' placeholder key, made valid here
        header = basic("demo", DerivedKeys.api_key_for("demo"))
        event["headers"]["Authorization"], event["multiValueHeaders"]["Authorization"] = header, [header]
    status, _, body = call(collector, event, lambda_context)
    assert status in (200, 202)  # POST /v1/regulations records a new request: 202
    if sample == "collector-post-custom-event.json":
        assert (body["accepted"], body["rejected"]) == (1, [])


def test_given_the_sample_authorizer_event_when_invoked_then_the_unknown_key_is_denied(authorizer, lambda_context):
    event = json.loads((ROOT / "events/authorizer-request.json").read_text())
    response = authorizer.lambda_handler(event, lambda_context)
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def test_given_the_committed_openapi_document_when_regenerated_then_it_is_unchanged():
    committed = Path(ROOT / "docs/openapi.json").read_text()
    assert committed == openapi_json(), "run `make openapi` and commit docs/openapi.json"


def test_given_the_sam_transform_when_applied_then_the_stack_has_no_dependency_cycle():
    from tools.sam import dependency_cycles, transformed_template

    document = transformed_template()

    assert "FanOutFunctionRole" in document["Resources"]  # SAM generated the roles, permissions, notifications
    assert dependency_cycles(document) == []


def test_given_a_cycle_through_generated_resources_when_checked_then_cfn_lint_s_graph_reports_it():
    from tools.sam import dependency_cycles, transformed_template

    document = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Runtime": "python3.13",
                    "Handler": "app.h",
                    "CodeUri": "functions/x",
                    "Policies": [{"S3ReadPolicy": {"BucketName": {"Ref": "Bucket"}}}],
                    "Events": {
                        "Up": {
                            "Type": "S3",
                            "Properties": {"Bucket": {"Ref": "Bucket"}, "Events": "s3:ObjectCreated:*"},
                        }
                    },
                },
            },
        },
    }

    cycle = dependency_cycles(transformed_template(document))

    assert ("Fn", "FnRole") in cycle  # bucket -> notification -> function -> role -> bucket


def test_given_the_fan_out_role_when_transformed_then_it_reads_raw_writes_lake_and_has_no_glue_access():
    from tools.sam import transformed_template

    role = transformed_template()["Resources"]["FanOutFunctionRole"]["Properties"]
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}

    assert "s3:GetObject" in actions
    assert "s3:PutObject" in actions
    assert "sqs:SendMessage" in actions  # the on-failure destination
    assert not any(action.startswith("glue:") for action in actions)
    assert "s3:DeleteObject" not in actions


def test_given_the_transformed_template_when_layers_merge_then_every_layer_is_built_from_this_repository():
    from tools.sam import transformed_template

    resources = transformed_template()["Resources"]
    functions = {name: r for name, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    layers = {
        name: [ref["Ref"][: -len("0123456789")] for ref in r["Properties"]["Layers"]] for name, r in functions.items()
    }

    # No managed layer ARN (their contents cannot be pinned): every layer is a resource of this stack.
    assert all(isinstance(ref, dict) for r in functions.values() for ref in r["Properties"]["Layers"])
    wrangled = ["CommonLayer", "DependenciesLayer", "ArrowLayer", "WranglerLayer"]
    assert layers.pop("CompactionCompactFunction") == wrangled
    assert layers.pop("CompactionRefreshFunction") == wrangled
    # Regulate rewrites Parquet with pyarrow alone: no pandas, no awswrangler (docs/privacy.md).
    assert layers.pop("CompactionRegulateFunction") == ["CommonLayer", "DependenciesLayer", "ArrowLayer"]
    assert all(order == ["CommonLayer", "DependenciesLayer"] for order in layers.values())


def test_given_two_stacks_in_one_account_when_transformed_then_no_resource_has_a_fixed_name():
    from tools.sam import transformed_template

    resources = transformed_template()["Resources"]
    schedule = next(r for r in resources.values() if r["Type"] == "AWS::Scheduler::Schedule")
    database = resources["GlueDatabase"]["Properties"]["DatabaseInput"]["Name"]
    log_group = resources["CompactionLogGroup"]["Properties"]["LogGroupName"]

    assert "Name" not in schedule["Properties"]  # CloudFormation names it, unique to the stack (tests/template)
    assert "Fn::If" in database
    assert "AWS::StackId" in json.dumps(database)  # the default name is unique to the stack
    assert log_group == {"Fn::Sub": "/aws/vendedlogs/states/${AWS::StackName}-compaction"}
    fixed = {
        name
        for name, r in resources.items()
        if r["Type"] != "AWS::Athena::NamedQuery"  # a label, not a physical name
        for key in ("Name", "FunctionName", "TableName", "QueueName", "TopicName", "BucketName", "StateMachineName")
        if isinstance(r.get("Properties", {}).get(key), str)
    }
    assert fixed == set()


def test_given_the_rest_api_when_transformed_then_it_has_only_the_configured_stage():
    from tools.sam import transformed_template

    stages = [r for r in transformed_template()["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage"]

    assert [stage["Properties"]["StageName"] for stage in stages] == [{"Ref": "StageName"}]


def test_given_every_alarm_when_it_fires_then_it_notifies_the_alarm_topic():
    resources = template()["Resources"]
    alarms = {name: r for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}

    assert len(alarms) >= 4
    assert all(r["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for r in alarms.values())
    assert resources["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"


def test_given_every_topic_an_alarm_notifies_when_encrypted_then_not_with_the_aws_managed_sns_key():
    # CloudWatch cannot publish to a topic under alias/aws/sns (its key policy cannot grant the service).
    resources = template()["Resources"]
    notified = {
        action["Ref"]
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        for action in r["Properties"].get("AlarmActions", []) + r["Properties"].get("OKActions", [])
    }

    assert notified
    for topic in notified:
        assert resources[topic]["Type"] == "AWS::SNS::Topic"
        assert resources[topic]["Properties"].get("KmsMasterKeyId") not in ("alias/aws/sns", "aws/sns")


def test_given_the_authorizer_fails_when_the_gateway_answers_then_it_is_a_retryable_503():
    resources = template()["Resources"]
    answers = resources["Api"]["Properties"]["GatewayResponses"]

    # An authorizer that raises or times out surfaces as one of these two, depending on the report read.
    for answer in (answers["AUTHORIZER_FAILURE"], answers["AUTHORIZER_CONFIGURATION_ERROR"]):
        assert answer["StatusCode"] == "503"
        assert answer["ResponseParameters"]["Headers"]["Retry-After"] == "'1'"
    # Its DynamoDB client may take two attempts of connect 1 s + read 2 s plus a back-off before failing.
    assert resources["AuthorizerFunction"]["Properties"]["Timeout"] > 2 * (1 + 2) + 1


def test_given_the_lake_layout_when_the_template_names_prefixes_then_they_are_the_layout_s():
    from event_collector.lake.layout import MAP_RESULTS_PREFIX, RAW_PREFIX, RUNS_ROOT

    resources = template()["Resources"]
    fan_out_filter = resources["FanOutFunction"]["Properties"]["Events"]
    raw_rules = [
        rule["Value"]
        for event in fan_out_filter.values()
        if event["Type"] == "S3"
        for rule in event["Properties"]["Filter"]["S3Key"]["Rules"]
    ]
    delivery = resources["DeliveryStream"]["Properties"]["ExtendedS3DestinationConfiguration"]
    expirations = {
        r["Prefix"] for r in resources["LakeBucket"]["Properties"]["LifecycleConfiguration"]["Rules"] if "Prefix" in r
    }

    assert raw_rules == [RAW_PREFIX]
    assert delivery["Prefix"].startswith(RAW_PREFIX)
    assert (
        resources["CompactionStateMachine"]["Properties"]["DefinitionSubstitutions"]["MapResultsPrefix"]
        == MAP_RESULTS_PREFIX
    )
    assert expirations == {f"{RUNS_ROOT}/", f"{MAP_RESULTS_PREFIX}/"}


def test_given_every_function_when_it_logs_then_its_group_has_a_retention_and_exists_with_it():
    resources = template()["Resources"]
    functions = resources_of_type("AWS::Serverless::Function")

    for name, function in functions.items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert resources[group]["Type"] == "AWS::Logs::LogGroup"
        assert resources[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert resources[group].get("Condition") == function.get("Condition"), name


def test_given_stack_deletion_when_planned_then_scratch_buckets_are_emptied_and_data_buckets_kept():
    resources = template()["Resources"]

    assert resources["EmptyAthenaResultsOnDelete"]["Properties"]["BucketName"] == {"Ref": "AthenaResultsBucket"}
    assert "DeletionPolicy" not in resources["AthenaResultsBucket"]
    assert resources["RawBucket"]["DeletionPolicy"] == resources["LakeBucket"]["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize(
    ("sample", "model"),
    [
        ("compaction-plan.json", PlanRequest),
        ("compaction-compact.json", CompactRequest),
        ("compaction-refresh.json", RefreshRequest),
        ("compaction-report.json", ReportRequest),
    ],
)
def test_given_the_compaction_samples_when_validated_then_each_is_its_step_s_contract(sample, model):
    model.model_validate_json((ROOT / "events" / sample).read_text())


@pytest.mark.parametrize("role", ["CollectorFunctionRole", "HttpCollectorFunctionRole"])
@pytest.mark.parametrize("mode", ["realtime", "delivered"])
def test_given_the_counting_mode_when_transformed_then_the_collector_writes_counters_only_when_it_counts(role, mode):
    from tools.intrinsics import Resolver
    from tools.sam import transformed_template

    resolver = Resolver(transformed_template(), "stack", "us-east-1", {"CountingMode": mode})
    policies = resolver.resolve(resolver.template["Resources"][role]["Properties"]["Policies"])
    statements = [s for policy in policies for s in policy["PolicyDocument"]["Statement"]]
    counters = resolver.arn("CountersTable")
    writes = [s for s in statements if s["Resource"] == counters and "dynamodb:UpdateItem" in str(s["Action"])]
    # Privacy requests put and delete items of their own table (tests/template/test_regulations.py).
    others = [s for s in statements if s["Resource"] != resolver.arn("RegulationsTable")]
    actions = {a for s in others for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}

    (update,) = writes
    leading = update.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
    assert leading == (None if mode == "realtime" else ["ratelimit#*"])  # realtime: every counter item
    assert "dynamodb:BatchGetItem" in actions  # which keys already count this hour
    assert not {"dynamodb:PutItem", "dynamodb:DeleteItem"} & actions
