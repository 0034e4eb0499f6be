"""`make build` says what each pinned layer installs and how big it came out (issue 25: pip ran under --quiet
for minutes with no word). The recipe run here with a stand-in pip and the BSD stand-ins of
tests/layers/bsd_tools.py, so the lines hold on macOS too."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.layers.test_recipes_portable import MAKE, bsd_environment
from tools.template import ROOT

# Writes 3 MB into pip's --target, as an install would.
FAKE_PIP = """#!/bin/sh
while [ $# -gt 0 ]; do
  if [ "$1" = "--target" ]; then target="$2"; fi
  shift
done
mkdir -p "$target/pkg"
head -c 3145728 /dev/zero > "$target/pkg/data.bin"
"""


def test_given_a_pinned_layer_when_sam_build_runs_its_recipe_then_it_says_what_it_installs_and_its_size(
    tmp_path: Path,
) -> None:
    fake = tmp_path / "python3.13"
    fake.write_text(FAKE_PIP, encoding="utf-8")
    fake.chmod(0o755)
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    pinned = sum(
        1
        for line in (ROOT / "layers/arrow/requirements.txt").read_text().splitlines()
        if "==" in line and line[0].isalnum()
    )

    built = subprocess.run(
        [MAKE, "--no-print-directory", "-f", str(ROOT / "layers/arrow/Makefile"), "build-ArrowLayer",
         f"ARTIFACTS_DIR={artifacts}", f"PYTHON313={fake}", "STRIP=true"],
        cwd=artifacts, env=bsd_environment(tmp_path), capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert built.returncode == 0, built.stderr
    said = [line for line in built.stdout.splitlines() if line.startswith("layers/arrow: ")]
    assert said == [
        f"layers/arrow: pip-installing requirements.txt ({pinned} pinned) for the Lambda runtime (Python 3.13, arm64) ...",
        "layers/arrow: 3 MB unzipped, trimmed and stripped",
    ]
