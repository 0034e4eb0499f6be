"""Test-only fault injection for the local mode (``LOCAL_FAULT_INJECTION=1``).

Never part of the deployed stack: it lives in local/, hooks the AWS SDK of
the local process only, and its control route exists only when the variable
is set. ``POST /__local/faults`` with a JSON object arms faults; each number
is how many times the fault fires before it disarms:

- ``firehose_rejects``: PutRecordBatch calls that report every record in ``FailedPutCount``
- ``firehose_outage``: PutRecordBatch calls that fail with ServiceUnavailableException
- ``dynamodb_throttles``: counter UpdateItem calls that fail with ProvisionedThroughputExceededException
- ``lake_put_errors`` (+ ``lake_put_errors_after``): fan-out writes to ``events/`` that fail with
  InternalError, after letting ``..._after`` writes through (a crash in the middle of an object)
- ``duplicate_s3_events``: S3 notifications delivered twice
- ``function_errors``: ``{"<LogicalId>": n}`` invocations that raise before the handler runs
- ``drop_responses``: API requests that are processed, then answered by closing the connection
"""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import ClientError

COUNTERS = (
    "firehose_rejects",
    "firehose_outage",
    "dynamodb_throttles",
    "lake_put_errors",
    "lake_put_errors_after",
    "duplicate_s3_events",
    "drop_responses",
)


class InjectedFault(RuntimeError):
    """A failure the local mode injected on purpose."""


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

    # -- SDK hooks (registered on the default boto3 session before any handler loads) --
    def install(self, session_events: Any, lake_bucket: str | None) -> None:
        session_events.register("before-call.firehose.PutRecordBatch", self._firehose)
        session_events.register("before-call.dynamodb.UpdateItem", self._dynamodb)
        session_events.register("before-call.s3.PutObject", self._lake_put(lake_bucket))

    def _firehose(self, params: dict[str, Any], **_: Any) -> Any:
        if self.take("firehose_outage"):
            raise ClientError(
                {"Error": {"Code": "ServiceUnavailableException", "Message": "injected"}}, "PutRecordBatch"
            )
        if self.take("firehose_rejects"):
            records = (
                json.loads(params["body"]).get("Records", []) if isinstance(params.get("body"), str | bytes) else []
            )
            failed = [{"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "injected"} for _ in records]
            return SimpleNamespace(status_code=200), {"FailedPutCount": len(failed), "RequestResponses": failed}
        return None

    def _dynamodb(self, **_: Any) -> None:
        if self.take("dynamodb_throttles"):
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}}, "UpdateItem"
            )

    def _lake_put(self, lake_bucket: str | None) -> Any:
        def hook(params: dict[str, Any], model: Any = None, **_: Any) -> None:
            url = str(params.get("url_path", ""))
            if not lake_bucket or f"/{lake_bucket}/events/" not in url:
                return
            if self.take("lake_put_errors_after"):
                return
            if self.take("lake_put_errors"):
                raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, "PutObject")

        return hook
