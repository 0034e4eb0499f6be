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


class FirehoseRecordSink:
    """Puts records to one delivery stream; raises :class:`DeliveryError` if any is still failing.

    Records that Firehose reports in ``FailedPutCount`` are re-sent alone, with
    exponential backoff and full jitter, so accepted records are never sent twice
    by this class.
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

    def put(self, records: Sequence[bytes]) -> None:
        for call in split_into_calls(records):
            self._put_with_retries(call)

    def _put_with_retries(self, records: list[bytes]) -> None:
        pending = records
        last_problem = ""
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(random.uniform(0, self._base_delay * 2**attempt))  # noqa: S311 - jitter, not crypto
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
