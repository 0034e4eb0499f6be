"""Every use of moto's private internals, in one module, checked against the moto version it was written for.

moto runs Lambda functions in Docker and has no public hook to run them
in-process; the local mode (and the workflow tests) need three:

- Lambda invocations (Step Functions tasks, S3 notifications) reach our
  handlers instead of Docker or a canned reply;
- S3 notifications become asynchronous invocations with Lambda's retries;
- a Step Functions execution can be waited for without polling;
- moto's server application, served by our own werkzeug server (:class:`MotoServer`), without
  moto's global CORS and answering only this emulator's own address (:func:`own_address_only`);
- the backends' state, taken and put back whole (:func:`backend_state`, :func:`restore_backends`):
  moto 5.2 keeps it only in memory and has no persistence of its own (its recorder replays
  requests, which would run every notification and function again), so local/state.py pickles it.

If moto changes, this module fails loudly at start (:func:`check_version`),
not somewhere deep in a test.
"""

from __future__ import annotations

import json
import pickle
import re
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import IO, Any

import moto

from local.config import DOCKER_HOST_NAME

SUPPORTED = ("5.2.",)
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# What a browser's Sec-Fetch-Site may say for a request the emulator accepts: its own pages, or typed by a person.
ACCEPTED_FETCH_SITES = ("same-origin", "none")


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


def backend_state(services: Iterable[str]) -> list[tuple[str, str, str, Any]]:
    """Every ``(service, account, region, backend)`` moto holds for ``services``: the objects to pickle.

    moto's backends are plain objects in module-level ``BackendDict``s (its S3 keys define
    ``__getstate__`` for this); only their pickled form may cross a moto version, and local/state.py
    refuses one written by another (:data:`SUPPORTED` is checked here too)."""
    check_version()
    from moto.backends import get_backend

    return [
        (service, account, region, backend)
        for service in services
        for account, region, backend in get_backend(service).iter_backends()  # type: ignore[call-overload]
    ]


