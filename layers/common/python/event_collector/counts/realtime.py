"""Real-time counts: the collector adds a request's events to the counters once Firehose holds them, so a
count includes an event as soon as its request got 200 (docs/counters.md).

The request is answered whatever happens here: its events are stored, so a counting failure is reported
(a metric and a log line), never turned into an error the client would retry. Counting stays inside the
time the request has left: it does not start with less than :data:`MIN_SECONDS`, and writes not answered
by the deadline are reported as failures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from event_collector.counts.layout import CounterTally
from event_collector.counts.record import CounterStore, CountingLimits, CountingOutcome, KnownKeys, apply_counts
from event_collector.errors import StorageError

# The longest one counter call may take on the request path's client (two attempts of 0.5 s connect and
# 1 s read, and a back-off; aws/clients.py): counting starts only with room for two, one after the other.
CALL_SECONDS = 3.2
MIN_SECONDS = 2 * CALL_SECONDS


@dataclass(frozen=True)
class CountedEvent:
    tenant: str
    event_type: str
    received_at: int  # epoch milliseconds: the hour it counts in
    key: str | None  # the value of the type's counter field, if it has one


class CountingSkipped(StorageError):
    """Too little of the request's time was left to count its events."""


class RequestCounter:
    def __init__(
        self,
        store: CounterStore,
        limits: CountingLimits,
        *,
        known: KnownKeys | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._limits = limits
        self._known = known if known is not None else KnownKeys()
        self._clock = clock

    def count(self, events: Iterable[CountedEvent], *, seconds_left: float) -> CountingOutcome:
        """Raises StorageError (CountingSkipped included) when the counts were not all written."""
        if seconds_left < MIN_SECONDS:
            raise CountingSkipped(f"counting skipped: {seconds_left:.1f} s left, {MIN_SECONDS} s needed")
        tally = CounterTally(self._limits.max_keys_per_hour)
        for event in events:
            tally.add(event.tenant, event.event_type, event.received_at, event.key)
        deadline = self._clock() + seconds_left - CALL_SECONDS
        return apply_counts(tally, self._store, self._limits, known=self._known, deadline=deadline)
