"""``make compact``: run the compaction state machine once on the running local stack.

Finds the stack through .local/stack.json, starts an execution of the real
ASL definition (moto executes it; its Lambda tasks run the real handlers in
the local stack's process) and waits for the result.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from .config import config_from_environment

POLL_SECONDS = 0.5
TIMEOUT_SECONDS = 600


def load_stack_info() -> dict[str, Any] | None:
    stack_file = config_from_environment().stack_file
    if not stack_file.exists():
        print(f"no local stack is running ({stack_file} is missing): start one with `make local`", file=sys.stderr)
        return None
    info: dict[str, Any] = json.loads(stack_file.read_text(encoding="utf-8"))
    return info


def aws_client(info: dict[str, Any], service: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
        aws_session_token="local",
    )


def run_compaction(info: dict[str, Any], include_open_hours: bool = True) -> dict[str, Any]:
    sfn = aws_client(info, "stepfunctions")
    now = datetime.now(UTC)
    name = "local-" + now.strftime("%Y%m%dT%H%M%S%f")
    # Locally, "now" usually means "what I just sent": include the hour still open unless asked not to.
    execution_input = {"cutoff": (now + timedelta(hours=1)).isoformat()} if include_open_hours else {}
    arn = sfn.start_execution(stateMachineArn=info["state_machine_arn"], name=name, input=json.dumps(execution_input))[
        "executionArn"
    ]
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while True:
        execution = sfn.describe_execution(executionArn=arn)
        if execution["status"] != "RUNNING" or time.monotonic() > deadline:
            return dict(execution)
        time.sleep(POLL_SECONDS)


def main() -> int:
    info = load_stack_info()
    if info is None:
        return 1
    if not info.get("state_machine_arn"):
        print("the template declares no compaction state machine", file=sys.stderr)
        return 1
    execution = run_compaction(info, include_open_hours="--closed-hours-only" not in sys.argv)
    output = json.loads(execution.get("output") or "{}")
    print(
        json.dumps(
            {"status": execution["status"], "report": output.get("report"), "error": execution.get("error")}, indent=2
        )
    )
    return 0 if execution["status"] == "SUCCEEDED" else 1


if __name__ == "__main__":
    sys.exit(main())