class _BackendPickler(pickle.Pickler):
    """Pickles moto's backends; their locks (DynamoDB's tables, SQS's queues hold some) become new,
    unheld locks on load: a snapshot is only taken while no request is in flight, so none is held."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _RLOCK_TYPE):
            return threading.RLock, ()
        if isinstance(obj, _LOCK_TYPE):
            return threading.Lock, ()
        return NotImplemented


_RLOCK_TYPE = type(threading.RLock())
_LOCK_TYPE = type(threading.Lock())


def dump_backends(state: list[tuple[str, str, str, Any]], stream: IO[bytes]) -> None:
    """Pickle what :func:`backend_state` took to ``stream``."""
    _BackendPickler(stream, pickle.HIGHEST_PROTOCOL).dump(state)


def restore_backends(state: list[tuple[str, str, str, Any]]) -> None:
    """Put backends :func:`backend_state` took (and pickle brought back) in place of the live ones, whole."""
    check_version()
    from moto.backends import get_backend

    for service, account, region, backend in state:
        get_backend(service)[account][region] = backend  # type: ignore[call-overload]


def disable_global_cors() -> None:
    """No ``Access-Control-Allow-*`` from moto's server for any origin (it reflects every ``Origin`` by default).

    moto 5.2 reads ``MOTO_DISABLE_GLOBAL_CORS`` once, when ``moto.settings`` is imported, and
    ``moto.moto_server.werkzeug_app`` copies that value (``from moto.settings import
    DISABLE_GLOBAL_CORS``) when it is imported; ``create_backend_app`` then reads the copy each time
    it builds a service's Flask app (lazily, on the first request for that service). Setting the
    environment variable now would be too late whenever moto was imported already (it is, by this
    module), so both module values are set instead: effective for every app built afterwards,
    whatever the import order.
    """
    check_version()
    import moto.settings
    from moto.moto_server import werkzeug_app

    moto.settings.DISABLE_GLOBAL_CORS = True
    werkzeug_app.DISABLE_GLOBAL_CORS = True  # type: ignore[attr-defined]


def emulator_refusal(port: int, host: str | None, origin: str | None, fetch_site: str | None) -> str | None:
    """Why a request to the emulator on ``127.0.0.1:port`` is refused, or None.

    - ``Host`` must be the emulator's own address: ``127.0.0.1:port``, ``localhost:port`` or
      ``<bucket>.localhost:port`` (S3 virtual-hosted addressing through a ``localhost`` endpoint;
      ``*.localhost`` is loopback by definition, RFC 6761, so no DNS answer can rebind it), or
      ``host.docker.internal:port``, the name `sam local`'s Lambda containers reach it by (Docker
      maps it; ``.internal`` is reserved for private use, so no public DNS answer can make a web
      page's name out of it). Any other name reached 127.0.0.1 through DNS rebinding.
    - ``Origin``, when sent, must be the emulator's own (``http://127.0.0.1:port`` or
      ``http://localhost:port``): a browser sends another one for a page of another site (or
      ``null`` for a sandboxed one). SDKs and the CLI send none.
    - ``Sec-Fetch-Site``, when sent, must be ``same-origin`` or ``none``: a browser sends
      ``cross-site`` or ``same-site`` for a request another page started, even one that carries no
      ``Origin`` (an image, a script, a link).
    """
    own = (f"127.0.0.1:{port}", f"localhost:{port}")
    name = (host or "").strip().lower()
    if name not in (*own, f"{DOCKER_HOST_NAME}:{port}") and not re.fullmatch(
        rf"[a-z0-9][a-z0-9.-]*\.localhost:{port}", name
    ):
        return "forbidden_host"
    if origin is not None and origin.strip().lower() not in {f"http://{address}" for address in own}:
        return "forbidden_origin"
    if fetch_site is not None and fetch_site.strip().lower() not in ACCEPTED_FETCH_SITES:
        return "forbidden_origin"
    return None


def own_address_only(app: WsgiApp, port: Callable[[], int]) -> WsgiApp:
    """Wrap the emulator's WSGI app: a request :func:`emulator_refusal` refuses gets a 403 JSON error
    (no CORS headers) and never reaches moto, nor the fault injection."""

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        refusal = emulator_refusal(
            port(), environ.get("HTTP_HOST"), environ.get("HTTP_ORIGIN"), environ.get("HTTP_SEC_FETCH_SITE")
        )
        if refusal is None:
            return app(environ, start_response)
        message = (
            "The local AWS emulator answers only requests to its own address"
            if refusal == "forbidden_host"
            else "The local AWS emulator refuses requests started by a web page of another origin"
        )
        body = json.dumps({"__type": "AccessDeniedException", "error": refusal, "message": message}).encode()
        start_response(
            "403 Forbidden",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Connection", "close")],
        )
        return [body]

    return guarded


class MotoServer:
    """moto's server application behind our own werkzeug server.

    Unlike moto's ``ThreadedMotoServer``, it binds in the caller's thread, so a taken port fails at
    once with ``OSError`` (moto's waits forever for a thread that died), and ``middleware`` sees
    every request first (the local mode's fault injection). Unlike it too, it serves no CORS headers
    (:func:`disable_global_cors`) and refuses requests for another address or from another origin
    (:func:`own_address_only`), so a web page elsewhere can neither read nor write through it."""

    def __init__(
        self, host: str, port: int, middleware: Callable[[Any], Any] | None = None, also_on: tuple[str, ...] = ()
    ) -> None:
        """Listen on ``host:port``, and on the same port of each address of ``also_on`` (the Docker bridge's,
        for `sam local`'s containers: docs/local-mode.md)."""
        check_version()
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        disable_global_cors()
        app: Any = DomainDispatcherApplication(create_backend_app)
        if middleware is not None:
            app = middleware(app)
        app = own_address_only(app, lambda: self.port)
        self._servers = [make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)]
        try:
            for address in also_on:
                self._servers.append(
                    make_server(address, self.port, app, threaded=True, request_handler=MotoRequestHandler)
                )
        except BaseException:
            for server in self._servers:
                server.server_close()
            raise
        self._threads = [
            threading.Thread(target=server.serve_forever, name="local-aws", daemon=True) for server in self._servers
        ]

    @property
    def port(self) -> int:
        return int(self._servers[0].server_address[1])

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return [(str(server.server_address[0]), int(server.server_address[1])) for server in self._servers]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)
