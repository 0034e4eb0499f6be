"""``make load``'s progress (issue 25): it printed nothing for ~75 s between its first line and the summary; now
a line on stderr every 2 s while the clients send (requests, rate, events acknowledged, errors) and one at each
phase. Driven with an injected clock and stand-in clients: nothing here waits."""

from __future__ import annotations

from typing import Any

from bench import load
from event_collector_cli.progress import Progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


class SendingClient:
    """A client that sends 10 requests (one a 503) per 0.5 s join, and finishes after ``polls`` joins."""

    def __init__(self, clock: FakeClock, polls: int) -> None:
        self.clock, self.polls = clock, polls
        self.attempts = self.errors = 0
        self.acknowledged: list[tuple[str, str]] = []

    def is_alive(self) -> bool:
        return self.polls > 0

    def join(self, timeout: float) -> None:
        self.clock.now += timeout
        self.polls -= 1
        self.attempts += 10
        self.errors += 1
        self.acknowledged += [("demo", "e")] * 9 * 20


def test_given_clients_sending_for_5_s_then_a_line_every_2_s_says_requests_rate_events_and_errors() -> None:
    clock, lines = FakeClock(), list[str]()
    progress = Progress("load", lines.append, clock)
    clients: list[Any] = [SendingClient(clock, polls=10)]

    load.wait_for_clients(clients, progress, poll_seconds=0.5)

    assert lines == [
        "load [  2.0 s] 40 requests (20.0/s), 720 events acknowledged, 4 errors",
        "load [  4.0 s] 80 requests (20.0/s), 1440 events acknowledged, 8 errors",
    ]


def test_given_a_phase_and_two_clients_then_the_lines_name_the_phase_and_count_both_clients() -> None:
    clock, lines = FakeClock(), list[str]()
    progress = Progress("load", lines.append, clock)
    progress.phase("sending", "2 clients")
    clients: list[Any] = [SendingClient(clock, polls=4), SendingClient(clock, polls=4)]

    load.wait_for_clients(clients, progress, poll_seconds=0.5)

    assert lines == [
        "load [  0.0 s] sending: 2 clients",
        "load [  2.0 s] sending: 40 requests (20.0/s), 720 events acknowledged, 4 errors",  # joined one by one
        "load [  4.0 s] sending: 80 requests (20.0/s), 1440 events acknowledged, 8 errors",
    ]
