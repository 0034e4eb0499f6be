"""Every use of moto's private internals, in one module, checked against the moto version it was written for.

moto runs Lambda functions in Docker and has no public hook to run them
in-process; the local mode (and the workflow tests) need three:

- Lambda invocations (Step Functions tasks, S3 notifications) reach our
  handlers instead of Docker or a canned reply;
- S3 notifications become asynchronous invocations with Lambda's retries;
- a Step Functions execution can be waited for without polling;
- moto's server application, served by our own werkzeug server (:class:`MotoServer`).

If moto changes, this module fails loudly at start (:func:`check_version`),
not somewhere deep in a test.
"""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Callable
from typing import Any

import moto

SUPPORTED = ("5.2.",)


class UnsupportedMoto(RuntimeError):
    """The installed moto is not the version these hooks were written against."""


def check_version() -> None:
    if not moto.__version__.startswith(SUPPORTED):
        raise UnsupportedMoto(
            f"local/moto_bridge.py hooks moto {', '.join(SUPPORTED)}x internals; moto {moto.__version__} is installed"
        )


def route_lambda_invocations(invoke: Callable[[str, Any], Any]) -> None:
    """Make moto's Lambda backends call ``invoke(function_name, event)`` (both with and without Docker)."""
    check_version()
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


def route_s3_notifications(deliver: Callable[[str, Any], None]) -> None:
    """``deliver(function_arn, event)`` for every S3 notification moto raises to a Lambda function."""
    check_version()
    from moto.s3 import notifications

    def to_handler(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        deliver(fn_arn, event_body)

    notifications._invoke_awslambda = to_handler


def wait_for_executions() -> None:
    """Block until moto's Step Functions worker threads (and the ones they start) have finished."""
    check_version()
    from moto.stepfunctions.parser.utils import TMP_THREADS

    while any(thread.is_alive() for thread in TMP_THREADS):
        for thread in list(TMP_THREADS):
            thread.join()
    TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]


def skip_retry_waits(patch: Callable[[Any, str, Any], None]) -> None:
    """Retries' waits in state machines return at once (tests): ``patch(target, name, value)``."""
    check_version()
    from types import SimpleNamespace

    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    patch(retrier_decl, "time", SimpleNamespace(sleep=lambda _: None))


def lambda_backends() -> tuple[Any, Any]:
    """The two classes :func:`route_lambda_invocations` patches, for a test to restore them."""
    check_version()
    from moto.awslambda.models import LambdaFunction
    from moto.awslambda_simple.models import LambdaSimpleBackend

    return LambdaFunction, LambdaSimpleBackend


class MotoServer:
    """moto's server application behind our own werkzeug server.

    Unlike moto's ``ThreadedMotoServer``, it binds in the caller's thread, so a taken port fails at
    once with ``OSError`` (moto's waits forever for a thread that died), and ``middleware`` sees
    every request first (the local mode's fault injection)."""

    def __init__(self, host: str, port: int, middleware: Callable[[Any], Any] | None = None) -> None:
        check_version()
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        app: Any = DomainDispatcherApplication(create_backend_app)
        if middleware is not None:
            app = middleware(app)
        self._server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-aws", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
