"""The pipeline, function by function, in the stand-in runtime against a moto server."""

from __future__ import annotations

import base64
import copy
import gzip
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from event_collector.lake.layout import RAW_PREFIX
from local.faults import Faults
from tools.template import ROOT

from .build import BUILD_DIR, WORK_DIR, BuiltFunction, Layer, ParityFailure, built_functions, check_fit, host_layer
from .runtime import invoke, python_path, runtime_standins
from .wheels import check_wheels

EVENTS = ROOT / "events"
ORIGIN = "https://app.example"  # the samples' Origin, the publishable key's allowed origin
RATE_PER_MINUTE = 3


@dataclass
class Step:
    function: str
    sample: str
    patch: Callable[[Any, dict[str, Any]], Any] = lambda event, _: event
    check: Callable[[Any], str | None] = lambda _: None  # the answer; the list of answers when repeat > 1
    store_as: str | None = None
    repeat: int = 1  # invocations of one warm container (a rate limit's minute)
    faults: dict[str, int] | None = None  # armed on the moto server for this step only (local/faults.py)
    label: str = ""  # what the step shows, printed beside its sample
    logged: str | None = None  # a line the function must have logged
    # What the step left in moto, read with the rehearsal's own readers (``outputs``): None if as expected.
    verify: Callable[[Any, dict[str, Any]], str | None] = lambda response, outputs: None


