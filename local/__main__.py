"""``python -m local`` (``make local``): run the whole stack on 127.0.0.1 until Ctrl-C.

Before anything starts: the settings, the state directory's lock and both
ports are checked, each refusal one line naming what to change. Ctrl-C or
SIGTERM stops the stack in any phase, starting included; if stopping ever
takes longer than ``STOP_DEADLINE_SECONDS`` (or a second signal comes), the
process exits anyway (docs/local-mode.md).
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
from types import FrameType

_STARTED = time.perf_counter()

from .config import ConfigError, LocalConfig, config_from_environment  # noqa: E402
from .preflight import StartRefused, check_ports, claim_state_dir  # noqa: E402
from .stack import LocalStack  # noqa: E402

STOP_DEADLINE_SECONDS = 5.0


class Interrupted(BaseException):
    """A signal arrived while the stack was starting (a BaseException, so no ``except Exception`` eats it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Signals:
    """First SIGINT/SIGTERM: stop (interrupting a start in progress) with a deadline; second: exit now."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.running = False  # False while starting: a signal then interrupts the start itself
        self.received: int | None = None

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, _: FrameType | None) -> None:
        if self.received is not None:
            os._exit(128 + signum)  # a second signal: the person means it
        self.received = signum
        self.stop.set()
        deadline = threading.Timer(STOP_DEADLINE_SECONDS, _give_up, args=(signum,))
        deadline.daemon = True
        deadline.start()
        if not self.running:
            raise Interrupted(signum)


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
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    # Read-only routes publish no metrics; Powertools warns about it on every call.
    warnings.filterwarnings("ignore", message="No application metrics to publish")


def _hold_for_tests(phase: str) -> None:
    """LOCAL_TEST_HOLD_AT=<phase>: the tests stop the stack at a chosen phase of its start."""
    if os.environ.get("LOCAL_TEST_HOLD_AT") == phase:
        print(f"local stack: holding at {phase}", flush=True)
        threading.Event().wait()


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
    claim = None
    stack: LocalStack | None = None
    try:
        config = config_from_environment()
        _configure_output(config)
        claim = claim_state_dir(config)
        check_ports(config)
        stack = LocalStack(config, started_at=_STARTED, hold=_hold_for_tests)
        stack.start()
        signals.running = True
        if signals.stop.is_set():  # a signal landed between the start's end and this line
            return 0
        print(stack.banner(), flush=True)
        # Wake up now and then: a signal that lands on another thread only runs its
        # Python handler once the main thread returns to the interpreter.
        while not signals.stop.wait(timeout=0.2):
            pass
    except (ConfigError, StartRefused) as refusal:
        print(f"local mode did not start: {refusal}", file=sys.stderr, flush=True)
        return 2
    except Interrupted as interrupted:
        print("Local stack interrupted while starting; stopped.", file=sys.stderr, flush=True)
        return 128 + interrupted.signum
    except OSError as error:  # a port taken between the check and the bind
        print(f"local mode could not start: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        signals.running = True  # stopping is not interrupted by a first signal; a second exits at once
        if stack is not None:
            stack.stop()
        if claim is not None:
            claim.release()
    print("Local stack stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
