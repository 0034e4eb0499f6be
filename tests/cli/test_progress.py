"""Progress lines for anything over ~2 s (issue 25): one at each phase change, one every 2 s between, never
more; driven by an injected clock, so nothing here waits."""

from __future__ import annotations

from typing import Any

from event_collector_cli.lake import backfill, s3_event
from event_collector_cli.progress import INTERVAL_SECONDS, Progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_given_a_phase_change_then_it_is_said_at_once_with_the_time_since_the_start() -> None:
    clock, lines = FakeClock(), list[str]()
    progress = Progress("load", lines.append, clock)

    clock.now += 0.3
    progress.phase("sending", "0 requests")
    progress.phase("compacting")

    assert lines == ["load [  0.3 s] sending: 0 requests", "load [  0.3 s] compacting"]


def test_given_updates_every_half_second_then_a_line_is_printed_every_two_seconds_only() -> None:
    clock, lines = FakeClock(), list[str]()
    progress = Progress("load", lines.append, clock)
    progress.phase("sending")

    for step in range(1, 21):  # 10 s of updates, every 0.5 s
        clock.now += 0.5
        progress.update(f"step {step}")

    assert INTERVAL_SECONDS == 2.0
    assert lines[1:] == [f"load [{seconds:5.1f} s] sending: step {seconds * 2}" for seconds in (2, 4, 6, 8, 10)]


def test_given_a_detail_function_then_it_is_only_called_when_a_line_is_due() -> None:
    clock, lines, calls = FakeClock(), list[str](), list[float]()
    progress = Progress("backfill", lines.append, clock)

    def detail() -> str:
        calls.append(clock.now)
        return "busy"

    for _ in range(10):
        clock.now += 0.3
        progress.update(detail)

    assert len(calls) == len(lines) == 1  # at 2.1 s, the first update past the interval


class Keys:
    def __init__(self, keys: list[str]) -> None:
        self._keys = keys

    def keys(self, bucket: str, prefix: str) -> list[str]:
        return [key for key in self._keys if key.startswith(prefix)]


def test_given_a_backfill_of_ten_objects_at_0_7_s_each_then_it_says_objects_done_of_total_every_2_s() -> None:
    clock, lines = FakeClock(), list[str]()

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        assert event == s3_event("raw", event["Records"][0]["s3"]["object"]["key"].replace("%2F", "/"))
        clock.now += 0.7
        return {"objects": [{"lines_in": 2, "lines_out": 2, "lines_quarantined": 0}]}

    keys = [f"raw/2026/11/26/{n:02d}" for n in range(10)]
    totals = backfill(invoke, Keys(keys), "raw", "raw/2026/", Progress("backfill", lines.append, clock))  # type: ignore[arg-type]

    assert totals["objects"] == 10
    assert lines == [
        "backfill [  0.0 s] listing s3://raw/raw/2026/",
        "backfill [  0.0 s] fanning out: 0/10 objects",
        "backfill [  2.1 s] fanning out: 3/10 objects (30%), 0 failed",
        "backfill [  4.2 s] fanning out: 6/10 objects (60%), 0 failed",
        "backfill [  6.3 s] fanning out: 9/10 objects (90%), 0 failed",
        "backfill [  7.0 s] done: 10/10 objects (100%), 0 failed",
    ]
