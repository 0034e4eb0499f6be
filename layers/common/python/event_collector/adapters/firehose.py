"""Firehose adapter: PutRecordBatch with retries of only the records that failed."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import DeliveryError
from ..packing import split_into_calls
from .aws_errors import AWS_ERRORS, error_code

DEFAULT_ATTEMPTS = 4
DEFAULT_BASE_DELAY_SECONDS = 0.05
# One PutRecordBatch HTTP attempt at worst: the client's connect + read timeouts
# (adapters' client configuration). No attempt starts unless this much time is left.
ATTEMPT_SECONDS = 3.0


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

    def put(self, records: Sequence[bytes], time_left: Callable[[], float] = unlimited) -> None:
        for call in split_into_calls(records):
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
            except AWS_ERRORS as error:
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
