"""Event volume metrics, summed across a container's invocations and published at most once a minute.

A metric line per request is a log line per request: at one event per
request its CloudWatch Logs ingestion cost more than the Lambda invocation
(docs/cost.md). So the collector adds each request's accepted and rejected
events here and publishes the sums when a minute has passed since the last
publication (on the next invocation). Failures that alarm
(``DeliveryFailures``) are still published with their request. What a
container had not yet published when Lambda recycles it is lost: these are
volume figures, not the record (API Gateway's ``Count`` and the lake are).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

PUBLISH_EVERY_SECONDS = 60.0


@dataclass
class EventVolume:
    clock: Callable[[], float] = time.monotonic
    sums: dict[str, float] = field(default_factory=dict)
    last_published: float | None = None

    def add(self, name: str, value: float) -> None:
        self.sums[name] = self.sums.get(name, 0) + value

    def due(self) -> dict[str, float]:
        """The sums to publish now (and forget), or nothing if the last publication is under a minute old.
        A container's first invocation publishes, so a metric never waits on a container's second one."""
        now = self.clock()
        if self.last_published is not None and now - self.last_published < PUBLISH_EVERY_SECONDS:
            return {}
        self.last_published = now
        due, self.sums = self.sums, {}
        return due
