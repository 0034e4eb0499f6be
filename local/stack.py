"""Start and stop the whole local stack: emulator, resources, handlers, gateway, demo tenants."""

from __future__ import annotations

import base64
import json
import logging
import os
import shlex
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from local import moto_bridge
from local.config import FAKE_CREDENTIALS, LocalConfig
from local.dashboard import dashboard_routes
from local.faults import Faults, without_sdk_backoff
from local.gateway.app import LocalGateway, LocalGatewayApp, LocalRequest, LocalRoute
from local.gateway.model import Answer, ApiModel, json_error
from local.lambdas import AsyncInvoker, LocalFunctions
from local.landing import landing_routes
from local.preflight import write_atomically
from local.provision import Clients, data_store_names, provision
from local.rejections import RejectionLog
from local.sam_env import linux_note, sam_local_info, start_api_command, write_sam_environment
from local.state import SavedState, StateKeeper, expected_header, fingerprint, load_state
from tools.intrinsics import Resolver
from tools.sam import transformed_template
from tools.template import ROOT

log = logging.getLogger("local.stack")
DEMO_TENANTS = ("demo", "demo-two")
# Local only: waits until every queued asynchronous invocation (fan-out) finished.
DRAIN_PATH = "/__local/drain"
# Local only: runs the compaction state machine once and answers when it finished.
COMPACT_PATH = "/__local/compact"
# Local and test only (LOCAL_FAULT_INJECTION=1): arms faults (local/faults.py).
FAULTS_PATH = "/__local/faults"
# Local only: saves the state now (local/state.py) and answers where and how big.
SNAPSHOT_PATH = "/__local/snapshot"
# The JS SDK, as a deployment would serve it from a CDN.
SDK_PATH = "/sdk/collector.js"
SAMPLE_EVENT = {"event_type": "page_view", "url": "https://example.com/", "session_id": "s-1"}
SERVICES = ("s3", "dynamodb", "firehose", "sqs", "glue", "iam", "lambda", "stepfunctions")


