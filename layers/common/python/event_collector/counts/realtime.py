"""Real-time counts: the collector adds a request's events to the counters once Firehose holds them, so a
count includes an event as soon as its request got 200 (docs/counters.md).

The request is answered whatever happens here: its events are stored, so a counting failure is reported
(a metric and a log line), never turned into an error the client would retry. Counting never makes the
answer late: it runs on a worker thread of its own, and the request waits for it at most the time it has
left (the Lambda's remaining time, less the answer's margin), whatever a DNS lookup or a slow socket does.
A count not confirmed by then is reported; its writes may still land afterwards. One counting job runs at
a time per container: while one is still running, the next request's counts are reported as skipped
rather than queued behind it (so a DynamoDB outage cannot pile work up in a container).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from event_collector.counts.layout import CounterTally
from event_collector.counts.record import CounterStore, CountingLimits, CountingOutcome, KnownKeys, apply_counts
from event_collector.errors import StorageError

# Counting starts only with at least this much of the request's time left.
MIN_SECONDS = 0.5


@dataclass(frozen=True)
class CountedEvent:
    tenant: str
    event_type: str
    received_at: int  # epoch milliseconds: the hour it counts in
    key: str | None  # the value of the type's counter field, if it has one


class CountingSkipped(StorageError):
    """The request's events were not counted: too little time left, or the last request's counting still runs."""


class CountingTimedOut(StorageError):
    """Counting did not finish within the request's time; some writes may still land after the answer."""


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
        self._worker: ThreadPoolExecutor | None = None  # made on first use, kept for the container's life
        self._running: Future[CountingOutcome] | None = None

    def count(self, events: Iterable[CountedEvent], *, seconds_left: float) -> CountingOutcome:
        """Raises StorageError (CountingSkipped, CountingTimedOut included) when the counts were not all
        written within ``seconds_left``."""
        if seconds_left < MIN_SECONDS:
            raise CountingSkipped(f"counting skipped: {seconds_left:.2f} s left, {MIN_SECONDS} s needed")
        if self._running is not None and not self._running.done():
            raise CountingSkipped("counting skipped: an earlier request's counting is still running")
        tally = CounterTally(self._limits.max_keys_per_hour)
        for event in events:
            tally.add(event.tenant, event.event_type, event.received_at, event.key)
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="counting")
        deadline = self._clock() + seconds_left
        self._running = self._worker.submit(
            apply_counts, tally, self._store, self._limits, known=self._known, deadline=deadline
        )
        try:
            return self._running.result(timeout=seconds_left)
        except FutureTimeout:
            raise CountingTimedOut(f"counting not confirmed within the {seconds_left:.1f} s left") from None
