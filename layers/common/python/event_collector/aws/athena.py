"""Athena adapter: start statements in the stack's workgroup, wait for them, read what they report.

Starting and waiting are separate so the large-unit engine can record a query
id before it waits: a Lambda that times out leaves its query running, and the
next attempt waits for that query instead of running the statement beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from event_collector.aws.errors import aws_errors, error_code
from event_collector.compaction.athena import QueryOutcome
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

    def start(self, sql: str) -> str:
        try:
            execution = self._client.start_query_execution(QueryString=sql, WorkGroup=self._work_group)
        except aws_errors() as error:
            raise StorageError(f"an Athena query failed to start: {error_code(error)}") from error
        return str(execution["QueryExecutionId"])

    def wait(self, query_id: str) -> QueryOutcome:
        try:
            while True:
                state = self._client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
                status = state["Status"]["State"]
                if status in DONE:
                    break
                self._sleep(self._poll)
        except aws_errors() as error:
            raise StorageError(f"waiting for Athena query {query_id} failed: {error_code(error)}") from error
        return QueryOutcome(
            query_id=query_id,
            state=status,
            scanned_bytes=int(state.get("Statistics", {}).get("DataScannedInBytes", 0)),
            reason=str(state["Status"].get("StateChangeReason", "")),
        )

    def written(self, query_id: str) -> int:
        """``UpdateCount``: the rows an ``INSERT INTO`` (or CTAS) wrote."""
        try:
            response = self._client.get_query_results(QueryExecutionId=query_id, MaxResults=1)
        except aws_errors() as error:
            raise StorageError(f"reading Athena query {query_id} failed: {error_code(error)}") from error
        return int(response.get("UpdateCount", 0))

    def rows(self, query_id: str) -> list[list[str | None]]:
        """Every row of a finished ``SELECT``, as text, without the header row."""
        found: list[list[str | None]] = []
        try:
            pages = self._client.get_paginator("get_query_results").paginate(QueryExecutionId=query_id)
            for number, page in enumerate(pages):
                rows = page["ResultSet"].get("Rows", [])
                for row in rows[1:] if number == 0 else rows:  # the first page starts with the header
                    found.append([cell.get("VarCharValue") for cell in row.get("Data", [])])
        except aws_errors() as error:
            raise StorageError(f"reading Athena query {query_id} failed: {error_code(error)}") from error
        return found
