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

import io
import os
import shutil
import site
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]

from tools.sam import function_environment, function_logical_id  # noqa: E402

RUNS = 11
HANDLERS = ("authorizer", "collector")
TARGETS = {"authorizer": 1.2, "collector": 1.5}  # issue 13: ratio to `import boto3` in the same run
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


def code_at(revision: str, into: Path) -> Path:
    """The functions and the common layer as they were at ``revision`` (for a before/after in one run)."""
    git = shutil.which("git") or "git"
    archive = subprocess.run(
        [git, "archive", revision, "functions", "layers/common"], cwd=ROOT, capture_output=True, check=True
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def measure(name: str, roots: dict[str, Path], runs: int = RUNS) -> dict[str, float]:
    """Median seconds of ``import app`` for the function at each root and of ``import boto3``, runs interleaved.

    Every root is imported with today's environment from the template (older code needs no more)."""
    base = {"PATH": os.environ["PATH"], "AWS_DEFAULT_REGION": "us-east-1", "PYTHONDONTWRITEBYTECODE": "1"}
    env = {**base, **function_environment(function_logical_id(name))}
    timings: dict[str, list[float]] = {"boto3": [], **{label: [] for label in roots}}
    for _ in range(runs):
        timings["boto3"].append(time_once("import boto3", base, []))
        for label, root in roots.items():
            paths = [str(root / "functions" / name), str(root / "layers/common/python")]
            timings[label].append(time_once("import app", env, paths))
    return {label: statistics.median(values) for label, values in timings.items()}


def main() -> None:
    """``--before REV``: also time the handlers as they were at REV (make bench: the commit before issue 13)."""
    args = sys.argv[1:]
    before = args[args.index("--before") + 1] if "--before" in args else None
    runs = 1 if "--quick" in args else RUNS
    print(f"cold import, median of {runs} fresh interpreters each, interleaved with `import boto3`:")
    with tempfile.TemporaryDirectory() as scratch:
        roots = {"now": ROOT}
        if before:
            try:
                roots = {f"at {before}": code_at(before, Path(scratch)), **roots}
            except subprocess.CalledProcessError:
                print(f"  (no 'before' figures: revision {before} is not in this clone; a shallow clone?)")
        for name in HANDLERS:
            medians = measure(name, roots, runs)
            boto3 = medians.pop("boto3")
            for label, handler in medians.items():
                print(
                    f"  functions/{name}/app.py ({label}): {handler * 1000:6.1f} ms; `import boto3` "
                    f"{boto3 * 1000:6.1f} ms; ratio {handler / boto3:.2f}x (target <= {TARGETS[name]}x)"
                )


if __name__ == "__main__":
    main()
