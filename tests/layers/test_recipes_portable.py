"""The layer recipes `sam build` runs (layers/common/Makefile, layers/pip-layer.mk) use only what macOS's BSD
file tools accept: run here with stand-ins that refuse GNU-only options (tests/layers/bsd_tools.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.layers.bsd_tools import bsd_tools
from tools.template import ROOT

MAKE = shutil.which("make") or "make"


def bsd_environment(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PATH": f"{bsd_tools(tmp_path / 'bsd-bin')}{os.pathsep}{os.environ['PATH']}"}


def shell(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    sh = shutil.which("sh") or "/bin/sh"
    return subprocess.run(
        [sh, "-c", script], cwd=tmp_path, env=bsd_environment(tmp_path), capture_output=True, text=True, check=False
    )


def test_given_bsd_tools_when_a_gnu_only_option_is_used_then_the_stand_in_refuses_it_and_a_portable_one_runs(
    tmp_path,
):
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")

    gnu = shell("install -D -m 644 a.py out/pkg/a.py", tmp_path)
    portable = shell("mkdir -p out/pkg && cp a.py out/pkg/a.py", tmp_path)

    assert gnu.returncode != 0
    assert "not BSD (macOS) install: option -D" in gnu.stderr
    assert portable.returncode == 0, portable.stderr
    assert (tmp_path / "out/pkg/a.py").read_text(encoding="utf-8") == "x = 1\n"


def test_given_bsd_tools_when_the_common_layer_is_built_then_it_ships_every_source(tmp_path):
    source = ROOT / "layers" / "common"
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()

    built = subprocess.run(
        [MAKE, "-s", "-f", str(source / "Makefile"), "build-CommonLayer", f"ARTIFACTS_DIR={artifacts}"],
        cwd=artifacts,
        env=bsd_environment(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )

    assert built.returncode == 0, built.stderr
    shipped = {p.relative_to(artifacts / "python") for p in (artifacts / "python").rglob("*") if p.is_file()}
    sources = {p.relative_to(source / "python") for p in (source / "python" / "event_collector").rglob("*.py")}
    assert shipped == sources


def test_given_bsd_tools_when_a_layer_is_trimmed_then_the_recipe_runs_and_trims(tmp_path):
    layer = tmp_path / "python"
    for relative in ("pkg/__init__.py", "pkg/tests/test_x.py", "pkg/_x.pyx", "pkg/include/x.h", "bin/script"):
        (layer / relative).parent.mkdir(parents=True, exist_ok=True)
        (layer / relative).write_text("x", encoding="utf-8")

    trimmed = subprocess.run(
        [MAKE, "-s", "-f", str(ROOT / "layers" / "pip-layer.mk"), "trim", f"LAYER_PYTHON={layer}", "STRIP=true"],
        env=bsd_environment(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )

    assert trimmed.returncode == 0, trimmed.stderr
    # (No shared object here: stripping one is tests/test_template.py's; STRIP=true stands in for llvm-strip.)
    assert {str(p.relative_to(layer)) for p in layer.rglob("*")} == {"pkg", "pkg/__init__.py"}
