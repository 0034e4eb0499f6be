"""What the built layers deploy, wheel by wheel: each must run on the Lambda runtime (CPython 3.13, arm64,
Amazon Linux 2023's glibc 2.34).

The rehearsal swaps compiled distributions for this machine's builds (:func:`.build.host_layer`), so it
never loads the wheels that deploy: a wheel for another platform, a newer glibc or another Python would pass
it and fail in the cloud at import. So every ``*.dist-info/WHEEL`` of the built layers is read first:

- a compiled wheel (``Root-Is-Purelib: false``, or any tag naming a platform) must carry, in every tag,
  ``cp313-cp313`` or ``cp3X-abi3`` (X at most 13) and a manylinux aarch64 platform of glibc 2.34 at most
  (``manylinux_2_17_aarch64``, ``manylinux2014_aarch64``, ..., ``manylinux_2_34_aarch64``);
- a pure wheel must be tagged ``py3-none-any`` (``py2.py3`` wheels carry that tag too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from .build import Layer, ParityFailure

RUNTIME = (3, 13)
MAX_GLIBC = (2, 34)  # Amazon Linux 2023
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_aarch64$")
_LEGACY_MANYLINUX = {"manylinux2014_aarch64": (2, 17)}  # PEP 599's aarch64 tag (manylinux1 and 2010 have none)
_ABI3 = re.compile(r"^cp3(\d+)$")


def wheel_tags(info: Path) -> tuple[bool, list[str]]:
    """(Root-Is-Purelib, the Tag lines) of a distribution's WHEEL file."""
    fields = [line.split(":", 1) for line in (info / "WHEEL").read_text(encoding="utf-8").splitlines() if ":" in line]
    pure = any(name.strip() == "Root-Is-Purelib" and value.strip().lower() == "true" for name, value in fields)
    return pure, [value.strip() for name, value in fields if name.strip() == "Tag"]


def _platform_problem(platform: str) -> str | None:
    found = _MANYLINUX.match(platform)
    glibc = (int(found.group(1)), int(found.group(2))) if found else _LEGACY_MANYLINUX.get(platform)
    if glibc is None:
        return f"{platform} is not manylinux aarch64"
    if glibc > MAX_GLIBC:
        return f"{platform} needs glibc {glibc[0]}.{glibc[1]}, newer than Amazon Linux 2023's 2.34"
    return None


def _python_problem(interpreter: str, abi: str) -> str | None:
    if (interpreter, abi) == (f"cp{RUNTIME[0]}{RUNTIME[1]}", f"cp{RUNTIME[0]}{RUNTIME[1]}"):
        return None
    minor = _ABI3.match(interpreter)
    if abi == "abi3" and minor and int(minor.group(1)) <= RUNTIME[1]:
        return None
    return f"{interpreter}-{abi} is neither cp313 nor abi3 for Python 3.13"


def tag_problems(pure: bool, tags: list[str]) -> list[str]:
    """Why a wheel with these tags would not run on the Lambda runtime; empty when it would."""
    if not tags:
        return ["no Tag in WHEEL"]
    parts = [tag.split("-") for tag in tags]
    if any(len(part) != 3 for part in parts):
        return [f"malformed tags {tags}"]
    if pure and all(platform == "any" for _, _, platform in parts):
        return [] if "py3-none-any" in tags else [f"pure wheel tagged {', '.join(tags)}, not py3-none-any"]
    problems = []
    for tag, (interpreter, abi, platform) in zip(tags, parts, strict=True):
        found = [p for p in (_python_problem(interpreter, abi), _platform_problem(platform)) if p]
        problems += [f"{tag}: {'; '.join(found)}"] if found else []
    return problems


def wheel_problems(layers: Iterable[Layer]) -> list[str]:
    """Every deployed distribution, by layer, that was not installed from a wheel for the Lambda runtime."""
    problems = []
    for layer in layers:
        for info in sorted(layer.python_dir.glob("*.dist-info")):
            where = f"{layer.logical_id}: {info.name}"
            if not (info / "WHEEL").is_file():
                problems.append(f"{where}: no WHEEL file (not installed from a wheel)")
                continue
            problems += [f"{where}: {problem}" for problem in tag_problems(*wheel_tags(info))]
    return problems


def check_wheels(layers: Iterable[Layer]) -> None:
    problems = wheel_problems(layers)
    if problems:
        raise ParityFailure(
            "wheels that would not run on the Lambda runtime (CPython 3.13, arm64, glibc 2.34):\n  "
            + "\n  ".join(problems)
        )
