"""One clean stop whatever signals arrive together (issue 25): a process manager signals the whole process group,
so the stack gets its own SIGTERM and the one make forwards; every run must still end with stack.json removed,
the ports and the lock free, and one "stopped" line."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from local.__main__ import SAME_STOP_SECONDS, Interrupted, Signals
from tests.local.test_lifecycle import BOUND, STOP_BOUND, assert_released
from tools.harness import free_port
from tools.template import ROOT


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Exited(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def recorded_signals(clock: FakeClock) -> tuple[Signals, list[int]]:
    deadlines: list[int] = []

    def exit_now(status: int) -> None:
        raise Exited(status)

    return Signals(clock=clock, exit_now=exit_now, start_deadline=deadlines.append), deadlines


def test_given_a_stop_under_way_when_more_signals_come_within_the_window_then_they_join_it() -> None:
    clock = FakeClock()
    signals, deadlines = recorded_signals(clock)

    signals.handle(signal.SIGTERM)
    clock.now += SAME_STOP_SECONDS  # make's forwarded copy, and a SIGINT, as late as the window allows
    signals.handle(signal.SIGTERM)
    signals.handle(signal.SIGINT)

    assert signals.stop.is_set()
    assert signals.received == signal.SIGTERM
    assert deadlines == [signal.SIGTERM]  # one stop, one deadline


def test_given_a_stop_that_seems_hung_when_ctrl_c_comes_again_later_then_the_process_exits_at_once(
    capfd: pytest.CaptureFixture[str],
) -> None:
    clock = FakeClock()
    signals, _ = recorded_signals(clock)
    signals.handle(signal.SIGINT)

    clock.now += SAME_STOP_SECONDS + 0.01
    with pytest.raises(Exited) as exited:
        signals.handle(signal.SIGINT)

    assert exited.value.status == 128 + signal.SIGINT
    assert "signalled again more than 1 s into the stop; exiting now" in capfd.readouterr().err


def test_given_a_start_when_two_signals_come_then_only_the_first_interrupts_it() -> None:
    clock = FakeClock()
    signals, _ = recorded_signals(clock)
    signals.interruptible = True

    with pytest.raises(Interrupted) as interrupted:
        signals.handle(signal.SIGTERM)
    signals.handle(signal.SIGTERM)  # the stop that follows is never interrupted in turn

    assert interrupted.value.signum == signal.SIGTERM
    assert not signals.interruptible


class Lines:
    """A child's output, read on a thread, so the test waits for a line with a bound instead of blocking."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, text: str) -> None:
        while True:
            line = self._queue.get(timeout=BOUND)
            if line is None:
                raise AssertionError(f"the stack never printed {text!r}:\n{''.join(self.seen)}")
            self.seen.append(line)
            if text in line:
                return

    def rest(self) -> str:
        while (line := self._queue.get(timeout=BOUND)) is not None:
            self.seen.append(line)
        return "".join(self.seen)


def start_in_own_session(
    command: list[str], state_dir: Path, hold_at: str = ""
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    ports = {"LOCAL_API_PORT": str(free_port()), "LOCAL_AWS_PORT": str(free_port())}
    env = {**os.environ, **ports, "LOCAL_STATE_DIR": str(state_dir), "LOCAL_TEST_HOLD_AT": hold_at}
    for name in ("AWS_ENDPOINT_URL", "MAKEFLAGS", "MAKELEVEL"):
        env.pop(name, None)
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    return process, ports


# Each run: where the stack is when the group is signalled, and what the group gets. SIGTERM then SIGINT are two
# signals for certain (two of the same kind may merge into one while pending), on top of make's forwarded SIGTERM.
RUNS = [
    ("ready in", (signal.SIGTERM,)),
    ("ready in", (signal.SIGTERM, signal.SIGINT)),
    ("holding at provision", (signal.SIGTERM, signal.SIGINT)),
]


def test_make_local_stops_cleanly_on_a_process_group_sigterm_every_time(tmp_path: Path) -> None:
    make = shutil.which("make") or "make"
    for number, (wait_for, group_signals) in enumerate(RUNS):
        state_dir = tmp_path / str(number)
        hold_at = "provision" if "holding" in wait_for else ""
        process, ports = start_in_own_session([make, "--no-print-directory", "local"], state_dir, hold_at)
        lines = Lines(process)
        lines.wait_for(wait_for)

        for signum in group_signals:
            os.killpg(process.pid, signum)
        process.wait(timeout=STOP_BOUND)
        output = lines.rest()

        expected = "Local stack stopped." if wait_for == "ready in" else "interrupted while starting; stopped"
        assert output.count(expected) == 1, output
        assert "exiting" not in output, output
        assert "Traceback" not in output, output
        assert_released(state_dir, ports)


def test_the_command_make_runs_exits_0_on_a_process_group_sigterm_and_sigint(tmp_path: Path) -> None:
    process, ports = start_in_own_session([sys.executable, "-m", "local"], tmp_path)
    lines = Lines(process)
    lines.wait_for("ready in")

    os.killpg(process.pid, signal.SIGTERM)
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=STOP_BOUND)
    output = lines.rest()

    assert process.returncode == 0, output
    assert output.count("Local stack stopped.") == 1, output
    assert "exiting" not in output
    assert_released(tmp_path, ports)
