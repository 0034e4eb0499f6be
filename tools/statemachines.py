"""State machine definitions with their ``${...}`` substitutions filled in, and their lint.

``python -m tools.statemachines --lint`` runs statelint on every
``statemachines/*.asl.json`` after substituting placeholder ARNs, as
``make test`` requires.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tools.template import ROOT

STATEMACHINE_DIR = ROOT / "statemachines"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.:]+)\}")


def substitute(definition: str, values: Mapping[str, str]) -> str:
    """Replace every ``${Name}``; a name without a value is an error, never left in place."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"no value for ${{{name}}}")
        return values[name]

    return _PLACEHOLDER.sub(replace, definition)


def placeholder_values(definition: str) -> dict[str, str]:
    """Plausible stand-ins for lint: ARNs for names ending in Arn, the commercial partition, plain names otherwise."""
    values = {}
    for name in set(_PLACEHOLDER.findall(definition)):
        if name == "Partition":
            values[name] = "aws"
        elif name.endswith("Arn"):
            values[name] = f"arn:aws:lambda:us-east-1:123456789012:function:{name.removesuffix('Arn')}"
        else:
            values[name] = name.lower()
    return values


def lint_all(directory: Path = STATEMACHINE_DIR) -> int:
    definitions = sorted(directory.glob("*.asl.json")) if directory.is_dir() else []
    if not definitions:
        print("statelint: no state machine definitions yet")
        return 0
    failures = 0
    for path in definitions:
        text = path.read_text(encoding="utf-8")
        filled = substitute(text, placeholder_values(text))
        result = subprocess.run(
            [sys.executable, "-m", "statelint", filled], capture_output=True, text=True, check=False
        )
        status = "ok" if result.returncode == 0 else "FAILED"
        print(f"statelint {path.relative_to(ROOT)}: {status}")
        if result.returncode:
            print(result.stdout + result.stderr)
            failures += 1
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make statelint", description="statelint every statemachines/*.asl.json")
    parser.add_argument("--lint", action="store_true", required=True, help="lint them (the only action)")
    parser.parse_args(argv)
    return lint_all()


if __name__ == "__main__":
    sys.exit(main())
