"""The Lambda runtime, stood in for: the search path it builds and a clean interpreter that invokes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .build import BuiltFunction, Layer, ParityFailure

SHIM = Path(__file__).with_name("lambda_runtime.py")
REPORTED_MODULES = (
    "boto3",
    "botocore",
    "pydantic",
    "pydantic_core",
    "jsonschema_rs",  # compiled (an abi3 wheel); imported with a container's first custom event type
    "aws_lambda_powertools",
    "pyarrow",
    "awswrangler",
    "pandas",
    "numpy",
)
RUNTIME_STANDINS = ("boto3", "botocore", "s3transfer")


def runtime_standins(target: Path) -> Path:
    """Packages the Lambda runtime ships, as modules that fail on import (see the package docstring)."""
    for name in RUNTIME_STANDINS:
        package = target / name
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text(
            f"raise ImportError('{name} came from the Lambda runtime, whose version differs by runtime release and "
            f"region: the dependencies layer must provide it (docs/dependencies.md)')\n",
            encoding="utf-8",
        )
    return target


def python_path(function: BuiltFunction, layers: Iterable[Layer], runtime_dir: Path) -> list[str]:
    """Lambda's order: the function's code, /opt/python (the layers, merged), the runtime's packages."""
    return [str(function.code_dir), *(str(layer.python_dir) for layer in layers), str(runtime_dir)]


def invoke(
    python: str,
    function: BuiltFunction,
    paths: list[str],
    event: Any,
    environment: dict[str, str],
    report_modules: Iterable[str] = REPORTED_MODULES,
    repeat: int = 1,
) -> dict[str, Any]:
    """Cold-start the handler in ``python -I -S`` with exactly ``paths`` and invoke it ``repeat`` times."""
    with tempfile.TemporaryDirectory() as scratch:
        request_path, outcome_path = Path(scratch) / "request.json", Path(scratch) / "outcome.json"
        request = {
            "paths": paths,
            "handler": function.handler,
            "event": event,
            "function_name": function.logical_id,
            "memory": function.memory,
            "timeout": function.timeout,
            "outcome_path": str(outcome_path),
            "report_modules": list(report_modules),
            "repeat": repeat,
        }
        request_path.write_text(json.dumps(request), encoding="utf-8")
        done = subprocess.run(
            [python, "-I", "-S", str(SHIM), str(request_path)],
            env=environment,
            capture_output=True,
            text=True,
            timeout=max(60, function.timeout * 2),
            check=False,
            cwd=str(function.code_dir),
        )
        if not outcome_path.is_file():
            raise ParityFailure(f"{function.logical_id}: the runtime stand-in crashed:\n{done.stdout}\n{done.stderr}")
        outcome: dict[str, Any] = json.loads(outcome_path.read_text(encoding="utf-8"))
        outcome["log"] = done.stdout[-4000:]
        return outcome


def runtime_python() -> str:
    """The Lambda runtime's Python (python3.13): PARITY_PYTHON, else python3.13 on PATH."""
    found = os.environ.get("PARITY_PYTHON") or shutil.which("python3.13")
    if not found or not Path(found).exists():
        raise ParityFailure("no Python 3.13 found: set PARITY_PYTHON (the Makefile finds pyenv's 3.13.0)")
    return found
