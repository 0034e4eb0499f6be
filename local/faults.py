"""Test-only fault injection for the local mode (``LOCAL_FAULT_INJECTION=1``).

Never part of the deployed stack: the faults are answers of the local "AWS"
(a WSGI middleware in front of the moto server), so every client sees them
as it would see AWS's own, whatever SDK it uses: boto3 and its retries in
the background functions, the lean client on the request path. Its control
route exists only when the variable is set. ``POST /__local/faults`` with a
JSON object arms faults; each number is how many times the fault fires
before it disarms:

- ``firehose_rejects``: PutRecordBatch calls answered with every record in ``FailedPutCount``
- ``firehose_outage``: PutRecordBatch calls answered 503 ServiceUnavailableException
- ``dynamodb_throttles``: UpdateItem calls (the fan-out's counters) answered 400
  ProvisionedThroughputExceededException
- ``lake_put_errors`` (+ ``lake_put_errors_after``): PUTs of ``events/`` objects into the lake
  answered 500 InternalError, after letting ``..._after`` through (a failure in the middle of an
  object); the SDK retries each, so it takes as many as its attempts to fail a fan-out
- ``duplicate_s3_events``: S3 notifications delivered twice
- ``function_errors``: ``{"<LogicalId>": n}`` invocations that raise before the handler runs
- ``drop_responses``: API requests that are processed, then answered by closing the connection
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from event_collector.lake.layout import EVENTS_ROOT

COUNTERS = (
    "firehose_rejects",
    "firehose_outage",
    "dynamodb_throttles",
    "lake_put_errors",
    "lake_put_errors_after",
    "duplicate_s3_events",
    "drop_responses",
)
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[str, int] = {}
        self._functions: dict[str, int] = {}
        self.fired: dict[str, int] = {}

    def arm(self, settings: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            for name in COUNTERS:
                if name in settings:
                    self._armed[name] = int(settings[name])
            for logical_id, times in (settings.get("function_errors") or {}).items():
                self._functions[str(logical_id)] = int(times)
            return self.state()

    def state(self) -> dict[str, Any]:
        return {"armed": dict(self._armed), "function_errors": dict(self._functions), "fired": dict(self.fired)}

    def take(self, name: str) -> bool:
        with self._lock:
            if self._armed.get(name, 0) <= 0:
                return False
            self._armed[name] -= 1
            self.fired[name] = self.fired.get(name, 0) + 1
            return True

    def take_function_error(self, logical_id: str) -> bool:
        with self._lock:
            if self._functions.get(logical_id, 0) <= 0:
                return False
            self._functions[logical_id] -= 1
            key = f"function_errors.{logical_id}"
            self.fired[key] = self.fired.get(key, 0) + 1
            return True

    # -- the local AWS's answers ----------------------------------------------------------------
    def middleware(self, lake_bucket: str | None) -> Callable[[WsgiApp], WsgiApp]:
        """Wrap the moto server's WSGI app: an armed fault answers instead of moto."""

        def wrap(app: WsgiApp) -> WsgiApp:
            def faulty(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
                answer = self._answer(environ, lake_bucket)
                if answer is None:
                    return app(environ, start_response)
                status, content_type, body = answer
                start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
                return [body]

            return faulty

        return wrap

    def _answer(self, environ: dict[str, Any], lake_bucket: str | None) -> tuple[str, str, bytes] | None:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target == "Firehose_20150804.PutRecordBatch":
            if self.take("firehose_outage"):
                return _json_error("503 Service Unavailable", "ServiceUnavailableException")
            if self.take("firehose_rejects"):
                records = json.loads(_read_body(environ) or b"{}").get("Records", [])
                failed = [{"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "injected"} for _ in records]
                body = {"FailedPutCount": len(failed), "Encrypted": False, "RequestResponses": failed}
                return "200 OK", "application/x-amz-json-1.1", json.dumps(body).encode()
        elif target == "DynamoDB_20120810.UpdateItem":
            if self.take("dynamodb_throttles"):
                return _json_error("400 Bad Request", "ProvisionedThroughputExceededException")
        elif environ.get("REQUEST_METHOD") == "PUT" and _is_lake_object(environ, lake_bucket):
            if self.take("lake_put_errors_after"):
                return None
            if self.take("lake_put_errors"):
                xml = b"<Error><Code>InternalError</Code><Message>injected</Message></Error>"
                return "500 Internal Server Error", "application/xml", xml
        return None


def _is_lake_object(environ: dict[str, Any], lake_bucket: str | None) -> bool:
    return bool(lake_bucket) and str(environ.get("PATH_INFO", "")).startswith(f"/{lake_bucket}/{EVENTS_ROOT}/")


def without_sdk_backoff() -> None:
    """boto3's retries of injected faults happen at once (tests must not wait out real back-off)."""
    from botocore.retries.standard import ExponentialBackoff

    ExponentialBackoff.delay_amount = lambda self, context: 0


def _json_error(status: str, code: str) -> tuple[str, str, bytes]:
    return status, "application/x-amz-json-1.1", json.dumps({"__type": code, "message": "injected"}).encode()


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back, so the wrapped app still sees it."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body: bytes = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body
