"""The first run's install says what it is doing before it does it (issue 15: "a progress line on first-run
installs"), in a copy of the Makefile: ``make -n`` for what would run, and real runs with a stand-in Python whose
``pip`` only records that it ran (no network, nothing installed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tools.template import ROOT

# What the Makefile reads when it is parsed: the requirements (the stamp's checksum) and the Node lock file.
COPIED = (
    "Makefile",
    "requirements-dev.txt",
    "pyproject.toml",
    "layers/dependencies/requirements.txt",
    "layers/arrow/requirements.txt",
    "layers/wrangler/requirements.txt",
    "tests/clients/node/package-lock.json",
)
ANNOUNCEMENT = "Installing the development environment into .venv"
# A stand-in for .venv/bin/python: `-m pip ...` prints a line (or fails when PIP_FAILS is set).
STAND_IN = """#!/bin/sh
echo "stand-in python $*"
if [ -n "$PIP_FAILS" ]; then echo "ERROR: no network" >&2; exit 1; fi
"""
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for name in COPIED:
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return tmp_path


def make(checkout: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAKE), "--no-print-directory", *args],
        cwd=checkout,
        env={"PATH": "/usr/bin:/bin", "HOME": str(checkout), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def with_stand_in_venv(checkout: Path) -> Path:
    python = checkout / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(STAND_IN)
    python.chmod(0o755)
    return python


def test_given_no_venv_when_venv_would_be_made_then_the_announcement_comes_before_the_venv_and_pip(checkout):
    result = make(checkout, "-n", "venv")

    lines = result.stdout.splitlines()
    announced = next(i for i, line in enumerate(lines) if ANNOUNCEMENT in line)
    size = next(i for i, line in enumerate(lines) if "about 2 minutes and 750 MB" in line)
    created = next(i for i, line in enumerate(lines) if "-m venv .venv" in line)
    pip = next(i for i, line in enumerate(lines) if "-m pip install" in line)
    assert result.returncode == 0, result.stderr
    assert announced < size < created < pip


def test_given_a_first_run_when_installing_then_the_announcement_is_printed_before_pip_runs(checkout):
    with_stand_in_venv(checkout)

    result = make(checkout, "venv")

    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    assert lines[0].startswith(ANNOUNCEMENT)
    pip = next(i for i, line in enumerate(lines) if line.startswith("stand-in python -m pip install"))
    assert 0 < pip < lines.index("Development environment ready.")
    assert list((checkout / ".venv").glob(".installed-*"))


def test_given_an_installed_venv_when_nothing_changed_then_nothing_is_announced_or_installed(checkout):
    with_stand_in_venv(checkout)
    assert make(checkout, "venv").returncode == 0

    again = make(checkout, "venv")

    assert again.returncode == 0
    assert ANNOUNCEMENT not in again.stdout
    assert "stand-in python" not in again.stdout


def test_given_a_changed_requirements_file_when_venv_runs_then_it_announces_and_reinstalls(checkout):
    with_stand_in_venv(checkout)
    assert make(checkout, "venv").returncode == 0
    with open(checkout / "requirements-dev.txt", "a", encoding="utf-8") as requirements:
        requirements.write("# changed\n")

    again = make(checkout, "venv")

    assert again.returncode == 0
    assert again.stdout.splitlines()[0].startswith(ANNOUNCEMENT)
    assert "stand-in python -m pip install" in again.stdout
    assert len(list((checkout / ".venv").glob(".installed-*"))) == 1  # the old stamp is gone


def test_given_a_failing_install_when_venv_runs_then_make_fails_and_the_next_run_tries_again(checkout):
    with_stand_in_venv(checkout)

    failed = make(checkout, "venv", env={"PIP_FAILS": "1"})
    retried = make(checkout, "venv")

    assert failed.returncode != 0
    assert failed.stdout.splitlines()[0].startswith(ANNOUNCEMENT)  # said before it failed
    assert "ERROR: no network" in failed.stderr
    assert "Development environment ready." not in failed.stdout
    assert retried.returncode == 0
    assert retried.stdout.splitlines()[0].startswith(ANNOUNCEMENT)


def test_given_a_first_run_when_installing_then_pip_shows_its_progress(checkout):
    result = make(checkout, "-n", "venv")

    pip = next(line for line in result.stdout.splitlines() if "-m pip install" in line)
    assert " -q " not in f" {pip} "