@dataclass
class Rehearsal:
    python: str
    functions: dict[str, BuiltFunction]
    environment: Callable[[str], dict[str, str]]
    host_layers: dict[str, Layer]
    runtime_dir: Path
    results: list[tuple[str, str, float]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    modules: dict[str, dict[str, str]] = field(default_factory=dict)
    faults: Faults | None = None

    def run(self, step: Step) -> None:
        function = self.functions[step.function]
        layers = [self.host_layers[layer.logical_id] for layer in function.layers]
        for attempt in range(2):
            event = step.patch(json.loads((EVENTS / step.sample).read_text(encoding="utf-8")), self.outputs)
            if step.faults and self.faults:
                self.faults.arm(step.faults)
            started = time.perf_counter()
            try:
                outcome = invoke(
                    self.python,
                    function,
                    python_path(function, layers, self.runtime_dir),
                    event,
                    self.environment(step.function),
                    repeat=step.repeat,
                )
            finally:
                if step.faults and self.faults:
                    self.faults.arm(dict.fromkeys(step.faults, 0))
            seconds = time.perf_counter() - started
            # A rate limit holds within a minute: a run across a minute's end is run again (once, fresh key).
            if step.repeat == 1 or outcome.get("minutes", [0])[0] == outcome.get("minutes", [0])[-1] or attempt:
                break
        if outcome["python"] != [int(part) for part in function.runtime.removeprefix("python").split(".")]:
            raise ParityFailure(f"{step.function} ran on Python {outcome['python']}, not {function.runtime}")
        if outcome["phase"] != "done":
            raise ParityFailure(
                f"{step.function} with {step.sample} failed at {outcome['phase']}: {outcome['error']}\n"
                f"{outcome.get('traceback', '')}\n{outcome['log']}"
            )
        problem = step.check(outcome["responses"] if step.repeat > 1 else outcome["response"])
        problem = problem or step.verify(outcome["response"], self.outputs)
        if not problem and step.logged and step.logged not in outcome["log"]:
            problem = f"did not log {step.logged!r}"
        if problem:
            raise ParityFailure(f"{step.function} with {step.sample}{step.label}: {problem}\n{outcome['log']}")
        if step.store_as:
            self.outputs[step.store_as] = outcome["response"]
        self.modules[step.function] = outcome.get("modules", {})
        self.results.append((step.function, step.sample + step.label, seconds))


def _http_ok(response: Any) -> str | None:
    status = response.get("statusCode") if isinstance(response, dict) else None
    return None if status == 200 else f"answered {status}: {response}"


class _ResponseCatcher(BaseHTTPRequestHandler):
    """Where the custom resource answers CloudFormation (its pre-signed ResponseURL)."""

    bodies: ClassVar[list[dict[str, Any]]] = []

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        _ResponseCatcher.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        return None


def _answered(status: int, **headers: str) -> Callable[[Any], str | None]:
    def check(response: Any) -> str | None:
        found = response.get("statusCode") if isinstance(response, dict) else None
        if found != status:
            return f"answered {found}, not {status}: {response}"
        sent = {name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()}
        wrong = {name: sent.get(name) for name, value in headers.items() if sent.get(name) != value}
        return f"headers {wrong}, not {headers}" if wrong else None

    return check


def _counted(field: str, expected: int) -> Callable[[Any], str | None]:
    """A count read right after the posts (before any fan-out): real-time counts include every one."""

    def check(response: Any) -> str | None:
        problem = _http_ok(response)
        if problem:
            return problem
        found = json.loads(response["body"]).get(field)
        return None if found == expected else f"{field} is {found} right after the posts, not {expected}"

    return check


def _stored_all(count: int) -> Callable[[Any], str | None]:
    def check(response: Any) -> str | None:
        body = json.loads(response.get("body") or "null")
        found = (response["statusCode"], body and body.get("accepted"), body and body.get("rejected"))
        return None if found == (200, count, []) else f"answered {found}"

    return check


def _with_authorization(event: Any, value: str, origin: str | None = None) -> Any:
    event = copy.deepcopy(event)
    for name, header in (("Authorization", value), ("Origin", origin)):
        event["headers"].pop(name, None)
        event["multiValueHeaders"].pop(name, None)
        if header is not None:
            event["headers"][name] = header
            event["multiValueHeaders"][name] = [header]
    return event


def _basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def collector_steps(collector: str) -> list[Step]:
    """Every feature path of the request path through one collector (tests/functions/test_deployed_wiring.py
    drives the same in-process): a secret key, every count route read at once, a rate-limited key, a
    publishable key and its Origin, Segment's routes with a write key, gzip, and DynamoDB failing after
    Firehose took the events."""

    # Each collector sends as a tenant of its own, so each one's counts are its own posts' alone.
    def mine(outputs: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = outputs["tenants"][collector]
        return found

    def with_key(event: Any, outputs: dict[str, Any]) -> Any:
        return _with_authorization(event, _basic(mine(outputs)["tenant"], mine(outputs)["api_key"]), ORIGIN)

    def as_tenant(event: Any, outputs: dict[str, Any]) -> Any:
        event = copy.deepcopy(event)
        authorizer = event["requestContext"]["authorizer"]
        event["requestContext"]["authorizer"] = {**authorizer, "tenant": mine(outputs)["tenant"]}
        return event

    def rate_limited(event: Any, outputs: dict[str, Any]) -> Any:
        return _with_authorization(event, _basic(mine(outputs)["tenant"], mine(outputs)["rate_limited_keys"].pop()))

    def publishable(origin: str) -> Callable[[Any, dict[str, Any]], Any]:
        return lambda event, outputs: _with_authorization(event, _basic(mine(outputs)["publishable_key"]), origin)

    def write_key(event: Any, outputs: dict[str, Any]) -> Any:
        return _with_authorization(event, _basic(mine(outputs)["api_key"]))

    def gzipped(event: Any, outputs: dict[str, Any]) -> Any:
        event = write_key(event, outputs)
        event["body"] = base64.b64encode(gzip.compress(event["body"].encode())).decode()
        event["isBase64Encoded"] = True
        event["headers"]["Content-Encoding"] = "gzip"
        event["multiValueHeaders"]["Content-Encoding"] = ["gzip"]
        return event

    def custom_event(event: Any, outputs: dict[str, Any]) -> Any:
        # The sample's order, as an event of the type this tenant registered (type names are the stack's).
        event = with_key(event, outputs)
        body = json.loads(event["body"])
        body["events"][0]["event_type"] = mine(outputs)["custom_type"]
        event["body"] = json.dumps(body)
        return event

    def lists_own_type(response: Any) -> str | None:
        types = json.loads(response.get("body") or "{}").get("types", {})
        found = {name: entry.get("version") for name, entry in types.items()}
        return None if response["statusCode"] == 200 and list(found.values()) == [1] else f"listed {found}"

    def limit_holds(responses: Any) -> str | None:
        statuses = [response["statusCode"] for response in responses]
        retry = (responses[-1].get("multiValueHeaders") or {}).get("Retry-After")
        return None if statuses == [200, 200, 200, 429] and retry else f"answered {statuses}, Retry-After {retry}"

    return [
        Step(collector, "collector-get-health.json", check=_http_ok),
        Step(collector, "collector-post-events.json", with_key, _answered(200, **{"Access-Control-Allow-Origin": "*"})),
        # A tenant's own type: its schema compiled by jsonschema-rs from the Dependencies layer, the line typed.
        Step(collector, "collector-post-custom-event.json", custom_event, _stored_all(1), label=" (own type)"),
        Step(collector, "collector-get-schemas.json", as_tenant, lists_own_type),
        Step(collector, "collector-post-page-view.json", with_key, _http_ok),
        Step(collector, "collector-post-button-click.json", with_key, _http_ok),
        # The three posts above hold two page views of https://example.com/ and two clicks of "buy".
        Step(collector, "collector-get-counts.json", as_tenant, _counted("total", 2)),
        # The same two page views by day: today is read from the real-time counters (no rollup yet).
        Step(collector, "collector-get-counts-daily.json", as_tenant, _counted("total", 2)),
        Step(collector, "collector-get-button-click-count.json", as_tenant, _counted("count", 2)),
        Step(collector, "collector-get-page-view-count.json", as_tenant, _counted("count", 2)),
        Step(collector, "collector-post-events.json", rate_limited, limit_holds, repeat=4, label=" (rate limit 3)"),
        Step(
            collector,
            "collector-post-events.json",
            publishable(ORIGIN),
            _answered(200, **{"Access-Control-Allow-Origin": ORIGIN}),
            label=" (publishable, its origin)",
        ),
        Step(
            collector,
            "collector-post-events.json",
            publishable("https://elsewhere.example"),
            _answered(403),
            label=" (publishable, another origin)",
        ),
        Step(collector, "collector-post-segment-batch.json", write_key, _http_ok, label=" (write key)"),
        Step(collector, "collector-post-segment-batch.json", gzipped, _http_ok, label=" (gzip)"),
        Step(
            collector,
            "collector-post-events.json",
            with_key,
            _http_ok,  # the events are stored: 200, the counting failure logged and metered
            faults={"dynamodb_throttles": 1000},
            label=" (DynamoDB failing after Firehose)",
            logged="Counting failed after Firehose accepted the events",
        ),
        # A privacy request through the authorizer's tenant (an unsuppress of a user never suppressed: applied
        # as stored, so it leaves Regulate's count alone), recorded, then found as stored when asked again.
        Step(collector, "collector-post-regulations.json", as_tenant, _answered(202), label=" (recorded)"),
        Step(collector, "collector-post-regulations.json", as_tenant, _answered(200), label=" (asked again)"),
    ]


def steps(names: dict[str, str], catcher_url: str) -> list[Step]:
    """The pipeline, in order; each sample is patched only where it must name this run's resources."""

    def with_key(event: Any, outputs: dict[str, Any]) -> Any:
        return _with_authorization(event, _basic(outputs["tenant"], outputs["api_key"]))

    def raw_object(event: Any, outputs: dict[str, Any]) -> Any:
        event = copy.deepcopy(event)
        record = event["Records"][0]["s3"]
        record["bucket"]["name"] = names["RawBucket"]
        record["object"]["key"] = outputs["list_raw"]()[0]
        return event

    def custom_raw_object(event: Any, outputs: dict[str, Any]) -> Any:
        # The raw object holding acme's own type (the first one holds its built-in events): both are compacted.
        event = copy.deepcopy(event)
        marker = b'"event_type":"order_completed"'
        (key,) = [key for key in outputs["list_raw"]() if marker in outputs["read_raw"](key)]
        event["Records"][0]["s3"]["bucket"]["name"] = names["RawBucket"]
        event["Records"][0]["s3"]["object"]["key"] = key
        return event

    def planned(event: Any, outputs: dict[str, Any]) -> Any:
        (item_key,) = outputs["list_items"](outputs["plan"]["items_prefix"])  # what the Map's ItemReader lists
        return {**event, "item_key": item_key, "cutoff": outputs["plan"]["cutoff"]}

    def with_plan(event: Any, outputs: dict[str, Any]) -> Any:
        return {**event, "plan": outputs["plan"]}

    def deletion_asked(event: Any, outputs: dict[str, Any]) -> Any:
        outputs["request_deletion"]("acme", "u-1")
        return {**event, "plan": outputs["plan"]}

    def answered_here(event: Any, _: dict[str, Any]) -> Any:
        return {**event, "ResponseURL": catcher_url}

    def role_set(response: Any, _: dict[str, Any]) -> str | None:
        # moto's account starts without a CloudWatch Logs role: the stack's role is set, and CloudFormation told.
        answer = _ResponseCatcher.bodies[-1] if _ResponseCatcher.bodies else {}
        found = (answer.get("Status"), answer.get("Data", {}).get("Outcome"))
        return None if found == ("SUCCESS", "set") else f"CloudFormation was answered {answer or 'nothing'}"

    def deletion(event: Any, _: dict[str, Any]) -> Any:
        event = copy.deepcopy(event)
        event["ResponseURL"] = catcher_url
        event["ResourceProperties"]["BucketName"] = names["AthenaResultsBucket"]
        return event

    def registered_compacted(response: Any, outputs: dict[str, Any]) -> str | None:
        # awswrangler, in the Wrangler layer, registered each compacted type's, the ledger's and the daily
        # rollup's day in Glue; the rollup's items for the API are in the counters table.
        tables = [*response["event_types"], "compaction_ledger", "daily_counts"]
        missing = [table for table in tables if not outputs["glue_partitions"](table)]
        if missing:
            return f"no Glue partitions for {missing}"
        unrolled = [t for t in response["event_types"] if not outputs["rollups"](response["tenant"], t)]
        if unrolled:
            return f"no daily rollup items for {unrolled}"
        # acme's own type: a typed table, its columns following events/schema-order-completed.json.
        columns = outputs["glue_columns"]("order_completed")
        expected = {"total": "bigint", "placed_at": "timestamp", "shipping": "struct<city:string,express:boolean>"}
        wrong = {name: columns.get(name) for name, kind in expected.items() if columns.get(name) != kind}
        return f"order_completed's Glue columns: {wrong}" if wrong else None

    def registered_raw(response: Any, outputs: dict[str, Any]) -> str | None:
        # Refresh's awswrangler registered the raw hours it was handed, and Glue lists them.
        listed = sum(len(outputs["glue_partitions"](f"{t}_raw")) for t in response["raw_tables"])
        expected = response["raw_partitions_registered"]
        return None if expected and listed == expected else f"Glue lists {listed} raw partitions: {response}"

    def allowed(response: Any) -> str | None:
        effect = response["policyDocument"]["Statement"][0]["Effect"]
        return None if effect == "Allow" and response["context"]["tenant"] else f"policy says {effect}"

    return [
        Step("AuthorizerFunction", "authorizer-request.json", with_key, allowed),
        # The REST and HTTP APIs each get a collector (same code, payload format 1.0): both are rehearsed.
        *collector_steps("CollectorFunction"),
        *collector_steps("HttpCollectorFunction"),
        Step(
            "FanOutFunction",
            "fan-out-s3-put.json",
            raw_object,
            lambda r: None if r["objects"] and r["objects"][0]["lines_out"] else f"nothing fanned out: {r}",
        ),
        Step(
            "FanOutFunction",
            "fan-out-s3-put.json",
            custom_raw_object,
            lambda r: None if r["objects"] and r["objects"][0]["lines_out"] else f"nothing fanned out: {r}",
            label=" (a tenant's own type)",
        ),
        Step(
            "CompactionPlanFunction",
            "compaction-plan.json",
            check=lambda r: None if r["items"] == 1 else f"not one tenant planned: {r}",
            store_as="plan",
        ),
        Step(
            "CompactionCompactFunction",
            "compaction-compact.json",
            planned,
            lambda r: None if r["status"] == "ok" and r["rows_out"] else f"not compacted: {r}",
            store_as="compacted",
            verify=registered_compacted,
        ),
        # A user's deletion, asked once the collectors stored their events (Segment's batch names "u-1").
        Step(
            "CompactionRegulateFunction",
            "compaction-regulate.json",
            deletion_asked,
            lambda r: None if (r["applied"], r["failed"]) == (1, 0) and r["objects_rewritten"] else f"not applied: {r}",
        ),
        Step("CompactionRefreshFunction", "compaction-refresh.json", with_plan, verify=registered_raw),
        Step(
            "CompactionReportFunction", "compaction-report.json", with_plan, lambda r: None if r["ok"] == 1 else str(r)
        ),
        Step("ApiGatewayLoggingRoleFunction", "api-gateway-logging-role-create.json", answered_here, verify=role_set),
        Step("EmptyBucketFunction", "empty-bucket-delete.json", deletion),
    ]


def check_every_function_rehearsed(functions: dict[str, BuiltFunction], pipeline: list[Step]) -> None:
    """A function the template builds but no step invokes would ship untested: refuse to pass."""
    missing = sorted(set(functions) - {step.function for step in pipeline})
    if missing:
        raise ParityFailure(f"no rehearsal step imports and invokes {', '.join(missing)} (tools/parity/rehearsal.py)")


def rehearse(python: str, build_dir: Path = BUILD_DIR) -> Rehearsal:
    from local.moto_bridge import MotoServer
    from tools.intrinsics import Resolver
    from tools.sam import transformed_template

    functions = built_functions(build_dir)
    check_fit(functions.values())
    layers = {layer.logical_id: layer for function in functions.values() for layer in function.layers}
    check_wheels(layers.values())  # what deploys, before the rehearsal swaps in this machine's builds
    host_layers = {name: host_layer(layer, WORK_DIR / "layers" / name, python) for name, layer in layers.items()}
    runtime_dir = runtime_standins(WORK_DIR / "runtime")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    faults = Faults()  # AWS's own failures, answered by the moto server (local/faults.py)
    lake = Resolver(transformed_template(), "parity", "us-east-1").physical_name("LakeBucket")
    server = MotoServer("127.0.0.1", 0, faults.middleware(lake))
    server.start()
    catcher = ThreadingHTTPServer(("127.0.0.1", 0), _ResponseCatcher)
    threading.Thread(target=catcher.serve_forever, daemon=True).start()
    try:
        names, environment, seeded = provision(server.port)
        rehearsal = Rehearsal(python, functions, environment, host_layers, runtime_dir, outputs=seeded, faults=faults)
        pipeline = steps(names, f"http://127.0.0.1:{catcher.server_address[1]}/response")
        check_every_function_rehearsed(functions, pipeline)
        for step in pipeline:
            rehearsal.run(step)
        if not _ResponseCatcher.bodies or _ResponseCatcher.bodies[-1]["Status"] != "SUCCESS":
            raise ParityFailure(f"the custom resource did not answer SUCCESS: {_ResponseCatcher.bodies}")
        return rehearsal
    finally:
        catcher.shutdown()
        server.stop()


def provision(port: int) -> tuple[dict[str, str], Callable[[str], dict[str, str]], dict[str, Any]]:
    """Create the template's data resources in moto and one tenant with a key; return names and environments."""
    import boto3

    from event_collector.aws.tenant_keys_table import TenantKeysTable
    from event_collector.tenants.admin import TenantAdmin
    from local.provision import Clients, provision_data_resources
    from tools.intrinsics import Resolver
    from tools.sam import transformed_template

    endpoint = f"http://127.0.0.1:{port}"
    session = boto3.Session(aws_access_key_id="parity", aws_secret_access_key="parity", region_name="us-east-1")
    services = ("s3", "dynamodb", "firehose", "sqs", "glue", "iam", "lambda", "stepfunctions")
    made = {name: session.client(name, endpoint_url=endpoint) for name in services}
    clients = Clients(**{("lambda_" if name == "lambda" else name): client for name, client in made.items()})
    # moto's Firehose writes each put at once (as in the local stack): no buffer for a deletion to wait for.
    resolver = Resolver(
        transformed_template(), "parity", "us-east-1", parameter_overrides={"FirehoseBufferIntervalSeconds": "0"}
    )
    provision_data_resources(resolver, clients)
    keys = TenantKeysTable(clients.dynamodb, resolver.physical_name("TenantKeysTable"))
    admin = TenantAdmin(keys, lambda: int(time.time()))
    tenants: dict[str, dict[str, Any]] = {}
    for collector, tenant in (("CollectorFunction", "acme"), ("HttpCollectorFunction", "globex")):
        admin.create_tenant(tenant)
        tenants[collector] = {
            "tenant": tenant,
            "api_key": admin.issue_key(tenant).api_key,
            # One per run of the rate-limit step (a run across a minute's end is run again with the next).
            "rate_limited_keys": [admin.issue_key(tenant, rate_per_minute=RATE_PER_MINUTE).api_key for _ in range(2)],
            "publishable_key": admin.issue_key(tenant, scope="publishable", origins=(ORIGIN,)).api_key,
        }
    # Each collector's tenant registers a type of its own, as `event-collector-admin put-schema` does.
    from event_collector.aws.schemas_table import SchemasTable
    from event_collector.schemas.registration import Registered, register

    registry = SchemasTable(clients.dynamodb, resolver.physical_name("SchemasTable"))
    document = json.loads((ROOT / "events/schema-order-completed.json").read_text())
    for collector, custom_type in (("CollectorFunction", "order_completed"), ("HttpCollectorFunction", "invoice")):
        tenant = str(tenants[collector]["tenant"])
        if not isinstance(register(registry, tenant, "type", custom_type, document, 0), Registered):
            raise ParityFailure(f"could not register {custom_type} for {tenant}")
        tenants[collector]["custom_type"] = custom_type
    resources = resolver.template["Resources"]
    names = {
        logical_id: resolver.physical_name(logical_id)
        for logical_id, resource in resources.items()
        if resource["Type"] in ("AWS::S3::Bucket", "AWS::DynamoDB::Table")
    }

    def environment(logical_id: str) -> dict[str, str]:
        # Exactly the function's own variables, as the SAM transform merged them with Globals.
        own = resources[logical_id]["Properties"].get("Environment", {}).get("Variables", {})
        variables = {name: str(value) for name, value in resolver.resolve(own).items()}
        return {
            **variables,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "parity",
            "AWS_SECRET_ACCESS_KEY": "parity",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": logical_id,
            "POWERTOOLS_TRACE_DISABLED": "true",
        }

    def list_raw() -> list[str]:
        listed = clients.s3.list_objects_v2(Bucket=names["RawBucket"], Prefix=RAW_PREFIX).get("Contents", [])
        return [item["Key"] for item in listed]

    def read_raw(key: str) -> bytes:
        body: bytes = clients.s3.get_object(Bucket=names["RawBucket"], Key=key)["Body"].read()
        return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body

    def glue_columns(table: str) -> dict[str, str]:
        found = clients.glue.get_table(DatabaseName=resolver.physical_name("GlueDatabase"), Name=table)
        return {column["Name"]: column["Type"] for column in found["Table"]["StorageDescriptor"]["Columns"]}

    def list_items(prefix: str) -> list[str]:
        listed = clients.s3.list_objects_v2(Bucket=names["LakeBucket"], Prefix=prefix).get("Contents", [])
        return [item["Key"] for item in listed]

    def glue_partitions(table: str) -> list[list[str]]:
        database = resolver.physical_name("GlueDatabase")
        pages = clients.glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table)
        return [partition["Values"] for page in pages for partition in page["Partitions"]]

    def rollups(tenant: str, event_type: str) -> list[Any]:
        from event_collector.aws.counters_table import CountersTable

        counters = CountersTable(clients.dynamodb, resolver.physical_name("CountersTable"))
        return counters.rollups(tenant, event_type, "2000-01-01", "2099-12-31")

    def request_deletion(tenant: str, user_id: str) -> None:
        # As `event-collector-admin delete-user` does (the collector's route is rehearsed above).
        from event_collector.aws.regulations_table import RegulationsTable
        from event_collector.privacy.requests import RegulationBody, RegulationRequests

        requests = RegulationRequests(RegulationsTable(clients.dynamodb, resolver.physical_name("RegulationsTable")))
        requests.ask(tenant, RegulationBody(type="delete", user_id=user_id), source="cli")

    seeded = {
        "tenant": "acme",
        "api_key": tenants["CollectorFunction"]["api_key"],
        "tenants": tenants,
        "list_raw": list_raw,
        "list_items": list_items,
        "read_raw": read_raw,
        "glue_columns": glue_columns,
        "glue_partitions": glue_partitions,
        "rollups": rollups,
        "request_deletion": request_deletion,
    }
    return names, environment, seeded
