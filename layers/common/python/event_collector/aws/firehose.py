"""Firehose adapter: lines packed into records and calls within Firehose's limits, then
PutRecordBatch with retries of only the records that failed."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from event_collector.aws.credentials import CONTAINER_TIMEOUT_SECONDS
from event_collector.aws.errors import aws_errors, error_code
from event_collector.errors import DeliveryError

# Firehose limits (https://docs.aws.amazon.com/firehose/latest/dev/limits.html).
MAX_RECORD_BYTES = 1000 * 1024
MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 4 * 1024 * 1024


def pack_lines(lines: Iterable[bytes], max_record_bytes: int = MAX_RECORD_BYTES) -> list[bytes]:
    """Concatenate whole lines into records of at most ``max_record_bytes``.

    A line is never split across records, so every record is valid NDJSON on
    its own and S3 objects stay line-aligned whatever Firehose concatenates.
    """
    records: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for line in lines:
        if len(line) > max_record_bytes:
            raise ValueError(f"a line of {len(line)} bytes exceeds the record limit")
        if size + len(line) > max_record_bytes:
            records.append(b"".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        records.append(b"".join(current))
    return records


def split_into_calls(
    records: Sequence[bytes],
    max_records: int = MAX_RECORDS_PER_CALL,
    max_bytes: int = MAX_BYTES_PER_CALL,
) -> list[list[bytes]]:
    """Group records into PutRecordBatch calls within the count and size limits."""
    calls: list[list[bytes]] = []
    current: list[bytes] = []
    size = 0
    for record in records:
        if current and (len(current) == max_records or size + len(record) > max_bytes):
            calls.append(current)
            current, size = [], 0
        current.append(record)
        size += len(record)
    if current:
        calls.append(current)
    return calls


DEFAULT_ATTEMPTS = 4
DEFAULT_BASE_DELAY_SECONDS = 0.05
# One PutRecordBatch HTTP attempt at worst: the request clients' connect + read timeouts
# (aws/clients.py), plus a fetch of container credentials when they are due for a refresh
# (aws/credentials.py). No attempt starts unless this much time is left.
ATTEMPT_SECONDS = 1.0 + 2.0 + CONTAINER_TIMEOUT_SECONDS


def unlimited() -> float:
    return float("inf")


class FirehoseRecordSink:
    """Puts records to one delivery stream; raises :class:`DeliveryError` if any is still failing.

    Records that Firehose reports in ``FailedPutCount`` are re-sent alone, with
    exponential backoff and full jitter, so accepted records are never sent twice
    by this class. ``put`` takes the seconds the caller can still spend: an
    attempt (at most :data:`ATTEMPT_SECONDS` with the client's timeouts) starts
    only if it fits, so a Firehose outage ends in :class:`DeliveryError` (a 503)
    while the Lambda still has time to answer, never in a timeout (a 502).
    """

    def __init__(
        self,
        client: Any,
        stream_name: str,
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        base_delay: float = DEFAULT_BASE_DELAY_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._stream_name = stream_name
        self._attempts = attempts
        self._base_delay = base_delay
        self._sleep = sleep

    def put(self, lines: Sequence[bytes], time_left: Callable[[], float] = unlimited) -> None:
        """Deliver newline-terminated lines: packed into as few records and calls as the limits allow."""
        for call in split_into_calls(pack_lines(lines)):
            self._put_with_retries(call, time_left)

    def _put_with_retries(self, records: list[bytes], time_left: Callable[[], float]) -> None:
        pending = records
        last_problem = ""
        for attempt in range(self._attempts):
            delay = random.uniform(0, self._base_delay * 2**attempt) if attempt else 0.0  # noqa: S311 - jitter
            if time_left() < delay + ATTEMPT_SECONDS:
                last_problem = last_problem or "no time left for an attempt"
                break
            if delay:
                self._sleep(delay)
            try:
                response = self._client.put_record_batch(
                    DeliveryStreamName=self._stream_name, Records=[{"Data": record} for record in pending]
                )
            except aws_errors() as error:
                last_problem = error_code(error)
                continue
            if not response.get("FailedPutCount"):
                return
            results = response["RequestResponses"]
            pending = [record for record, result in zip(pending, results, strict=True) if result.get("ErrorCode")]
            last_problem = f"{len(pending)} record(s) failed: {_first_error_code(results)}"
        raise DeliveryError(f"Firehose did not accept every record: {last_problem}", failed_records=len(pending))


def _first_error_code(results: list[dict[str, Any]]) -> str:
    return next((str(result["ErrorCode"]) for result in results if result.get("ErrorCode")), "unknown")
