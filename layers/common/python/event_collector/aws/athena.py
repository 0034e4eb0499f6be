"""Athena adapter: statements in the stack's workgroup through awswrangler, waited for, read back.

Starting and waiting are separate so the large-unit engine can record a query
id before it waits: a Lambda that times out leaves its query running, and the
next attempt waits for that query instead of running the statement beside it.

- ``start``: ``wr.athena.start_query_execution`` (no result cache; the workgroup
  enforces its own result location, so awswrangler never falls back to a bucket of its own);
- ``wait``: ``wr.athena.wait_query``, which raises on a failed or cancelled query:
  the outcome is then read back, as every caller needs to know how it ended;
- ``rows``: ``wr.athena.get_query_results`` (the result file, typed by Athena's columns), as text;
- ``written``: the ``UpdateCount`` of an ``INSERT INTO``, which only Athena's
  ``GetQueryResults`` reports and no awswrangler call returns: one SDK call of our own.
"""

from __future__ import annotations

from typing import Any

import awswrangler as wr
import pandas as pd

from event_collector.aws.clients import background_config
from event_collector.aws.wrangler import storage_errors
from event_collector.compaction.athena import QueryOutcome

ENDED = ("SUCCEEDED", "FAILED", "CANCELLED")


def _outcome(query_id: str, execution: dict[str, Any]) -> QueryOutcome:
    status = execution["Status"]
    return QueryOutcome(
        query_id=query_id,
        state=str(status["State"]),
        scanned_bytes=int(execution.get("Statistics", {}).get("DataScannedInBytes", 0)),
        reason=str(status.get("StateChangeReason", "")),
    )


def _text(value: Any) -> str | None:
    return None if pd.isna(value) else str(value)


class AthenaQueryRunner:
    def __init__(self, session: Any, work_group: str, *, poll_seconds: float = 2.0) -> None:
        self._session = session
        self._work_group = work_group
        self._poll = poll_seconds
        self._client: Any = None

    def start(self, sql: str) -> str:
        with storage_errors("starting an Athena query"):
            query_id = wr.athena.start_query_execution(sql=sql, workgroup=self._work_group, boto3_session=self._session)
        return str(query_id)

    def wait(self, query_id: str) -> QueryOutcome:
        """Until the query ends, however it ends (this attempt's query or one an earlier attempt left)."""
        with storage_errors(f"waiting for Athena query {query_id}"):
            try:
                execution = wr.athena.wait_query(
                    query_execution_id=query_id,
                    boto3_session=self._session,
                    athena_query_wait_polling_delay=self._poll,
                )
            except (wr.exceptions.QueryFailed, wr.exceptions.QueryCancelled):
                execution = wr.athena.get_query_execution(query_execution_id=query_id, boto3_session=self._session)
        return _outcome(query_id, execution)

    def poll(self, query_id: str) -> QueryOutcome | None:
        """The query's outcome once it ended, else None: for a caller that waits with its own deadline."""
        with storage_errors(f"reading Athena query {query_id}"):
            execution = wr.athena.get_query_execution(query_execution_id=query_id, boto3_session=self._session)
        return _outcome(query_id, execution) if execution["Status"]["State"] in ENDED else None

    def written(self, query_id: str) -> int:
        """``UpdateCount``: the rows an ``INSERT INTO`` (or CTAS) wrote."""
        if self._client is None:
            self._client = self._session.client("athena", config=background_config())
        with storage_errors(f"reading Athena query {query_id}"):
            response = self._client.get_query_results(QueryExecutionId=query_id, MaxResults=1)
        return int(response.get("UpdateCount", 0))

    def rows(self, query_id: str) -> list[list[str | None]]:
        """Every row of a finished ``SELECT``, as text (None for no value), without the header."""
        with storage_errors(f"reading Athena query {query_id}"):
            frame = wr.athena.get_query_results(query_execution_id=query_id, boto3_session=self._session)
        return [[_text(value) for value in row] for row in frame.itertuples(index=False, name=None)]
