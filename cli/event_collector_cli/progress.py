"""Progress lines for work that takes more than a couple of seconds (``make load``, ``event-collector-lake
backfill``): one line at each phase change and one every ``interval`` seconds between, never more often.

The clock and the writer are injected, so a test drives the cadence without waiting.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

INTERVAL_SECONDS = 2.0


def to_stderr(line: str) -> None:
    """Progress goes to stderr: stdout stays the result alone (``... | jq``, ``> report.txt``)."""
    print(line, file=sys.stderr, flush=True)


class Progress:
    def __init__(
        self,
        name: str,
        write: Callable[[str], None] = to_stderr,
        clock: Callable[[], float] = time.monotonic,
        interval: float = INTERVAL_SECONDS,
    ) -> None:
        self.name = name
        self._write = write
        self._clock = clock
        self._interval = interval
        self._started = clock()
        self._last_line = self._started
        self.current_phase = ""

    def phase(self, phase: str, detail: str = "") -> None:
        """A new phase: said at once."""
        self.current_phase = phase
        self._emit(detail)

    def update(self, detail: str | Callable[[], str]) -> None:
        """Where the work is; printed only when ``interval`` passed since the last line (``detail`` may be a
        function, then only called when a line is due)."""
        if self._clock() - self._last_line >= self._interval:
            self._emit(detail() if callable(detail) else detail)

    def elapsed(self) -> float:
        return self._clock() - self._started

    def _emit(self, detail: str) -> None:
        self._last_line = self._clock()
        said = ": ".join(part for part in (self.current_phase, detail) if part)
        self._write(f"{self.name} [{self.elapsed():5.1f} s] {said}".rstrip())
