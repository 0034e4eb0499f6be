"""Deliver a validated batch: 200 only once the delivery stream holds every accepted event, then count it.

Events of a suppressed user (privacy/suppression.py) are taken out first: answered as accepted (the client
must not resend them), never delivered nor counted, and reported as ``suppressed`` (docs/privacy.md).

Counting follows delivery (docs/counters.md): a request whose events Firehose did not take (a 503) counts
nothing, and a request whose events it took is answered 200 even when counting fails (the events are
stored; the failure is reported). With ``CountingMode=delivered`` the collector counts nothing and the
fan-out counts what Firehose delivered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from event_collector.counts.realtime import CountedEvent, RequestCounter
from event_collector.errors import ClientInputError
from event_collector.ingest.models import BatchResult
from event_collector.ingest.validation import AcceptedEvent, ValidatedBatch
from event_collector.privacy.suppression import SuppressionCache


def unlimited() -> float:
    return float("inf")


class LineSink(Protocol):
    def put(self, lines: Sequence[bytes], time_left: Callable[[], float] = ...) -> None:
        """Store newline-terminated lines durably, or raise DeliveryError."""
        ...


def ignore_counting_failure(error: Exception, events: int) -> None:
    """No one to tell (tests); the deployed collector logs and counts it in a metric."""


class EventIngestor:
    """Delivers a validated batch to Firehose, then (``counter``) adds its events to the real-time counters."""

    def __init__(
        self,
        lines: LineSink,
        counter: RequestCounter | None = None,
        on_counting_failed: Callable[[Exception, int], None] = ignore_counting_failure,
        suppressions: SuppressionCache | None = None,
    ) -> None:
        self._lines = lines
        self._counter = counter
        self._on_counting_failed = on_counting_failed
        self.suppressions = suppressions

    def ingest(self, batch: ValidatedBatch, *, time_left: Callable[[], float] = unlimited) -> BatchResult:
        """``time_left``: seconds the request may still spend (the Lambda's remaining time, less a margin).

        Raises DeliveryError when Firehose keeps failing: the client gets a 503 and resends, and nothing
        was counted."""
        if not batch.accepted:
            raise ClientInputError(
                400,
                "no_valid_events",
                "No event in the request is valid; nothing was stored",
                details=[rejected.model_dump() for rejected in batch.rejected],
            )
        kept = self._unsuppressed(batch.accepted)
        if kept:
            self._lines.put([event.line for event in kept], time_left)
            if self._counter is not None:
                self._count(kept, time_left)
        suppressed = len(batch.accepted) - len(kept)
        return BatchResult(accepted=len(batch.accepted), rejected=batch.rejected, suppressed=suppressed)

    def _unsuppressed(self, accepted: Sequence[AcceptedEvent]) -> Sequence[AcceptedEvent]:
        if self.suppressions is None:
            return accepted
        suppressions = self.suppressions
        return [event for event in accepted if not suppressions.is_suppressed(event.tenant, event.record)]

    def _count(self, accepted: Sequence[AcceptedEvent], time_left: Callable[[], float]) -> None:
        assert self._counter is not None
        events = (CountedEvent(e.tenant, e.event_type, e.received_at, e.counter_key) for e in accepted)
        try:
            self._counter.count(events, seconds_left=time_left())
        except Exception as error:  # noqa: BLE001 - the events are stored: any failure is reported, never a 5xx
            self._on_counting_failed(error, len(accepted))
