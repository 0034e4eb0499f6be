"""``python -m tools.parity``: the rehearsal and its report (see the package docstring)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __doc__ as overview
from .build import BUILD_DIR, ParityFailure
from .rehearsal import rehearse
from .runtime import runtime_python


def origin(path: str | None) -> str:
    parts = Path(path or "?").parts
    return parts[parts.index("layers") + 1] if "layers" in parts else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make parity", description=(overview or "").split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR, help="sam build output (default .aws-sam/build)")
    args = parser.parse_args(argv)
    if not (args.build_dir / "template.yaml").is_file():
        print(f"parity: no build in {args.build_dir}; run `make build` first", file=sys.stderr)
        return 2
    try:
        rehearsal = rehearse(runtime_python(), args.build_dir)
    except ParityFailure as failure:
        print(f"parity FAILED: {failure}", file=sys.stderr)
        return 1
    for function, sample, seconds in rehearsal.results:
        print(f"  {function:<28} {sample:<64} ok  {seconds:4.1f} s (cold import + invoke)")
    print("Where each function's packages came from (build artifacts, never the runtime):")
    for function, modules in sorted(rehearsal.modules.items()):
        print(f"  {function:<28} " + ", ".join(f"{name} <- {origin(path)}" for name, path in sorted(modules.items())))
    print("parity: every function imported and ran under the built artifacts on Python 3.13")
    return 0


if __name__ == "__main__":
    sys.exit(main())
