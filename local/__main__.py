"""``python -m local`` (``make local``): run the whole stack on 127.0.0.1 until Ctrl-C.

Before anything starts: the settings, the state directory's lock and both
ports are checked, each refusal one line naming what to change. Ctrl-C or
SIGTERM stops the stack in any phase, starting included, through one stop
sequence (:func:`shut_down`). Every signal within ``SAME_STOP_SECONDS`` of the
first is part of the same stop: a process manager signals the whole process
group, so this process gets its own SIGTERM and the one ``make`` forwards. A
signal after that (Ctrl-C again on a stop that seems hung) exits at once, and
a stop still running after ``STOP_DEADLINE_SECONDS`` exits anyway
(docs/local-mode.md).
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable
from types import FrameType

_STARTED = time.perf_counter()

from .config import ConfigError, LocalConfig, config_from_environment  # noqa: E402
from .preflight import StartRefused, StateDirClaim, check_ports, claim_state_dir  # noqa: E402
from .stack import LocalStack  # noqa: E402

STOP_DEADLINE_SECONDS = 5.0
# Signals this close to the first one ask for the same stop (make's forwarded copy of a process-group SIGTERM
# arrives within milliseconds); a person repeating Ctrl-C on a hung stop does so later than this.
SAME_STOP_SECONDS = 1.0


class Interrupted(BaseException):
    """A signal arrived while the stack was starting (a BaseException, so no ``except Exception`` eats it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Signals:
    """SIGINT/SIGTERM: the first starts the one stop (interrupting a start in progress) with a deadline; others
    within ``SAME_STOP_SECONDS`` of it are the same request; one after that exits at once."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        exit_now: Callable[[int], None] = os._exit,
        start_deadline: Callable[[int], None] | None = None,
    ) -> None:
        self.stop = threading.Event()
        # True only while the stack starts: the first signal then interrupts the start itself.
        self.interruptible = False
        self.received: int | None = None
        self._first_at: float | None = None
        self._clock = clock
        self._exit_now = exit_now
        self._start_deadline = start_deadline or _start_deadline

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.handle)

    def handle(self, signum: int, _: FrameType | None = None) -> None:
        now = self._clock()
        if self._first_at is not None:
            if now - self._first_at > SAME_STOP_SECONDS:
                # os.write, not print: the main thread may be inside a write to stderr, which print would re-enter.
                said = f"local stack: signalled again more than {SAME_STOP_SECONDS:.0f} s into the stop; exiting now\n"
                os.write(2, said.encode())
                self._exit_now(128 + signum)
            return  # the same stop, asked again (make forwards what the process group already got)
        self._first_at = now
        self.received = signum
        self.stop.set()
        self._start_deadline(signum)
        if self.interruptible:
            self.interruptible = False  # one Interrupted, never a second one inside the stop
            raise Interrupted(signum)


def _start_deadline(signum: int) -> None:
    deadline = threading.Timer(STOP_DEADLINE_SECONDS, _give_up, args=(signum,))
    deadline.daemon = True
    deadline.start()


def _give_up(signum: int) -> None:
    print(f"local stack: not stopped after {STOP_DEADLINE_SECONDS:.0f} s; exiting anyway", file=sys.stderr, flush=True)
    os._exit(128 + signum)


def _configure_output(config: LocalConfig) -> None:
    logging.basicConfig(level=logging.WARNING if config.quiet else logging.INFO, format="%(name)s: %(message)s")
    for noisy in ("werkzeug", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if config.quiet:  # the SAM transform's and moto's notes are about their own features, not the stack
        for library in ("samtranslator", "moto"):
            logging.getLogger(library).setLevel(logging.ERROR)
        # No EMF line per request or delivery: Powertools reads this when it flushes, so the process's own
        # environment, not a function's (applied only while its module is imported), must hold it.
        # local/lambdas.py discards what it then keeps (discard_metrics).
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    # Read-only routes publish no metrics; Powertools warns about it on every call.
    warnings.filterwarnings("ignore", message="No application metrics to publish")


def _hold_for_tests(phase: str) -> None:
    """LOCAL_TEST_HOLD_AT=<phase>: the tests stop the stack at a chosen phase of its start."""
    if os.environ.get("LOCAL_TEST_HOLD_AT") == phase:
        print(f"local stack: holding at {phase}", flush=True)
        never = threading.Event()
        # Woken now and then, as main()'s own wait: a signal the kernel gave another thread (a second one that
        # came while the first was pending) runs its Python handler only once this thread is back in Python.
        while not never.wait(timeout=0.2):
            pass


def shut_down(stack: LocalStack | None, claim: StateDirClaim | None) -> None:
    """The one stop sequence, however the run ended (a signal, a refusal, a failed start): the stack's servers,
    threads and files, then the state directory's lock, last, so no other stack takes the directory before."""
    if stack is not None:
        stack.stop()
    if claim is not None:
        claim.release()


def parse_arguments(argv: list[str] | None) -> None:
    """No options (the settings are environment variables), but ``--help`` answers instead of starting."""
    parser = argparse.ArgumentParser(
        prog="make local",
        description="Run the whole stack on 127.0.0.1 until Ctrl-C (no Docker, no AWS account). "
        "Its settings are environment variables: LOCAL_STATE_DIR, LOCAL_API_PORT, LOCAL_AWS_PORT... "
        "(docs/local-mode.md).",
    )
    parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    parse_arguments(argv)
    signals = Signals()
    signals.install()
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>` shows where a stack hangs
    claim: StateDirClaim | None = None
    stack: LocalStack | None = None
    try:
        try:
            signals.interruptible = True
            config = config_from_environment()
            _configure_output(config)
            claim = claim_state_dir(config)
            check_ports(config)
            stack = starting = LocalStack(config, started_at=_STARTED, hold=_hold_for_tests)
            starting.start()
        finally:
            signals.interruptible = False  # from here on a signal only sets signals.stop
        if not signals.stop.is_set():  # else a signal landed between the start's end and the line above
            print(starting.banner(), flush=True)
        # Wake up now and then: a signal that lands on another thread only runs its
        # Python handler once the main thread returns to the interpreter.
        while not signals.stop.wait(timeout=0.2):
            pass
    except (ConfigError, StartRefused) as refusal:
        shut_down(stack, claim)
        print(f"local mode did not start: {refusal}", file=sys.stderr, flush=True)
        return 2
    except Interrupted as interrupted:
        shut_down(stack, claim)
        print("Local stack interrupted while starting; stopped.", file=sys.stderr, flush=True)
        return 128 + interrupted.signum
    except OSError as error:  # a port taken between the check and the bind
        shut_down(stack, claim)
        print(f"local mode could not start: {error}", file=sys.stderr, flush=True)
        return 1
    except BaseException:  # a defect: its traceback follows, after the same stop
        shut_down(stack, claim)
        raise
    shut_down(stack, claim)
    print("Local stack stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
