"""Stand-in for the Lambda Python runtime's bootstrap, run by ``make parity`` in a clean interpreter.

Started as ``python3.13 -I -S lambda_runtime.py <request.json>``: no site
directory, no user site, no PYTHON* variables, so nothing but the standard
library and the paths the request names can be imported, in the order the
Lambda runtime uses (the function's code, its layers, then the runtime's own
packages). Imports the handler, invokes it with the request's event and
writes the outcome as JSON. Standard library only: it must not see the repo.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
import uuid
from typing import Any


class Context:
    """The parts of Lambda's context object that handlers and Powertools read."""

    def __init__(self, function_name: str, memory: int, timeout: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "parity"
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def run(request: dict[str, Any]) -> dict[str, Any]:
    outcome: dict[str, Any] = {"python": list(sys.version_info[:2])}
    sys.path[:0] = request["paths"]
    module_name, handler_name = request["handler"].rsplit(".", 1)
    try:
        module = importlib.import_module(module_name)
        handler = getattr(module, handler_name)
    except BaseException as error:  # noqa: BLE001 - reported as the init error Lambda would log
        outcome.update(phase="init", error=f"{type(error).__name__}: {error}", traceback=traceback.format_exc())
        return outcome
    outcome["modules"] = {
        name: getattr(sys.modules[name], "__file__", None)
        for name in request.get("report_modules", [])
        if name in sys.modules
    }
    # ``repeat`` invocations of one warm container (a rate limit's minute), the epoch minute before the
    # first and after the last (a limit checked across a minute's end is checked again by the caller).
    outcome["responses"], outcome["minutes"] = [], [int(time.time() // 60)]
    try:
        for _ in range(request.get("repeat", 1)):
            context = Context(request["function_name"], request["memory"], request["timeout"])
            outcome["responses"].append(handler(request["event"], context))
        outcome["response"] = outcome["responses"][-1]
        outcome["phase"] = "done"
    except BaseException as error:  # noqa: BLE001 - reported as the invocation error Lambda would return
        outcome.update(phase="invoke", error=f"{type(error).__name__}: {error}", traceback=traceback.format_exc())
    outcome["minutes"].append(int(time.time() // 60))
    return outcome


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as handle:
        request = json.load(handle)
    outcome = run(request)
    with open(request["outcome_path"], "w", encoding="utf-8") as handle:
        json.dump(outcome, handle, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
