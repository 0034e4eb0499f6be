"""``python -m tools.parity.sizes`` (the end of ``make build``): every layer's and every function's unzipped size.

Lambda refuses a function whose code and layers together exceed 250 MB unzipped
(262,144,000 bytes), and only at deploy time; this prints each function's total
against that limit from the ``sam build`` output, and fails when one is over.
``make parity`` checks the same limit (:func:`.build.check_fit`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from .build import BUILD_DIR, MAX_UNZIPPED_BYTES, BuiltFunction, built_functions, function_bytes, unzipped_bytes

MB = 2**20


def report(functions: Iterable[BuiltFunction]) -> tuple[list[str], bool]:
    """The lines to print, and whether every function fits."""
    functions = sorted(functions, key=lambda f: f.logical_id)
    layers = {layer.logical_id: layer for function in functions for layer in function.layers}
    lines = ["Unzipped sizes (Lambda's limit: 250 MB per function, its code and all its layers):"]
    lines += [
        f"  {name:<30} {unzipped_bytes([layer.root]) / MB:6.1f} MB  layer" for name, layer in sorted(layers.items())
    ]
    fits = True
    for function in functions:
        size = function_bytes(function)
        over = size > MAX_UNZIPPED_BYTES
        fits = fits and not over
        parts = " + ".join(["code", *(layer.logical_id for layer in function.layers)])
        verdict = "OVER the limit" if over else f"{(MAX_UNZIPPED_BYTES - size) / MB:5.1f} MB to spare"
        lines.append(f"  {function.logical_id:<30} {size / MB:6.1f} MB of 250 MB, {verdict} ({parts})")
    return lines, fits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.parity.sizes", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR, help="sam build output (default .aws-sam/build)")
    args = parser.parse_args(argv)
    if not (args.build_dir / "template.yaml").is_file():
        print(f"sizes: no build in {args.build_dir}; run `make build` first", file=sys.stderr)
        return 2
    lines, fits = report(built_functions(args.build_dir).values())
    print("\n".join(lines))
    if not fits:
        print("a function is over Lambda's 250 MB unzipped: trim its layers (layers/pip-layer.mk)", file=sys.stderr)
    return 0 if fits else 1


if __name__ == "__main__":
    sys.exit(main())
