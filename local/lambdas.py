"""The template's functions, run in-process: one warm "container" per function.

API routes call them synchronously; S3 notifications go through an async
queue with Lambda's retry policy and on-failure destination; Step Functions
Lambda tasks reach them through moto's Lambda backend, which is patched here
to dispatch to the real handlers instead of Docker.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .functions import load_function
from .intrinsics import Resolver

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
    max_async_retries: int
    on_failure_queue_url: str | None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _handler: Callable[[Any, Any], Any] | None = None
    # Set by the local stack when fault injection is on: True means "fail this invocation".
    inject_error: Callable[[str], bool] = lambda _logical_id: False

    def load(self) -> None:
        self._handler = getattr(load_function(self.code_name), self.handler_name)

    def invoke(self, event: Any) -> Any:
        """One invocation at a time, like one warm Lambda container; imported on first use (a cold start)."""
        with self._lock:
            if self._handler is None:
                self.load()
            assert self._handler is not None
            if self.inject_error(self.logical_id):
                raise InjectedFunctionError(f"{self.logical_id}: injected failure")
            context = LambdaContext(self.name, self.memory, self.arn, self.timeout)
            return self._handler(event, context)


def _merged(*values: dict[str, Any] | None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for value in values:
        merged.update(value or {})
    return merged


class LocalFunctions:
    """Every ``AWS::Serverless::Function`` of the template, by physical name and ARN."""

    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver
        self.by_name: dict[str, LocalFunction] = {}
        template = resolver.template
        function_globals = template.get("Globals", {}).get("Function", {})
        self.environment: dict[str, str] = {}
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            properties = _merged(function_globals, resource["Properties"])
            variables = _merged(
                function_globals.get("Environment", {}).get("Variables"),
                resource["Properties"].get("Environment", {}).get("Variables"),
            )
            self.environment.update({k: str(v) for k, v in resolver.resolve(variables).items()})
            handler_name = properties["Handler"].rsplit(".", 1)[1]
            invoke_config = properties.get("EventInvokeConfig", {})
            destination = invoke_config.get("DestinationConfig", {}).get("OnFailure", {})
            queue_url = None
            if destination.get("Type") == "SQS":
                queue_url = resolver.queue_url(destination["Destination"]["Fn::GetAtt"][0])
            function = LocalFunction(
                logical_id=logical_id,
                name=resolver.physical_name(logical_id),
                arn=resolver.arn(logical_id),
                code_name=properties["CodeUri"].rstrip("/").split("/")[-1],
                handler_name=handler_name,
                timeout=int(resolver.resolve(properties.get("Timeout", 3))),
                memory=int(resolver.resolve(properties.get("MemorySize", 128))),
                max_async_retries=int(invoke_config.get("MaximumRetryAttempts", DEFAULT_ASYNC_RETRIES)),
                on_failure_queue_url=queue_url,
            )
            self.by_name[function.name] = function

    def export_environment(self) -> None:
        """Handlers read their configuration at import, so set it before loading any."""
        os.environ.update(self.environment)

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
        if function.on_failure_queue_url:
            queue_name = function.on_failure_queue_url.rsplit("/", 1)[-1]
            url = self._sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
            self._sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
        else:
            log.error("async invocation of %s failed and it has no on-failure destination: %s", function.name, error)


def route_moto_lambda_invocations(invoke: Callable[[str, Any], Any]) -> None:
    """Make moto's Lambda backends call ``invoke(function_name, event)`` instead of Docker or a canned reply.

    Covers both of moto's backends (with and without ``use_docker``), so Step
    Functions Lambda tasks reach the real handlers. A handler's exception
    becomes a function error, as Lambda reports it.
    """
    from moto.awslambda.models import LambdaFunction
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke_in_process(self: Any, event: Any = None) -> tuple[str, bool, str]:
        try:
            result = invoke(self.function_name, event if event is not None else {})
        except Exception as exc:  # noqa: BLE001 - reported to the caller as a function error, like Lambda
            payload = {"errorMessage": str(exc), "errorType": type(exc).__name__}
            return json.dumps(payload), True, traceback.format_exc()
        return json.dumps(result), False, ""

    def simple_backend_invoke(
        self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        payload = self.get_function(function_name, qualifier).invoke(body, headers, response_headers)
        return payload if isinstance(payload, bytes) else str(payload).encode()

    LambdaFunction._invoke_lambda = invoke_in_process  # type: ignore[method-assign]
    LambdaSimpleBackend.invoke = simple_backend_invoke  # type: ignore[method-assign]


def patch_moto_lambda_dispatch(
    functions: LocalFunctions, async_invoker: AsyncInvoker, duplicate: Callable[[], bool] = lambda: False
) -> None:
    """Route moto's Lambda invocations to the local stack's handlers; S3 notifications go async."""
    from moto.s3 import notifications

    route_moto_lambda_invocations(lambda name, event: functions.get(name).invoke(event))

    def enqueue_s3_notification(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        async_invoker.submit(fn_arn, event_body)
        if duplicate():  # S3 delivers at least once
            async_invoker.submit(fn_arn, event_body)

    notifications._invoke_awslambda = enqueue_s3_notification
