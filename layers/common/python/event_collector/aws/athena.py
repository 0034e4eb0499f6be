"""Athena adapter: run one statement in the stack's workgroup to its end (the large-unit engine)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from event_collector.aws.errors import aws_errors, error_code
from event_collector.errors import StorageError

DONE = ("SUCCEEDED", "FAILED", "CANCELLED")


class AthenaQueryRunner:
    def __init__(
        self,
        client: Any,
        work_group: str,
        *,
        poll_seconds: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._work_group = work_group
        self._poll = poll_seconds
        self._sleep = sleep

    def run(self, sql: str) -> int:
        try:
            execution = self._client.start_query_execution(QueryString=sql, WorkGroup=self._work_group)
            query_id = execution["QueryExecutionId"]
            while True:
                state = self._client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
                status = state["Status"]["State"]
                if status in DONE:
                    break
                self._sleep(self._poll)
        except aws_errors() as error:
            raise StorageError(f"an Athena query failed to run: {error_code(error)}") from error
        if status != "SUCCEEDED":
            reason = state["Status"].get("StateChangeReason", status)
            raise StorageError(f"Athena query {query_id} {status.lower()}: {reason}")
        return int(state.get("Statistics", {}).get("DataScannedInBytes", 0))