@dataclass
class LocalStack:
    config: LocalConfig
    started_at: float = field(default_factory=time.perf_counter)
    info: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    ready_seconds: float = 0.0
    # The answer of the last compaction run through this stack (/__local/compact or the schedule), with its time.
    last_compaction: dict[str, Any] | None = None
    # Called with the name of each phase of the start (the tests hold the start there: local/__main__.py).
    hold: Callable[[str], None] = lambda phase: None
    _wrote_stack_file: bool = False
    _wrote_sam_env_file: bool = False
    _compaction_lock: threading.Lock = field(default_factory=threading.Lock)
    # The saved state this stack started from (None: afresh); set once its state may be saved over it.
    restored: SavedState | None = None
    _state_ready: bool = False
    _stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        moto_bridge.check_version()
        self.faults: Faults | None = Faults() if self.config.fault_injection else None
        self.resolver = Resolver(
            transformed_template(),
            self.config.stack_name,
            self.config.region,
            parameter_overrides={
                "ApiType": self.config.api_type,
                "CountingMode": self.config.counting_mode,
                # The local Firehose (moto) writes each put at once: nothing to wait for before a deletion.
                "FirehoseBufferIntervalSeconds": "0",
                **self._schema_cache(),
            },
        )
        self._aws_environment()
        # Refused (one line) before anything starts, and read whole before anything is replaced.
        self._state_fingerprint = fingerprint(data_store_names(self.resolver))
        self.restored = load_state(self.config.saved_state_file, self._state_fingerprint)
        self.state = StateKeeper(self.config.saved_state_file, self._state_header)
        self.functions = LocalFunctions(self.resolver)
        if self.config.quiet:
            for function in self.functions.by_name.values():
                function.environment["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # the handlers log warnings and errors only
                function.discard_metrics = True  # and print no metric line (local/lambdas.py)
        if self.faults:
            without_sdk_backoff()
            for function in self.functions.by_name.values():
                function.inject_error = self.faults.take_function_error
        # Every handler imported now, once, while this is the only thread: an import swaps os.environ for the
        # whole process (each function sees only its own variables), so it must never overlap a request
        # being served. Their clients only read the endpoint here; none calls AWS at import.
        self.functions.load_all()
        self.hold("functions")
        self._start_emulator()
        self.hold("emulator")
        import boto3  # after the endpoint is in the environment

        made = {name: boto3.client(name, region_name=self.config.region) for name in SERVICES}
        self.clients = Clients(**{("lambda_" if name == "lambda" else name): client for name, client in made.items()})
        self.async_invoker = AsyncInvoker(self.functions, self.clients.sqs)
        moto_bridge.route_lambda_invocations(lambda name, event: self.functions.get(name).invoke(event))
        moto_bridge.route_s3_notifications(self._notify)
        if self.restored:
            moto_bridge.restore_backends(self.restored.backends)
            self.last_compaction = self.restored.header.get("last_compaction")
        self.skipped = provision(self.resolver, self.clients, data_restored=self.restored is not None)
        self.hold("provision")
        self.async_invoker.start()
        tenants = self._restored_tenants(self.restored.header) if self.restored else self._create_demo_tenants()
        self._tenants = tenants
        self._state_ready = True
        if not self.restored:
            self.state.save()  # the demo keys survive even a crash right after this start
        threading.Thread(target=self._snapshot_on_schedule, name="local-snapshots", daemon=True).start()
        self.rejections = RejectionLog(self._tenant_of_key)
        local_routes: dict[tuple[str, str], LocalRoute] = {
            ("GET", SDK_PATH): self._sdk,
            ("POST", DRAIN_PATH): self._drain,
            ("POST", COMPACT_PATH): self._compact,
            ("POST", SNAPSHOT_PATH): self._snapshot,
        }
        local_routes.update(dashboard_routes(self))
        local_routes.update(landing_routes(lambda: self.info))
        if self.faults:
            local_routes[("POST", FAULTS_PATH)] = self._arm_faults
        app = LocalGatewayApp(
            ApiModel(self.resolver, self.functions, self.config.authorizer_ttl),
            local_routes,
            port=lambda: self.gateway.port,
            drop_response=lambda: self._fault("drop_responses"),
            observe=self.rejections.observe,
        )
        self.gateway = LocalGateway(self.config.api_port, app, self.config.read_timeout)
        self.gateway.start()
        self.hold("gateway")
        self.info = self._stack_info(tenants)
        self._wait_until_ready()
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        self._wrote_sam_env_file = True  # before writing: a stop while it is written removes a partial one too
        write_sam_environment(self.resolver, self.config)
        self._wrote_stack_file = True  # before writing: a signal between the write and this line leaves none
        write_atomically(self.config.stack_file, json.dumps(self.info, indent=2) + "\n")
        if self.config.compaction_interval:
            threading.Thread(target=self._compact_on_schedule, name="local-compaction-schedule", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        if hasattr(self, "gateway"):
            self.gateway.stop()
        if hasattr(self, "async_invoker"):
            self.async_invoker.stop()
        if hasattr(self, "emulator"):
            self.emulator.stop()
        self.save_state()
        if self._wrote_stack_file:  # only ever our own (the state directory's lock makes it ours)
            self.config.stack_file.unlink(missing_ok=True)
        if self._wrote_sam_env_file:  # it names this stack's resources, gone with it
            self.config.sam_env_file.unlink(missing_ok=True)

    def save_state(self) -> None:
        """The clean stop's snapshot (local/state.py): only a stack that finished restoring or creating its
        data stores saves them, so a start interrupted half-way never replaces a good state."""
        if self._state_ready:
            self.state.save()

    # -- steps ---------------------------------------------------------------
    def _aws_environment(self) -> None:
        """Where every client of this process (the handlers' included) finds AWS: the emulator."""
        os.environ.update(FAKE_CREDENTIALS)
        os.environ["AWS_DEFAULT_REGION"] = self.config.region
        os.environ["AWS_ENDPOINT_URL"] = self.config.aws_endpoint_url
        os.environ["MOTO_PORT"] = str(self.config.aws_port)  # where moto's Step Functions send Lambda tasks
        os.environ.pop("AWS_PROFILE", None)

    def _start_emulator(self) -> None:
        lake = self.resolver.physical_name("LakeBucket")
        faults = self.faults.middleware(lake) if self.faults else None

        def middleware(app: Any) -> Any:
            return self.state.guard(faults(app) if faults else app)

        docker = (self.config.docker_address,) if self.config.docker_address else ()
        self.emulator = moto_bridge.MotoServer("127.0.0.1", self.config.aws_port, middleware, also_on=docker)
        self.emulator.start()
        # Lambda tasks never need Docker (they are dispatched in-process); let moto run state machines.
        request = urllib.request.Request(
            f"{self.config.aws_endpoint_url}/moto-api/config",
            data=json.dumps(
                {"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}
            ).encode(),
            method="POST",
        )
        urllib.request.urlopen(request, timeout=5).close()

    def _notify(self, function_arn: str, event: Any) -> None:
        """An S3 notification: an asynchronous invocation (delivered twice when the fault is armed)."""
        self.async_invoker.submit(function_arn, event)
        if self._fault("duplicate_s3_events"):  # S3 delivers at least once
            self.async_invoker.submit(function_arn, event)

    def _schema_cache(self) -> dict[str, str]:
        seconds = self.config.schema_cache_seconds
        return {} if seconds is None else {"SchemaCacheSeconds": str(seconds)}

    def _tenant_admin(self) -> Any:
        from event_collector.aws.tenant_keys_table import TenantKeysTable
        from event_collector.tenants.admin import TenantAdmin

        table = self.resolver.physical_name("TenantKeysTable")
        return TenantAdmin(TenantKeysTable(self.clients.dynamodb, table), clock=lambda: int(time.time()))

    def _dashboard_origins(self) -> tuple[str, str]:
        return f"http://127.0.0.1:{self.config.api_port}", f"http://localhost:{self.config.api_port}"

    def _create_demo_tenants(self) -> list[dict[str, str]]:
        admin = self._tenant_admin()
        tenants = []
        for tenant in DEMO_TENANTS:
            admin.create_tenant(tenant)
            secret = admin.issue_key(tenant).api_key
            publishable = admin.issue_key(tenant, scope="publishable", origins=self._dashboard_origins()).api_key
            tenants.append({"tenant": tenant, "api_key": secret, "publishable_key": publishable})
        return tenants

    def _restored_tenants(self, header: dict[str, Any]) -> list[dict[str, str]]:
        """The saved demo tenants and keys; on another LOCAL_API_PORT, new publishable keys for the dashboard
        (theirs name the page's origin, which has that port)."""
        tenants: list[dict[str, str]] = header["tenants"]
        if header.get("api_port") != self.config.api_port:
            admin = self._tenant_admin()
            for entry in tenants:
                origins = self._dashboard_origins()
                entry["publishable_key"] = admin.issue_key(
                    entry["tenant"], scope="publishable", origins=origins
                ).api_key
        return tenants

    def _stack_info(self, tenants: list[dict[str, str]]) -> dict[str, Any]:
        resources = self.resolver.template["Resources"]

        def name_of(logical_id: str) -> str | None:
            return self.resolver.physical_name(logical_id) if logical_id in resources else None

        state_machines = [k for k, v in resources.items() if v["Type"] == "AWS::StepFunctions::StateMachine"]
        glue = [k for k, v in resources.items() if v["Type"] == "AWS::Glue::Database"]
        return {
            "api_url": self.config.api_url,
            "aws_endpoint_url": self.config.aws_endpoint_url,
            "region": self.config.region,
            "stack_name": self.config.stack_name,
            "api_type": self.config.api_type,
            "counting_mode": self.config.counting_mode,
            "raw_bucket": name_of("RawBucket"),
            "lake_bucket": name_of("LakeBucket"),
            "delivery_stream": name_of("DeliveryStream"),
            "counters_table": name_of("CountersTable"),
            "keys_table": name_of("TenantKeysTable"),
            "regulations_table": name_of("RegulationsTable"),
            "schemas_table": name_of("SchemasTable"),
            "compaction_state_table": name_of("CompactionStateTable"),
            "fan_out_function": name_of("FanOutFunction"),
            "fan_out_dead_letter_queue_url": (
                self.resolver.queue_url("FanOutDeadLetterQueue") if "FanOutDeadLetterQueue" in resources else None
            ),
            "glue_database": name_of(glue[0]) if glue else None,
            "state_machine_arn": self.resolver.arn(state_machines[0]) if state_machines else None,
            "tenant": tenants[0]["tenant"],
            "api_key": tenants[0]["api_key"],
            "tenants": tenants,
            "demo_url": f"{self.config.api_url}/demo",  # kept for old scripts: it leads to the dashboard
            "dashboard_url": f"{self.config.api_url}/dashboard",
            "sam_local": sam_local_info(self.config),
            "pid": os.getpid(),
        }

    def _wait_until_ready(self) -> None:
        """The first accepted request: an authenticated call through the authorizer and the collector."""
        credentials = base64.b64encode(f"{self.info['tenant']}:{self.info['api_key']}".encode()).decode()
        request = urllib.request.Request(
            f"{self.config.api_url}/v1/counts?event_type=page_view",
            headers={"Authorization": f"Basic {credentials}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status != 200:
                raise RuntimeError(f"local stack answered {response.status} to its readiness probe")
        self.ready_seconds = time.perf_counter() - self.started_at

    def _tenant_of_key(self, key_id: str) -> str | None:
        from event_collector.aws.tenant_keys_table import TenantKeysTable
        from event_collector.errors import CollectorError

        if not key_id:
            return None
        table = TenantKeysTable(self.clients.dynamodb, self.resolver.physical_name("TenantKeysTable"))
        try:
            record = table.find_key(key_id)
        except CollectorError:
            return None
        return record.tenant if record else None

    def _fault(self, name: str) -> bool:
        return self.faults.take(name) if self.faults else False

    def _arm_faults(self, request: LocalRequest) -> Answer:
        assert self.faults is not None
        try:
            settings = json.loads(request.body or b"{}")
            state = self.faults.arm(settings) if isinstance(settings, dict) else None
        except (ValueError, TypeError):
            state = None
        if state is None:
            return json_error(400, "bad_request", "send a JSON object of fault counters")
        return 200, {"Content-Type": "application/json"}, json.dumps(state).encode()

    def _compact(self, request: LocalRequest) -> Answer:
        """Start one execution and wait for moto's worker threads to finish it (no polling)."""
        try:
            options = json.loads(request.body or b"{}")
        except ValueError:
            return json_error(400, "bad_request", "send a JSON object")
        arn = self.info.get("state_machine_arn")
        if not arn or not isinstance(options, dict):
            return json_error(400, "bad_request", "no compaction state machine, or options are not an object")
        problem = _compact_options_problem(options)
        if problem:
            return json_error(400, "bad_request", problem)
        now = datetime.now(UTC)
        cutoff = (
            None
            if options.get("closed_hours_only")
            else options.get("cutoff") or (now + timedelta(hours=1)).isoformat()
        )
        with self._compaction_lock:
            execution = self.clients.stepfunctions.start_execution(
                stateMachineArn=arn, name=f"local-{now:%Y%m%dT%H%M%S%f}", input=json.dumps({"cutoff": cutoff})
            )
            moto_bridge.wait_for_executions()
            described = self.clients.stepfunctions.describe_execution(executionArn=execution["executionArn"])
        output = json.loads(described.get("output") or "{}")
        answer = {"status": described["status"], "report": output.get("report"), "error": described.get("error")}
        self.last_compaction = {**answer, "finished_at": datetime.now(UTC).isoformat(timespec="seconds")}
        self.state.save(timeout=10)  # a snapshot point: what a run compacted survives a crash after its answer
        return 200, {"Content-Type": "application/json"}, json.dumps(answer, default=str).encode()

    def _compact_on_schedule(self) -> None:
        """LOCAL_COMPACTION_INTERVAL: the EventBridge schedule's stand-in (closed hours only, like the cloud)."""
        assert self.config.compaction_interval
        while not self._stopping.wait(self.config.compaction_interval):
            status, _, body = self._compact(LocalRequest(b'{"closed_hours_only": true}', {}))
            log.info("scheduled compaction: %s", body.decode() if status == 200 else status)

    def _state_header(self) -> dict[str, Any]:
        return {
            **expected_header(self._state_fingerprint),
            "tenants": self._tenants,
            "api_port": self.config.api_port,
            "last_compaction": self.last_compaction,
        }

    def _snapshot(self, _: LocalRequest) -> Answer:
        saved = self.state.save(timeout=10)
        if saved is None:
            return json_error(503, "busy", "the AWS emulator had requests in flight for 10 s; try again")
        return 200, {"Content-Type": "application/json"}, json.dumps(saved).encode()

    def _snapshot_on_schedule(self) -> None:
        """Every LOCAL_SNAPSHOT_SECONDS, a snapshot if the emulator received a write since the last one."""
        while not self._stopping.wait(self.config.snapshot_seconds):
            if self.state.changed:
                self.state.save(timeout=self.config.snapshot_seconds)

    def _sdk(self, _: LocalRequest) -> Answer:
        """The JS SDK (clients/js/collector.js), loadable as a module from any page."""
        script = (ROOT / "clients" / "js" / "collector.js").read_bytes()
        headers = {
            "Content-Type": "text/javascript; charset=utf-8",
            "Access-Control-Allow-Origin": "*",
            "Cache-Control": "no-cache",
        }
        return 200, headers, script

    def _drain(self, _: LocalRequest) -> Answer:
        self.async_invoker.drain()
        failures = [record["responsePayload"]["errorMessage"] for record in self.async_invoker.failures]
        return 200, {"Content-Type": "application/json"}, json.dumps({"async_failures": failures}).encode()

    def banner(self) -> str:
        info = self.info
        return "\n".join(
            [
                f"Local event collector ready in {self.ready_seconds:.1f} s (no Docker, "
                + (
                    f"the AWS emulator also on {self.config.docker_address} for sam local)"
                    if self.config.docker_address
                    else "nothing leaves 127.0.0.1)"
                ),
                f"  start here  {info['api_url']}/      (dashboard, API docs, commands to try)",
                f"  API         {info['api_url']}      dashboard: {info['dashboard_url']}",
                f"  AWS (moto)  {info['aws_endpoint_url']}",
                f"  tenant      {info['tenant']}   key {info['api_key']}",
                f"  details     {self.config.stack_file}",
                f"  state       {self._state_line()}",
                "",
                "Send an event:",
                f"  curl -u '{info['tenant']}:{info['api_key']}' -H 'Content-Type: application/json' \\",
                f"    {info['api_url']}/v1/events \\",
                "    -d '" + json.dumps({"events": [SAMPLE_EVENT]}) + "'",
                "",
                "The functions in Lambda containers instead, against this stack (Docker): `make sam-local`, i.e.",
                f"  {shlex.join(start_api_command(self.config, self.config.api_type))}",
                *(f"  {note}" for note in [linux_note(self.config)] if note),
                "",
                "Ctrl-C stops everything.",
            ]
        )

    def _state_line(self) -> str:
        where = self.config.saved_state_file
        if self.restored:
            saved_at = datetime.fromtimestamp(self.restored.header["saved_at"], UTC).isoformat(timespec="seconds")
            return f"restored from {where} (saved {saved_at}); `make local-reset` starts afresh"
        return f"new, kept in {where} across restarts; `make local-reset` starts afresh"


def _compact_options_problem(options: dict[str, Any]) -> str | None:
    """What is wrong with /__local/compact's options, or None: ``closed_hours_only`` (a boolean) and
    ``cutoff`` (ISO 8601 with a time zone) are the only ones."""
    unknown = sorted(set(options) - {"closed_hours_only", "cutoff"})
    if unknown:
        return f"unknown option(s) {', '.join(unknown)}: closed_hours_only and cutoff are the options"
    if not isinstance(options.get("closed_hours_only", False), bool):
        return "closed_hours_only must be true or false"
    cutoff = options.get("cutoff")
    if cutoff is None:
        return None
    try:
        parsed = datetime.fromisoformat(cutoff) if isinstance(cutoff, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        return "cutoff must be an ISO 8601 time with a time zone, e.g. 2026-11-26T12:00:00+00:00"
    return None
