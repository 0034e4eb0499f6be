"""``python -m local`` (``make local``): run the whole stack on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import faulthandler
import logging
import signal
import sys
import threading
import time
import warnings

_STARTED = time.perf_counter()

from .config import config_from_environment  # noqa: E402
from .stack import LocalStack  # noqa: E402


def main() -> int:
    config = config_from_environment()
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>` shows where a stack hangs
    logging.basicConfig(level=logging.WARNING if config.quiet else logging.INFO, format="%(name)s: %(message)s")
    for noisy in ("werkzeug", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Read-only routes publish no metrics; Powertools warns about it on every call.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stack = LocalStack(config, started_at=_STARTED)
    try:
        stack.start()
        print(stack.banner(), flush=True)
        # Wake up now and then: a signal that lands on another thread only runs its
        # Python handler once the main thread returns to the interpreter.
        while not stop.wait(timeout=0.2):
            pass
    except OSError as error:
        print(
            f"local mode could not start: {error} (is another stack using ports {config.api_port}/{config.aws_port}? "
            "set LOCAL_API_PORT / LOCAL_AWS_PORT)",
            file=sys.stderr,
        )
        return 1
    finally:
        stack.stop()
    print("Local stack stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
