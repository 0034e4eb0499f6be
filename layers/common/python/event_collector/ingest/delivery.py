"""Deliver a validated batch: 200 only once the delivery stream holds every accepted event.

Nothing is counted here: the fan-out counts what Firehose delivered
(docs/counters.md), so a 503 counts nothing by construction and a request
never waits on DynamoDB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from event_collector.errors import ClientInputError
from event_collector.ingest.models import BatchResult
from event_collector.ingest.validation import ValidatedBatch


def unlimited() -> float:
    return float("inf")


class LineSink(Protocol):
    def put(self, lines: Sequence[bytes], time_left: Callable[[], float] = ...) -> None:
        """Store newline-terminated lines durably, or raise DeliveryError."""
        ...


class EventIngestor:
    """Delivers a validated batch to Firehose. Counting happens downstream, from what Firehose
    delivered (the fan-out; docs/counters.md), so a request never waits on DynamoDB."""

    def __init__(self, lines: LineSink) -> None:
        self._lines = lines

    def ingest(self, batch: ValidatedBatch, *, time_left: Callable[[], float] = unlimited) -> BatchResult:
        """``time_left``: seconds the request may still spend (the Lambda's remaining time, less a margin).

        Raises DeliveryError when Firehose keeps failing: the client gets a 503 and resends."""
        if not batch.accepted:
            raise ClientInputError(
                400,
                "no_valid_events",
                "No event in the request is valid; nothing was stored",
                details=[rejected.model_dump() for rejected in batch.rejected],
            )
        self._lines.put([event.line for event in batch.accepted], time_left)
        return BatchResult(accepted=len(batch.accepted), rejected=batch.rejected)
