"""``make clean`` says what it removes and what it keeps; ``make distclean`` removes the installed environments
too (issue 25: a broken .venv that ``make clean`` left in silence). Real ``make`` in a copy of the Makefile."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tools.template import ROOT

COPIED = ("Makefile", "pyproject.toml", "tests/clients/node/package-lock.json")
BUILT = (".aws-sam/build", ".local/stack.json", ".pytest_cache/x", ".mypy_cache/x", ".ruff_cache/x")
INSTALLED = (".venv/bin/python", ".venv-sam/bin/sam", "tests/clients/node/node_modules/x")
KEEPS = (
    "make clean: keeps .venv .venv-sam tests/clients/node/node_modules (what make installed; "
    "`make distclean` removes them too)"
)
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for name in COPIED:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    for name in (*BUILT, *INSTALLED):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    return tmp_path


def make(checkout: Path, target: str) -> list[str]:
    result = subprocess.run(
        [str(MAKE), "--no-print-directory", target], cwd=checkout, capture_output=True, text=True, check=True
    )
    assert result.stderr == ""
    return result.stdout.splitlines()


def test_given_build_output_and_venvs_when_make_clean_then_it_names_each_removal_and_keeps_the_venvs(checkout):
    lines = make(checkout, "clean")

    assert lines == [
        "make clean: removed .aws-sam",
        "make clean: removed .local",
        "make clean: removed .pytest_cache",
        "make clean: removed .mypy_cache",
        "make clean: removed .ruff_cache",
        KEEPS,
    ]
    assert not any((checkout / name).exists() for name in BUILT)
    assert all((checkout / name).exists() for name in INSTALLED)


def test_given_nothing_to_remove_when_make_clean_then_it_says_so(checkout):
    make(checkout, "clean")

    lines = make(checkout, "clean")

    assert (
        lines[0] == "make clean: nothing to remove (.aws-sam .local .pytest_cache .mypy_cache .ruff_cache are absent)"
    )
    assert lines[1:] == [KEEPS]


def test_given_only_a_venv_when_make_clean_then_it_keeps_only_what_is_there(checkout):
    shutil.rmtree(checkout / ".venv-sam")
    shutil.rmtree(checkout / "tests/clients/node/node_modules")

    lines = make(checkout, "clean")

    assert lines[-1].startswith("make clean: keeps .venv (what make installed;")


def test_given_venvs_when_make_distclean_then_it_removes_and_names_them_too(checkout):
    lines = make(checkout, "distclean")

    assert lines[-3:] == [
        "make distclean: removed .venv",
        "make distclean: removed .venv-sam",
        "make distclean: removed tests/clients/node/node_modules",
    ]
    assert "make distclean: removed .local" in lines
    assert not any((checkout / name).exists() for name in (*BUILT, *INSTALLED))
