"""`make cost`: dollars per million events, by line item, for 1, 20 and 500 events per request.

The pipeline runs for real under moto, in this process: the authorizer, the
collector, the fan-out on Firehose-sized raw objects, and an hour of
compaction (Plan, Compact per tenant, Refresh, Report). Every AWS call is
counted by operation (DynamoDB units and Firehose's billed bytes included),
every handler's CPU time is measured, everything it prints is measured as
log bytes; `bench/prices.py` prices a month and divides by its events.

The designs priced with the same measurements:

- **now**: what template.yaml deploys by default (its tracing and logging
  settings are read from it), with each API type and each ``CountingMode``:
  ``realtime`` (the default: the collector counts each request's events once
  Firehose took them) and ``delivered`` (the fan-out counts each raw object);
- **before** (issue 13's starting point): counters written by the collector
  on every request (two items per distinct key and per type), X-Ray on,
  Lambda's START/END/REPORT log lines, a metrics line per request.

What cannot be measured here is an assumption with a name (``Assumptions``,
``CALL_LATENCY``), printed with the figures; docs/cost.md explains each.

Run: ``make cost`` or ``.venv/bin/python bench/cost_model.py [--events-per-month 100000000]``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gzip
import json
import math
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]

from bench import prices  # noqa: E402
from event_collector.lake.layout import COMPACTED_ROOT, EVENTS_ROOT, RAW_PREFIX, raw_object_key  # noqa: E402

REGION = "us-east-1"
SECONDS_PER_MONTH = 30 * 24 * 3600
WORKLOADS = (1, 20, 500)


@dataclass(frozen=True)
class Assumptions:
    events_per_month: int = 100_000_000
    tenants: int = 10
    event_bytes: int = 1024  # the stored line of an event: "1 KB events"
    authorizer_cache_hit_ratio: float = 0.99  # a key per tenant, 300 s TTL: a miss per key every 5 minutes
    firehose_buffer_seconds: int = 300  # FirehoseBufferIntervalSeconds' default; its 64 MB bound is not reached
    platform_log_bytes: int = 330  # START, END and REPORT lines, when the function logs them
    xray_reservoir_per_second: float = 1.0  # X-Ray's default rule: 1 request a second, then 5 %
    xray_fixed_rate: float = 0.05
    custom_metrics: int = 20  # distinct EMF metric names x dimensions the functions emit
    alarms: int = 6
    lambda_mb_per_vcpu: int = 1769  # Lambda's CPU share grows with memory: 1,769 MB is one vCPU


# Wall time of one AWS call from Lambda in the same region (not measurable under moto), seconds.
CALL_LATENCY = {"firehose": 0.015, "dynamodb": 0.005, "s3": 0.020, "glue": 0.040, "athena": 0.200}
ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "event-collector",
    "POWERTOOLS_METRICS_NAMESPACE": "EventCollector",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "DELIVERY_STREAM_NAME": "cost-stream",
    "COUNTERS_TABLE_NAME": "cost-counters",
    "TENANT_KEYS_TABLE_NAME": "cost-keys",
    "COMPACTION_STATE_TABLE_NAME": "cost-state",
    "LAKE_BUCKET_NAME": "cost-lake",
    "GLUE_DATABASE_NAME": "cost_db",
    "COMPACTION_GRACE_MINUTES": "20",
    "COMPACT_MAX_CONCURRENCY": "10",
    "COUNTER_RETENTION_DAYS": "400",
    "COUNTER_KEYS_PER_HOUR": "1000",
    "DEDUP_WINDOW_DAYS": "1",
    "ATHENA_WORK_GROUP": "cost",
    "ATHENA_THRESHOLD_BYTES": "805306368",
    "CORS_ALLOW_ORIGIN": "*",
    "KEY_CACHE_SECONDS": "300",  # the collector's own key checks hit its cache here; misses priced below
    "COUNTING_MODE": "realtime",
    "FIREHOSE_BUFFER_INTERVAL_SECONDS": "300",
    "REGULATIONS_TABLE_NAME": "cost-regulations",
    "SUPPRESSION_CACHE_SECONDS": "60",
    "SCHEMAS_TABLE_NAME": "cost-schemas",
    "SCHEMA_CACHE_SECONDS": "60",
}
COUNTING_MODES = ("realtime", "delivered")
RAW_BUCKET = "cost-raw"
HOUR = datetime(2026, 11, 20, 10, tzinfo=UTC)
FUNCTIONS = (
    "authorizer",
    "collector",
    "fan_out",
    "compaction_plan",
    "compaction_compact",
    "compaction_refresh",
    "compaction_report",
)


# -- measuring -------------------------------------------------------------------------------------------


@dataclass
class Usage:
    """AWS usage of some invocations of one function, as measured."""

    invocations: int = 0
    cpu_seconds: float = 0.0
    io_seconds: float = 0.0
    log_bytes: int = 0
    calls: Counter[str] = field(default_factory=Counter)  # "service.Operation" -> calls
    dynamodb_write_units: float = 0.0
    dynamodb_read_units: float = 0.0
    firehose_billed_bytes: int = 0

    def scaled(self, factor: float) -> Usage:
        return Usage(
            invocations=round(self.invocations * factor),
            cpu_seconds=self.cpu_seconds * factor,
            io_seconds=self.io_seconds * factor,
            log_bytes=round(self.log_bytes * factor),
            calls=Counter({name: round(count * factor) for name, count in self.calls.items()}),
            dynamodb_write_units=self.dynamodb_write_units * factor,
            dynamodb_read_units=self.dynamodb_read_units * factor,
            firehose_billed_bytes=round(self.firehose_billed_bytes * factor),
        )


class Meter:
    """Counts every AWS call of clients made from the default boto3 session, into the current Usage."""

    def __init__(self, session: Any) -> None:
        self.current = Usage()
        session.events.register("provide-client-params.*.*", self._params)
        session.events.register("after-call.*.*", self._after)

    def _params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.endpoint_prefix
        usage = self.current
        usage.calls[f"{service}.{model.name}"] += 1
        usage.io_seconds += CALL_LATENCY.get(service, 0.02)
        if service == "firehose" and model.name == "PutRecordBatch":
            rounding = prices.FIREHOSE_RECORD_ROUNDING_BYTES
            usage.firehose_billed_bytes += sum(
                math.ceil(len(record["Data"]) / rounding) * rounding for record in params["Records"]
            )
        if service == "dynamodb":
            usage.dynamodb_write_units += write_units(model.name, params)

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.service_model.endpoint_prefix == "dynamodb":
            self.current.dynamodb_read_units += read_units(model.name, parsed)


def write_units(operation: str, params: dict[str, Any]) -> float:
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return 1.0  # every item here is under 1 KB; a failed condition still consumes the unit
    if operation == "BatchWriteItem":
        return float(sum(len(requests) for requests in params["RequestItems"].values()))
    return 0.0


def read_units(operation: str, parsed: dict[str, Any]) -> float:
    if operation == "GetItem":
        return 1.0  # strongly consistent, under 4 KB (a miss costs the same)
    if operation in ("Query", "Scan"):
        return max(1.0, math.ceil(len(json.dumps(parsed.get("Items", []))) / 4096))
    if operation == "BatchGetItem":
        return float(max(1, sum(len(items) for items in parsed.get("Responses", {}).values())))
    return 0.0


@contextlib.contextmanager
def captured_output() -> Iterator[list[int]]:
    """Everything written to stdout and stderr (the function's log lines), counted in bytes."""
    sizes = [0]
    with tempfile.TemporaryFile() as sink:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield sizes
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            sizes[0] = sink.seek(0, os.SEEK_END)


# -- the workload ------------------------------------------------------------------------------------------


def popular(rng: random.Random, choices: int) -> int:
    """A Zipf-like pick (weight 1/rank): a few pages, buttons and names get most of the traffic."""
    return min(choices - 1, int(choices ** rng.random()) - 1)


def sample_event(rng: random.Random, tenant_index: int, number: int, size: int) -> dict[str, Any]:
    kind = number % 3
    event: dict[str, Any]
    if kind == 0:
        event = {"event_type": "page_view", "url": f"https://shop.example/p/{popular(rng, 500)}"}
        event["session_id"] = f"s-{rng.randrange(10**6)}"
        event["useragent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"
    elif kind == 1:
        event = {"event_type": "button_click", "button_id": f"b-{popular(rng, 50)}"}
        event["session_id"] = f"s-{rng.randrange(10**6)}"
    else:
        event = {"event_type": "track", "name": f"Step {popular(rng, 100)}", "properties": {"plan": "pro"}}
    event["event_id"] = f"{tenant_index:02d}-{number:012d}"
    padding = size - 180 - len(json.dumps(event))  # the stored line adds the tenant and two times
    if padding > 0:  # words, not one repeated letter, so GZIP and Parquet compress it as they would real text
        text = " ".join(WORDS[popular(rng, len(WORDS))] for _ in range(padding // 6))[:padding]
        if event["event_type"] == "track":
            event["properties"]["note"] = text
        elif event["event_type"] == "page_view":
            event["referral_url"] = "https://ref.example/?q=" + text.replace(" ", "+")
        else:
            event["session_id"] += "-" + text.replace(" ", "-")[:900]
    return event


WORDS = [
    f"{consonant}{vowel}{ending}"
    for consonant in "bdfgklmnprstvz"
    for vowel in "aeiou"
    for ending in ("n", "r", "st", "lk", "m", "")
]


def counter_items(batch: list[dict[str, Any]]) -> int:
    """The items the original collector wrote per request: an hour and a total for each distinct key and
    for each type (issue 13 measured 4,000, 1,100 and 44 writes per 1,000 events this way)."""
    from event_collector.event_types import COUNTER_FIELDS

    keys = {(event["event_type"], event.get(COUNTER_FIELDS[event["event_type"]])) for event in batch}
    types = {event["event_type"] for event in batch}
    return 2 * (len(keys) + len(types))


class Pipeline:
    """Every function loaded as deployed (its environment), its clients counted by the Meter."""

    def __init__(self, assumptions: Assumptions) -> None:
        import boto3

        self.assumptions = assumptions
        self.boto3 = boto3
        boto3.setup_default_session(region_name=REGION)
        self.meter = Meter(boto3.DEFAULT_SESSION)
        self._resources()
        from local.functions import load_function

        per_mode = ("collector", "fan_out")
        self.modules = {name: load_function(name, ENVIRONMENT) for name in FUNCTIONS if name not in per_mode}
        # Each CountingMode's collector and fan-out, as a stack deployed with it would import them.
        self.by_mode = {
            mode: {
                name: load_function(name, {**ENVIRONMENT, "COUNTING_MODE": mode}, module_name=f"cost_{name}_{mode}")
                for name in per_mode
            }
            for mode in COUNTING_MODES
        }
        self._wire()

    def _resources(self) -> None:
        s3, dynamodb = self.boto3.client("s3"), self.boto3.client("dynamodb")
        for bucket in (RAW_BUCKET, ENVIRONMENT["LAKE_BUCKET_NAME"]):
            s3.create_bucket(Bucket=bucket)
        self.boto3.client("firehose").create_delivery_stream(
            DeliveryStreamName=ENVIRONMENT["DELIVERY_STREAM_NAME"],
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "BucketARN": f"arn:aws:s3:::{RAW_BUCKET}",
                "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                "Prefix": RAW_PREFIX,
            },
        )
        from tools.template import template

        resources = template()["Resources"]
        tables = {
            "COUNTERS_TABLE_NAME": "CountersTable",
            "TENANT_KEYS_TABLE_NAME": "TenantKeysTable",
            "COMPACTION_STATE_TABLE_NAME": "CompactionStateTable",
            "REGULATIONS_TABLE_NAME": "RegulationsTable",
            "SCHEMAS_TABLE_NAME": "SchemasTable",
        }
        for name, logical_id in tables.items():  # keys and indexes as template.yaml declares them
            declared = resources[logical_id]["Properties"]
            shape = {
                k: declared[k] for k in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes") if k in declared
            }
            dynamodb.create_table(TableName=ENVIRONMENT[name], BillingMode="PAY_PER_REQUEST", **shape)
        self.boto3.client("glue").create_database(DatabaseInput={"Name": ENVIRONMENT["GLUE_DATABASE_NAME"]})

    def _wire(self) -> None:
        """The request path's clients are lean HTTP clients in the cloud; here boto3 ones against moto,
        making the same calls (tests/event_collector/aws/test_json_client.py checks they answer alike)."""
        from event_collector.aws.tenant_keys_table import TenantKeysTable
        from event_collector.tenants.admin import TenantAdmin

        for modules in self.by_mode.values():
            collector = modules["collector"]
            built = collector.build(firehose=self.boto3.client("firehose"), dynamodb=self.boto3.client("dynamodb"))
            setattr(collector, "collector", built)  # noqa: B010 - the module's injectable collector
        keys = TenantKeysTable(self.boto3.client("dynamodb"), ENVIRONMENT["TENANT_KEYS_TABLE_NAME"])
        setattr(self.modules["authorizer"], "keys", keys)  # noqa: B010 - the module's injectable key lookup
        admin = TenantAdmin(keys, clock=lambda: int(time.time()))
        self.tenants = [f"tenant-{index:02d}" for index in range(self.assumptions.tenants)]
        self.keys = {}
        for tenant in self.tenants:
            admin.create_tenant(tenant)
            self.keys[tenant] = admin.issue_key(tenant).api_key

    def invoke(self, usage: Usage, function: str, event: Any, mode: str | None = None) -> Any:
        self.meter.current = usage
        context = SimpleNamespace(
            function_name=function,
            function_version="$LATEST",
            memory_limit_in_mb=512,
            invoked_function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:{function}",
            aws_request_id="cost",
            get_remaining_time_in_millis=lambda: 60_000,
        )
        with captured_output() as written:
            started = time.process_time()
            module = self.by_mode[mode][function] if mode else self.modules[function]
            result = module.lambda_handler(event, context)
            usage.cpu_seconds += time.process_time() - started
        usage.invocations += 1
        usage.log_bytes += written[0]
        return result


@dataclass
class RequestPath:
    authorizer: Usage
    collector: Usage
    events: int
    requests: int
    counter_items: int  # what the original collector would have written, for the "before" design
    collector_log_bytes_per_request_before: float


def request_path(pipeline: Pipeline, per_request: int, events: int, mode: str) -> RequestPath:
    """``events`` in requests of ``per_request`` through the authorizer and the collector of ``mode``."""
    from local.gateway.events import authorizer_event, proxy_event

    rng = random.Random(per_request)
    authorizer, collector = Usage(), Usage()
    items = requests = 0
    volume = pipeline.by_mode[mode]["collector"].collector.volume
    metric_lines = Usage()
    for number in range(0, events, per_request):
        tenant_index = (number // per_request) % len(pipeline.tenants)
        tenant = pipeline.tenants[tenant_index]
        size = pipeline.assumptions.event_bytes
        batch = [sample_event(rng, tenant_index, number + i, size) for i in range(per_request)]
        items += counter_items(batch)
        requests += 1
        header = "Basic " + base64.b64encode(f"{tenant}:{pipeline.keys[tenant]}".encode()).decode()
        auth = authorizer_event(method="POST", path="/v1/events", headers=[("Authorization", header)])
        assert pipeline.invoke(authorizer, "authorizer", auth)["policyDocument"]["Statement"][0]["Effect"] == "Allow"
        event = proxy_event(
            method="POST",
            path="/v1/events",
            headers=[("Content-Type", "application/json"), ("Authorization", header)],
            body=json.dumps({"events": batch}).encode(),
            authorizer={"tenant": tenant, "key_id": pipeline.keys[tenant].split(".")[0]},
        )
        usage = metric_lines if requests <= 20 else collector
        if requests <= 20:  # the "before" design printed a metrics line with every request: measure it
            volume.last_published = None
        writes_before = usage.calls["dynamodb.UpdateItem"]
        response = pipeline.invoke(usage, "collector", event, mode)
        assert response["statusCode"] == 200, response["body"]
        usage.io_seconds -= overlapped_write_seconds(usage.calls["dynamodb.UpdateItem"] - writes_before)
    per_request_before = metric_lines.log_bytes / max(1, metric_lines.invocations)
    for name in (
        "invocations",
        "cpu_seconds",
        "io_seconds",
        "firehose_billed_bytes",
        "dynamodb_write_units",
        "dynamodb_read_units",
    ):
        setattr(collector, name, getattr(collector, name) + getattr(metric_lines, name))
    collector.calls.update(metric_lines.calls)
    return RequestPath(authorizer, collector, events, requests, items, per_request_before)


def overlapped_write_seconds(writes: int) -> float:
    """The collector's counter writes run side by side (aws/counters_table.py: the types' totals, then up
    to 8 keys at a time), but the Meter adds each call's latency: the time that overlap saves."""
    if writes <= 1:
        return 0.0
    rounds = 1 + math.ceil((writes - 1) / 8)
    return (writes - rounds) * CALL_LATENCY["dynamodb"]


def stored_lines(events_count: int, received_at: datetime, seed: int, pipeline: Pipeline) -> bytes:
    """What Firehose delivers for one buffer: the collector's stored lines of mixed tenants and types."""
    from event_collector.ingest.validation import validate_batch

    rng = random.Random(seed)
    lines = []
    per_tenant = max(1, events_count // len(pipeline.tenants))
    for tenant_index, tenant in enumerate(pipeline.tenants):
        size = pipeline.assumptions.event_bytes
        batch = [sample_event(rng, tenant_index, seed * 10**7 + i, size) for i in range(per_tenant)]
        for start in range(0, len(batch), 500):
            validated = validate_batch(
                batch[start : start + 500], tenant=tenant, received_at=int(received_at.timestamp() * 1000)
            )
            lines += [accepted.line for accepted in validated.accepted]
    return b"".join(lines)


@dataclass
class LakeHour:
    fan_out: dict[str, Usage]  # by CountingMode: the same raw objects fanned out by each mode's fan-out
    steps: dict[str, Usage]
    transitions: int
    events: int
    stored_bytes: int  # raw GZIP + lake objects + compacted files, for an hour's events
    rollup: tuple[Usage, Usage]  # the daily rollup inside Compact, on a day's first and last run (rollup_share)


def lake_hour(pipeline: Pipeline, events_per_flush: int, flushes: int) -> LakeHour:
    """One hour: the fan-out on each Firehose buffer, then one compaction run."""
    from event_collector.compaction.contracts import PlanRequest, RunInput

    s3 = pipeline.boto3.client("s3")
    fan_out, raw_bytes, events = {mode: Usage() for mode in COUNTING_MODES}, 0, 0
    for flush in range(flushes):
        received = HOUR + timedelta(seconds=flush * 3600 // flushes)
        lines = stored_lines(events_per_flush, received, flush, pipeline)
        events += lines.count(b"\n")
        body = gzip.compress(lines)
        raw_bytes += len(body)
        key = raw_object_key(received, f"cost-stream-1-{received:%Y-%m-%d-%H-%M-%S}-{flush:04d}")
        s3.put_object(Bucket=RAW_BUCKET, Key=key, Body=body)  # Firehose's own PUT: one per flush, left out
        notification = {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Put",
                    "s3": {"bucket": {"name": RAW_BUCKET}, "object": {"key": key}},
                }
            ]
        }
        for mode in COUNTING_MODES:  # deterministic lake keys: the second run overwrites the first's objects
            result = pipeline.invoke(fan_out[mode], "fan_out", notification, mode)
            (report,) = result["objects"]
            assert (report["counter_writes"] > 0) == (mode == "delivered"), report
    steps = {name: Usage() for name in ("plan", "compact", "refresh", "report")}
    run_id, lake = "cost-run", ENVIRONMENT["LAKE_BUCKET_NAME"]
    request = PlanRequest(run_id=run_id, input=RunInput(cutoff=HOUR + timedelta(hours=2)))
    plan = pipeline.invoke(steps["plan"], "compaction_plan", request.model_dump(mode="json"))
    items = [item["Key"] for item in s3.list_objects_v2(Bucket=lake, Prefix=plan["items_prefix"])["Contents"]]
    steps["compact"].calls["s3.ListObjectsV2"] += 1  # the Map's ItemReader
    for item_key in items:
        work = {"item_key": item_key, "run_id": run_id, "cutoff": plan["cutoff"]}
        result = pipeline.invoke(steps["compact"], "compaction_compact", work)
        assert result["status"] == "ok", result
    steps["compact"].calls["s3.PutObject"] += 2  # the Map's ResultWriter: a manifest and a results file
    pipeline.invoke(steps["refresh"], "compaction_refresh", {"plan": plan})
    report = pipeline.invoke(steps["report"], "compaction_report", {"plan": plan})
    assert report["rows_out"] == events, report
    stored = raw_bytes + sum(
        item["Size"]
        for prefix in (f"{EVENTS_ROOT}/", f"{COMPACTED_ROOT}/")
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=lake, Prefix=prefix)
        for item in page.get("Contents", [])
    )
    # Plan, AnyWork, CompactTenants, Refresh, Report, AnyTenantFailed, Done; a child's start and its Compact.
    return LakeHour(fan_out, steps, 7 + 2 * len(items), events, stored, rollup_share(pipeline))


def rollup_share(pipeline: Pipeline) -> tuple[Usage, Usage]:
    """What a run's daily rollup costs, metered apart from the rest of Compact: ``roll_up_days`` (Compact's
    own) run again on every tenant's day, which writes the same file and items. The day is recomputed whole,
    so a run reads every compacted file of the day so far: measured on the day's first run (this hour's
    files) and on its last (24 hours' files: this hour's copied 23 times under other unit names, removed
    after). Cost grows linearly in between, so a day of hourly runs averages the two."""
    from event_collector.compaction.rollup import roll_up_days
    from event_collector.lake.layout import Day, compacted_type_prefix

    rollups = pipeline.modules["compaction_compact"].compaction.rollups
    s3, lake = pipeline.boto3.client("s3"), ENVIRONMENT["LAKE_BUCKET_NAME"]

    def measured() -> Usage:
        usage = Usage()
        pipeline.meter.current = usage
        with captured_output() as written:
            started = time.process_time()
            for tenant in pipeline.tenants:
                roll_up_days(rollups, tenant, [Day.of(HOUR)])
            usage.cpu_seconds += time.process_time() - started
        usage.log_bytes += written[0]
        return usage

    first = measured()
    pipeline.meter.current = Usage()  # the copies are the bench's, not the pipeline's
    files = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=lake, Prefix=compacted_type_prefix())
        for item in page.get("Contents", [])
    ]
    copies = []
    for hour in range(1, 24):
        for key in files:
            folder, name = key.rsplit("/", 1)
            copy = f"{folder}/{hour:032x}-{name.rsplit('-', 1)[1]}"
            s3.copy_object(Bucket=lake, Key=copy, CopySource={"Bucket": lake, "Key": key})
            copies.append(copy)
    last = measured()
    pipeline.meter.current = Usage()
    for start in range(0, len(copies), 1000):
        s3.delete_objects(Bucket=lake, Delete={"Objects": [{"Key": key} for key in copies[start : start + 1000]]})
    for tenant in pipeline.tenants:  # the rollup of this hour again, as the run left it
        roll_up_days(rollups, tenant, [Day.of(HOUR)])
    return first, last


# -- pricing -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Design:
    name: str
    api: str  # REST or HTTP
    tracing: bool
    platform_logs: bool
    counting: str  # CountingMode (realtime, delivered), or "before": issue 13's per-request counter items
    keys_in_collector: bool  # send routes check keys in the collector (issue 14), not in an authorizer invocation


def deployed_design(api: str, counting: str) -> Design:
    """What template.yaml deploys (tracing and log settings read from it) with this API and CountingMode."""
    from tools.template import template

    document = template()
    globals_ = document["Globals"]["Function"]
    tracing = document["Parameters"]["TracingMode"]["Default"] == "Active"
    system_level = globals_.get("LoggingConfig", {}).get("SystemLogLevel", "INFO")
    return Design(f"now, {api}, {counting}", api, tracing, system_level in ("DEBUG", "INFO"), counting, True)


BEFORE = Design("before (issue 13), REST", "REST", True, True, "before", False)


def memory_mb(function: str) -> int:
    from tools.sam import function_logical_id, transformed_template

    resource = transformed_template()["Resources"][function_logical_id(function)]
    return int(resource["Properties"].get("MemorySize", 128))


class Pricer:
    def __init__(self, assumptions: Assumptions, design: Design) -> None:
        self.assumptions = assumptions
        self.design = design
        self.lines: dict[str, dict[str, float]] = defaultdict(dict)

    def lambda_usage(self, stage: str, label: str, function: str, usage: Usage) -> None:
        memory = memory_mb(function)
        cpu_share = min(1.0, memory / self.assumptions.lambda_mb_per_vcpu)
        seconds = usage.cpu_seconds / cpu_share + usage.io_seconds + usage.invocations * 0.0005  # ms rounding
        self.lines[stage][f"Lambda {label}: invocations"] = usage.invocations * prices.LAMBDA_REQUEST.usd
        self.lines[stage][f"Lambda {label}: duration"] = seconds * memory / 1024 * prices.LAMBDA_ARM_GB_SECOND.usd
        platform = self.assumptions.platform_log_bytes if self.design.platform_logs else 0
        log_bytes = usage.log_bytes + usage.invocations * platform
        self.lines[stage][f"CloudWatch Logs ({label})"] = log_bytes / prices.GB * prices.LOGS_INGESTED_GB.usd
        s3_puts = sum(n for name, n in usage.calls.items() if name.split(".")[1] in S3_WRITE_CLASS)
        s3_gets = sum(n for name, n in usage.calls.items() if name.startswith("s3.")) - s3_puts
        self.lines[stage][f"S3 requests ({label})"] = s3_puts * prices.S3_PUT.usd + s3_gets * prices.S3_GET.usd
        self.lines[stage][f"DynamoDB ({label})"] = (
            usage.dynamodb_write_units * prices.DYNAMODB_WRITE_UNIT.usd
            + usage.dynamodb_read_units * prices.DYNAMODB_READ_UNIT.usd
        )
        glue = sum(n for name, n in usage.calls.items() if name.startswith("glue."))
        self.lines[stage][f"Glue catalog ({label})"] = glue * prices.GLUE_CATALOG_REQUEST.usd

    def xray_traces(self, requests: float) -> float:
        if not self.design.tracing:
            return 0.0
        reservoir = self.assumptions.xray_reservoir_per_second * SECONDS_PER_MONTH
        return min(requests, reservoir) + self.assumptions.xray_fixed_rate * max(0.0, requests - reservoir)

    def month(self, paths: dict[str, RequestPath], lake: LakeHour) -> dict[str, dict[str, float]]:
        a, design = self.assumptions, self.design
        # "before" counted per request with its own items (added below) and not in the fan-out.
        path = paths["delivered" if design.counting == "before" else design.counting]
        fan_out_mode = "realtime" if design.counting == "before" else design.counting
        to_month = a.events_per_month / path.events
        requests = path.requests * to_month
        api_price = prices.REST_API_REQUEST if design.api == "REST" else prices.HTTP_API_REQUEST
        self.lines["ingest"][f"API Gateway {design.api} API requests"] = requests * api_price.usd
        # A key check is the same decision code wherever it runs; it is measured in the authorizer and
        # paid on a cache miss: as an authorizer invocation before, inside the collector's own now.
        key_checks = path.authorizer.scaled(to_month * (1 - a.authorizer_cache_hit_ratio))
        collector = path.collector.scaled(to_month)
        if design.keys_in_collector:
            collector.cpu_seconds += key_checks.cpu_seconds
            collector.io_seconds += key_checks.io_seconds
            collector.dynamodb_read_units += key_checks.dynamodb_read_units
            collector.calls.update(key_checks.calls)
        else:
            self.lambda_usage("ingest", "authorizer", "authorizer", key_checks)
        if design.counting == "before":
            collector.dynamodb_write_units += path.counter_items * to_month
            collector.io_seconds += requests * CALL_LATENCY["dynamodb"]  # the writes ran side by side
            collector.log_bytes = round(path.collector_log_bytes_per_request_before * requests)
        self.lambda_usage("ingest", "collector", "collector", collector)
        self.lines["ingest"]["Firehose ingestion (records rounded up to 5 KB)"] = (
            collector.firehose_billed_bytes / prices.GB * prices.FIREHOSE_INGESTED_GB.usd
        )
        self.lines["ingest"]["X-Ray traces"] = self.xray_traces(requests) * prices.XRAY_TRACE.usd
        hours = a.events_per_month / lake.events
        fan_out = lake.fan_out[fan_out_mode].scaled(hours)
        self.lambda_usage("lake", "fan-out", "fan_out", fan_out)
        for name, usage in lake.steps.items():
            self.lambda_usage("compaction", name, f"compaction_{name}", usage.scaled(hours))
        self.lines["compaction"]["Step Functions transitions"] = (
            lake.transitions * hours * prices.STEP_FUNCTIONS_TRANSITION.usd
        )
        self.lines["compaction"]["EventBridge Scheduler"] = 720 * prices.SCHEDULER_INVOCATION.usd
        self.lines["fixed"]["CloudWatch custom metrics"] = a.custom_metrics * prices.CUSTOM_METRIC_MONTH.usd
        self.lines["fixed"]["CloudWatch alarms"] = a.alarms * prices.ALARM_MONTH.usd
        self.lines["storage (each month kept, not in the total)"]["S3 raw, lake and compacted"] = (
            lake.stored_bytes * hours / prices.GB * prices.S3_STORAGE_GB_MONTH.usd
        )
        return self.lines


S3_WRITE_CLASS = ("PutObject", "ListObjectsV2", "CopyObject", "CreateMultipartUpload", "UploadPart", "DeleteObjects")


def per_million(lines: dict[str, dict[str, float]], assumptions: Assumptions) -> tuple[float, dict[str, float]]:
    scale = 1_000_000 / assumptions.events_per_month
    stages = {stage: sum(items.values()) * scale for stage, items in lines.items()}
    total = sum(value for stage, value in stages.items() if not stage.startswith("storage"))
    return total, stages


def print_design(per_request: int, design: Design, lines: dict[str, dict[str, float]], a: Assumptions) -> float:
    total, stages = per_million(lines, a)
    scale = 1_000_000 / a.events_per_month
    print(f"\n{per_request} event(s)/request, {design.name}: USD per million 1 KB events")
    for stage, items in lines.items():
        print(f"  {stage}: {stages[stage]:.4f}")
        for item, cost in sorted(items.items(), key=lambda entry: -entry[1]):
            if cost * scale >= 0.00005:
                print(f"    {item:<58} {cost * scale:>9.4f}")
    print(f"  TOTAL: {total:.3f}")
    return total


def print_rollup(lake: LakeHour, a: Assumptions) -> None:
    """The daily rollup's share of Compact (issue 24): per hourly run and per million events."""
    per_run = []
    for usage in lake.rollup:
        pricer = Pricer(a, deployed_design("REST", "realtime"))
        pricer.lambda_usage("rollup", "rollup", "compaction_compact", usage)
        per_run.append(sum(pricer.lines["rollup"].values()))
    (first, last), mean = lake.rollup, sum(per_run) / 2
    print(
        f"  Daily rollup (daily_counts, inside Compact), per hourly run of {lake.events:,} events, {a.tenants} "
        f"tenants: {first.cpu_seconds:.3f} s CPU and {per_run[0]:.6f} USD on a day's first run, "
        f"{last.cpu_seconds:.3f} s and {per_run[1]:.6f} USD on its last (it rereads the day so far); "
        f"{mean * 1e6 / lake.events:.4f} USD per million events over a day of hourly runs"
    )
    for label, usage in (("first", first), ("last", last)):
        calls = ", ".join(f"{name} {count}" for name, count in sorted(usage.calls.items()))
        print(f"    AWS calls of the {label} run: {calls}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events-per-month", type=int, default=Assumptions.events_per_month)
    parser.add_argument("--sample-events", type=int, default=2000, help="events sent per workload")
    parser.add_argument("--buffer-seconds", type=int, default=Assumptions.firehose_buffer_seconds)
    parser.add_argument("--flushes", type=int, default=0, help="Firehose buffers simulated in the hour (0: all)")
    parser.add_argument("--summary", action="store_true", help="print only the summary table")
    args = parser.parse_args()
    a = replace(Assumptions(), events_per_month=args.events_per_month, firehose_buffer_seconds=args.buffer_seconds)
    os.environ.update(AWS_DEFAULT_REGION=REGION, AWS_ACCESS_KEY_ID="cost", AWS_SECRET_ACCESS_KEY="cost")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    per_flush = max(a.tenants, round(a.events_per_month / SECONDS_PER_MONTH * a.firehose_buffer_seconds))
    flushes = args.flushes or 3600 // a.firehose_buffer_seconds
    print("Assumptions: " + ", ".join(f"{f.name}={getattr(a, f.name)}" for f in fields(a)))
    print("AWS call latency (s): " + ", ".join(f"{name}={value}" for name, value in CALL_LATENCY.items()))
    print(f"Prices: us-east-1 list prices checked {prices.CHECKED} (bench/prices.py)")
    print(f"Lake: {per_flush:,} events per Firehose buffer, {flushes} buffers then one compaction run")
    designs = [BEFORE, *(deployed_design(api, mode) for api in ("REST", "HTTP") for mode in COUNTING_MODES)]
    totals: dict[tuple[int, str], float] = {}
    with mock_aws():
        pipeline = Pipeline(a)
        lake = lake_hour(pipeline, per_flush, flushes)
        for per_request in WORKLOADS:
            paths = {mode: request_path(pipeline, per_request, args.sample_events, mode) for mode in COUNTING_MODES}
            for design in designs:
                lines = Pricer(a, design).month(paths, lake)
                if args.summary:
                    totals[(per_request, design.name)] = per_million(lines, a)[0]
                else:
                    totals[(per_request, design.name)] = print_design(per_request, design, lines, a)
    print("\nSummary: USD per million 1 KB events (storage excluded)")
    print(f"  {'events/request':<16}" + "".join(f"{design.name:>26}" for design in designs))
    for per_request in WORKLOADS:
        row = "".join(f"{totals[(per_request, design.name)]:>26.3f}" for design in designs)
        print(f"  {per_request:<16}{row}")
    for per_request in WORKLOADS:
        for api in ("REST", "HTTP"):
            realtime = totals[(per_request, deployed_design(api, "realtime").name)]
            delivered = totals[(per_request, deployed_design(api, "delivered").name)]
            print(
                f"  {per_request} event(s)/request, {api}: real-time counts cost {realtime - delivered:+.3f} USD per "
                f"million events over delivered counts ({realtime / delivered:.2f}x)"
            )
    print_rollup(lake, a)
    low, high, source = prices.GAME_ANALYTICS_PIPELINE
    print(f"  For comparison: AWS Game Analytics Pipeline, as quoted in issue 13: {low:.2f}-{high:.2f} ({source})")


if __name__ == "__main__":
    main()
