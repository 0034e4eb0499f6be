"""``make compact``: start one compaction run on the running local stack (found through .local/stack.json)."""

from __future__ import annotations

import json
import sys

from .config import config_from_environment


def main() -> int:
    stack_file = config_from_environment().stack_file
    if not stack_file.exists():
        print(f"no local stack is running ({stack_file} is missing): start one with `make local`", file=sys.stderr)
        return 1
    info = json.loads(stack_file.read_text(encoding="utf-8"))
    if not info.get("state_machine_arn"):
        print("the template declares no compaction state machine yet; nothing to run", file=sys.stderr)
        return 1
    print("compaction through the local mode is not wired yet", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
