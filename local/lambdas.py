"""The template's functions, run in-process: one warm "container" per function.

Built from the SAM-transformed template: each ``AWS::Lambda::Function`` (its
handler, code path, timeout, memory and its own resolved ``Environment``) and
each ``AWS::Lambda::EventInvokeConfig`` (retries, on-failure destination).
API routes call them synchronously; S3 notifications go through an async queue
with Lambda's retry policy and on-failure destination; Step Functions Lambda
tasks reach them through moto's Lambda backend (local/moto_bridge.py).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local.functions import load_function
from tools.intrinsics import Resolver
from tools.sam import code_path

log = logging.getLogger("local.lambdas")
DEFAULT_ASYNC_RETRIES = 2  # Lambda's default for asynchronous invocations


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class InjectedFunctionError(RuntimeError):
    """A failure the local mode's fault injection raised instead of running the handler."""


@dataclass
class LocalFunction:
    logical_id: str
    name: str
    arn: str
    code_name: str
    handler_name: str
    timeout: int
    memory: int
    environment: dict[str, str]
    max_async_retries: int = DEFAULT_ASYNC_RETRIES
    on_failure_queue: str | None = None  # queue name
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _handler: Callable[[Any, Any], Any] | None = None
    # Set by the local stack when fault injection is on: True means "fail this invocation".
    inject_error: Callable[[str], bool] = lambda _logical_id: False
    # Set by the local stack when quiet (no metric lines): the metrics an invocation added are dropped after it.
    discard_metrics: bool = False

    def load(self) -> None:
        """Import the function (its cold start), with only its own environment; once."""
        if self._handler is None:
            self._handler = getattr(load_function(self.code_name, self.environment), self.handler_name)

    def invoke(self, event: Any) -> Any:
        """One invocation at a time, like one warm Lambda container."""
        with self._lock:
            if self._handler is None:
                # Never imported here: the import swaps os.environ for the whole process, and other threads
                # serve requests by now (LocalFunctions.load_all runs before any of them starts).
                raise RuntimeError(f"{self.logical_id} was not loaded before serving (LocalFunctions.load_all)")
            if self.inject_error(self.logical_id):
                raise InjectedFunctionError(f"{self.logical_id}: injected failure")
            context = LambdaContext(self.name, self.memory, self.arn, self.timeout)
            try:
                return self._handler(event, context)
            finally:
                if self.discard_metrics:
                    discard_metrics()


def discard_metrics() -> None:
    """Drop the metrics the handlers added, as a flush would have, without printing them.

    With ``POWERTOOLS_METRICS_DISABLED`` (the quiet local mode), Powertools' flush at the end of each
    invocation (``log_metrics``) neither prints nor clears its metric set, which every ``Metrics`` of a
    process shares; ``add_metric`` then prints the set itself, whatever that variable says, each time one
    metric holds 100 values: a 3 KB EMF line every ~100 requests or fan-outs. Cleared after every
    invocation, the set only ever holds the values of the invocations running at that moment (one per
    function, a few values each)."""
    from aws_lambda_powertools import Metrics

    Metrics().clear_metrics()


class LocalFunctions:
    """Every ``AWS::Lambda::Function`` of the transformed template, by physical name and ARN."""

    def __init__(self, resolver: Resolver) -> None:
        self.by_name: dict[str, LocalFunction] = {}
        resources = resolver.template["Resources"]
        for logical_id, resource in resources.items():
            if resource["Type"] != "AWS::Lambda::Function" or not resolver.is_active(logical_id):
                continue
            properties = resource["Properties"]
            variables = resolver.resolve(properties.get("Environment", {}).get("Variables", {}))
            function = LocalFunction(
                logical_id=logical_id,
                name=resolver.physical_name(logical_id),
                arn=resolver.arn(logical_id),
                code_name=code_path(properties["Code"]).rstrip("/").rsplit("/", 1)[-1],
                handler_name=properties["Handler"].rsplit(".", 1)[1],
                timeout=int(resolver.resolve(properties.get("Timeout", 3))),
                memory=int(resolver.resolve(properties.get("MemorySize", 128))),
                environment={name: str(value) for name, value in variables.items()},
            )
            self.by_name[function.name] = function
        for logical_id, resource in resources.items():
            if resource["Type"] == "AWS::Lambda::EventInvokeConfig" and resolver.is_active(logical_id):
                self._configure_async(resolver, resource["Properties"])

    def _configure_async(self, resolver: Resolver, properties: dict[str, Any]) -> None:
        function = self.get(str(resolver.resolve(properties["FunctionName"])))
        function.max_async_retries = int(properties.get("MaximumRetryAttempts", DEFAULT_ASYNC_RETRIES))
        destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if destination:
            function.on_failure_queue = str(resolver.resolve(destination)).rsplit(":", 1)[-1]

    def load_all(self) -> None:
        """Import every function now, each once with only its own environment (local/functions.py).

        The local stack calls it before any of its threads serves a request (the AWS emulator, the
        gateway, the asynchronous invoker): each import empties and refills ``os.environ`` for the whole
        process, which a request being served at that moment would see."""
        for function in self.by_name.values():
            function.load()

    def get(self, name_or_arn: str) -> LocalFunction:
        name = name_or_arn.split(":function:")[-1].split(":")[0]
        return self.by_name[name]

    def by_logical_id(self, logical_id: str) -> LocalFunction:
        return next(f for f in self.by_name.values() if f.logical_id == logical_id)


class AsyncInvoker:
    """Asynchronous invocations (S3 notifications): a queue, retries, then the on-failure destination."""

    def __init__(self, functions: LocalFunctions, sqs_client: Any) -> None:
        self._functions = functions
        self._sqs = sqs_client
        self._queue: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="local-async-lambda", daemon=True)
        self.failures: list[dict[str, Any]] = []

    def start(self) -> None:
        self._thread.start()

    def submit(self, function_arn: str, event: Any) -> None:
        self._queue.put((function_arn, event))

    def drain(self) -> None:
        """Block until every submitted invocation finished (retries included)."""
        self._queue.join()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=10)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._invoke_with_retries(*item)
            finally:
                self._queue.task_done()

    def _invoke_with_retries(self, function_arn: str, event: Any) -> None:
        function = self._functions.get(function_arn)
        error = ""
        for attempt in range(function.max_async_retries + 1):
            try:
                function.invoke(event)
                return
            except Exception as exc:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
                error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                log.warning("async invocation of %s failed (attempt %d): %s", function.name, attempt + 1, error)
        record = {
            "version": "1.0",
            "requestContext": {
                "functionArn": function.arn,
                "condition": "RetriesExhausted",
                "approximateInvokeCount": function.max_async_retries + 1,
            },
            "requestPayload": event,
            "responsePayload": {"errorMessage": error},
        }
        self.failures.append(record)
        if function.on_failure_queue:
            url = self._sqs.get_queue_url(QueueName=function.on_failure_queue)["QueueUrl"]
            self._sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
        else:
            log.error("async invocation of %s failed and it has no on-failure destination: %s", function.name, error)
