"""Cold import time of each lean Lambda handler module, as a ratio to ``import boto3``.

Each measurement is a fresh interpreter (a cold start's import phase); the
median of several runs is reported. Run: ``make bench``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
HANDLERS = ("collector", "authorizer")

TIMED = "import time; _t = time.perf_counter(); {statement}; print(time.perf_counter() - _t)"


def time_import(statement: str) -> float:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "PYTHONDONTWRITEBYTECODE": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "layers/common/python")])
    timings = []
    for _ in range(RUNS):
        result = subprocess.run(
            [sys.executable, "-c", TIMED.format(statement=statement)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        timings.append(float(result.stdout.strip().splitlines()[-1]))
    return statistics.median(timings)


def main() -> None:
    baseline = time_import("import boto3")
    print(f"baseline `import boto3`: {baseline * 1000:7.1f} ms (median of {RUNS} fresh interpreters)")
    for name in HANDLERS:
        seconds = time_import(f"from local.functions import load_function; load_function({name!r})")
        print(f"functions/{name}/app.py: {seconds * 1000:7.1f} ms  ratio to boto3: {seconds / baseline:.2f}x")


if __name__ == "__main__":
    main()
