"""Cold import of each request-path handler, as a ratio to ``import boto3`` measured in the same run.

Each measurement is a fresh interpreter doing what Lambda's init phase does:
an isolated interpreter (``-I -S``: no site processing, so none of this
venv's ``.pth`` import hooks) whose ``sys.path`` is the function's code, the
common layer and the installed packages (the layers' stand-in), exactly the
function's environment from the (transformed) template, and ``import app``
(module-scope clients included). Runs alternate with ``import boto3`` in a
fresh interpreter, so both see the same machine load; the median of each is
reported. Run: ``make bench`` or ``.venv/bin/python bench/cold_import_bench.py``.
"""

from __future__ import annotations

import os
import site
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]

from tools.sam import function_environment, function_logical_id  # noqa: E402

RUNS = 11
HANDLERS = ("authorizer", "collector")
TIMED = (
    "import sys, time; sys.path[:0] = sys.argv[1:]; _t = time.perf_counter(); {statement}; "
    "print(time.perf_counter() - _t)"
)


def time_once(statement: str, env: dict[str, str], paths: list[str]) -> float:
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", TIMED.format(statement=statement), *paths, *site.getsitepackages()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def measure(name: str) -> tuple[float, float]:
    """Median seconds of ``import app`` for the function and of ``import boto3``, runs interleaved."""
    base = {"PATH": os.environ["PATH"], "AWS_DEFAULT_REGION": "us-east-1", "PYTHONDONTWRITEBYTECODE": "1"}
    env = {**base, **function_environment(function_logical_id(name))}
    paths = [str(ROOT / "functions" / name), str(ROOT / "layers/common/python")]
    handler, boto3 = [], []
    for _ in range(RUNS):
        boto3.append(time_once("import boto3", base, []))
        handler.append(time_once("import app", env, paths))
    return statistics.median(handler), statistics.median(boto3)


def main() -> None:
    print(f"cold import, median of {RUNS} fresh interpreters each, interleaved with `import boto3`:")
    for name in HANDLERS:
        handler, boto3 = measure(name)
        print(
            f"  functions/{name}/app.py: {handler * 1000:6.1f} ms; `import boto3` {boto3 * 1000:6.1f} ms; "
            f"ratio {handler / boto3:.2f}x"
        )


if __name__ == "__main__":
    main()
