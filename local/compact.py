"""``make compact``: run the compaction state machine once on the running local stack.

Finds the stack through .local/stack.json and asks its gateway to run the
real ASL definition (moto executes it; its Lambda tasks run the real
handlers inside the stack). By default the hour still open is included, so
what you just sent is compacted; ``--closed-hours-only`` (``make compact
CLOSED_HOURS_ONLY=1``) keeps the grace rule. Standard output is the run's
JSON alone (``make compact | jq``); every message goes to standard error.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from typing import Any

from .config import ConfigError, config_from_environment
from .preflight import stack_is_running

TIMEOUT_SECONDS = 600


def load_stack_info() -> dict[str, Any] | None:
    """The running stack's stack.json, or None after one line on stderr saying why there is none."""
    try:
        config = config_from_environment()
    except ConfigError as error:
        print(f"cannot find the local stack: {error}", file=sys.stderr)
        return None
    stack_file = config.stack_file
    if not stack_file.exists():
        print(f"no local stack is running ({stack_file} is missing): start one with `make local`", file=sys.stderr)
        return None
    if not stack_is_running(config):
        print(
            f"no local stack is running ({stack_file} was left by one that did not stop cleanly): "
            "start one with `make local`",
            file=sys.stderr,
        )
        return None
    try:
        info: dict[str, Any] = json.loads(stack_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"cannot read {stack_file}: {error}", file=sys.stderr)
        return None
    return info


def run_compaction(info: dict[str, Any], closed_hours_only: bool = False) -> dict[str, Any]:
    request = urllib.request.Request(
        info["api_url"] + "/__local/compact",
        data=json.dumps({"closed_hours_only": closed_hours_only}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
        result: dict[str, Any] = json.loads(answer.read())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make compact", description="Run the compaction state machine once on the running local stack."
    )
    parser.add_argument(
        "--closed-hours-only",
        action="store_true",
        help="keep the grace rule: leave the hour still open (make compact CLOSED_HOURS_ONLY=1)",
    )
    arguments = parser.parse_args(argv)
    info = load_stack_info()
    if info is None:
        return 1
    if not info.get("state_machine_arn"):
        print("the template declares no compaction state machine", file=sys.stderr)
        return 1
    try:
        result = run_compaction(info, closed_hours_only=arguments.closed_hours_only)
    except (OSError, ValueError) as error:  # URLError and HTTPError are OSErrors
        print(f"the local stack at {info['api_url']} did not answer the compaction: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0 if result["status"] == "SUCCEEDED" else 1


if __name__ == "__main__":
    sys.exit(main())
