"""The delivery port (``LineSink``, Firehose in the cloud), in memory."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from event_collector.errors import DeliveryError


class MemoryLineSink:
    def __init__(self, failing: bool = False) -> None:
        self.lines: list[bytes] = []
        self.failing = failing

    def put(self, lines: Sequence[bytes], time_left: Callable[[], float] = lambda: float("inf")) -> None:
        if self.failing:
            raise DeliveryError("injected by the test", failed_records=len(lines))
        self.lines += lines
