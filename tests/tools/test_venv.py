"""The development environment (tools/venv.sh, the Makefile's ``venv``), in a copy of the Makefile run by real
``make`` on a PATH of its own: stand-in Pythons that report a version and whose ``-m venv`` makes a stand-in
``.venv/bin/python``, whose ``pip`` only records that it ran (no network, nothing installed).

Issue 15: the first run says what it installs before it does. Issue 25: ``PYTHON=python3.10`` stops at once with
one line and nothing installed; a ``.venv`` whose interpreter is missing or too old is rebuilt, said in one line;
the stamp is written only after a successful install."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tools.template import ROOT

# What the Makefile reads when it is parsed or runs `venv`: the requirements (the stamp's checksum), the Node
# lock file and the script.
COPIED = (
    "Makefile",
    "tools/venv.sh",
    "requirements-dev.txt",
    "pyproject.toml",
    "layers/dependencies/requirements.txt",
    "layers/arrow/requirements.txt",
    "layers/wrangler/requirements.txt",
    "tests/clients/node/package-lock.json",
)
# The only commands the recipes and the script find on PATH, besides the stand-ins.
SYSTEM_TOOLS = ("sh", "cat", "cksum", "cut", "sort", "head", "rm", "ls", "touch", "sed", "mkdir", "chmod")
ANNOUNCEMENT = "Installing the development environment into .venv"
PIP = "stand-in python -m pip install"
# A stand-in for .venv/bin/python, reporting VERSION: `-m pip ...` prints a line (or fails when PIP_FAILS is set).
VENV_PYTHON = """#!/bin/sh
if [ "$1" = -c ]; then echo {version}; exit 0; fi
echo "stand-in python $*"
if [ -n "$PIP_FAILS" ]; then echo "ERROR: no network" >&2; exit 1; fi
"""
# A stand-in for a system Python (PYTHON): its `-m venv DIR` makes DIR/bin/python, of its own version.
SYSTEM_PYTHON = """#!/bin/sh
if [ "$1" = -c ]; then echo {version}; exit 0; fi
if [ "$1 $2" = "-m venv" ]; then
  [ -z "$VENV_FAILS" ] || {{ echo "Error: ensurepip is not available" >&2; exit 1; }}
  mkdir -p "$3/bin" && cat > "$3/bin/python" <<'EOF'
{venv_python}EOF
  chmod +x "$3/bin/python"; exit 0
fi
exit 1
"""
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for name in COPIED:
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in SYSTEM_TOOLS:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return tmp_path


def system_python(checkout: Path, name: str, version: str) -> None:
    script = checkout / "bin" / name
    script.write_text(SYSTEM_PYTHON.format(version=version, venv_python=VENV_PYTHON.format(version=version)))
    script.chmod(0o755)


def with_stand_in_venv(checkout: Path, version: str = "3.11") -> Path:
    python = checkout / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(VENV_PYTHON.format(version=version))
    python.chmod(0o755)
    return python


def make(checkout: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAKE), "--no-print-directory", *args],
        cwd=checkout,
        env={"PATH": str(checkout / "bin"), "HOME": str(checkout), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_given_python_3_10_when_make_local_runs_then_one_line_names_the_version_and_nothing_is_installed(checkout):
    system_python(checkout, "python3.10", "3.10")
    system_python(checkout, "python3.12", "3.12")

    result = make(checkout, "local", "PYTHON=python3.10")

    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == (
        "make: Python 3.11 or newer is needed and PYTHON=python3.10 is Python 3.10; "
        "choose another: `make local PYTHON=python3.12`"
    )
    assert len([line for line in result.stderr.splitlines() if not line.startswith("make: ***")]) == 1
    assert ANNOUNCEMENT not in result.stdout
    assert PIP not in result.stdout
    assert not (checkout / ".venv").exists()


def test_given_no_recent_python_on_path_when_make_test_runs_then_the_line_says_to_install_one(checkout):
    system_python(checkout, "python3", "3.9")

    result = make(checkout, "lint")

    assert result.returncode != 0
    assert "PYTHON=python3 is Python 3.9; install one" in result.stderr
    assert "then `make lint PYTHON=python3.11`" in result.stderr
    assert not (checkout / ".venv").exists()


def test_given_a_python_that_does_not_exist_when_make_runs_then_the_line_says_so(checkout):
    result = make(checkout, "venv", "PYTHON=python3.99")

    assert result.returncode != 0
    assert "make: Python 3.11 or newer is needed and PYTHON=python3.99 does not run" in result.stderr
    assert not (checkout / ".venv").exists()


def test_given_a_venv_made_with_python_3_10_when_rerun_with_3_11_then_it_is_rebuilt_saying_so(checkout):
    old = with_stand_in_venv(checkout, version="3.10")
    (checkout / ".venv" / ".installed-1").touch()
    (checkout / ".venv" / "leftover").touch()
    system_python(checkout, "python3.11", "3.11")

    result = make(checkout, "venv", "PYTHON=python3.11")

    lines = result.stderr.splitlines()
    assert result.returncode == 0, result.stderr
    assert lines[0] == "make: .venv was made with Python 3.10 (3.11 or newer is needed): rebuilding it with python3.11"
    assert lines[1].startswith(ANNOUNCEMENT)
    assert any(line.startswith(PIP) for line in lines)
    assert not (checkout / ".venv" / "leftover").exists()
    assert "echo 3.11" in old.read_text()  # the new interpreter
    assert len(list((checkout / ".venv").glob(".installed-*"))) == 1


def test_given_a_venv_whose_python_is_gone_when_make_runs_then_it_is_rebuilt_saying_so(checkout):
    (checkout / ".venv" / "bin").mkdir(parents=True)
    (checkout / ".venv" / "bin" / "python").symlink_to(checkout / "uninstalled-python3.11")
    system_python(checkout, "python3", "3.11")

    result = make(checkout, "venv")

    assert result.returncode == 0, result.stderr
    assert (
        result.stderr.splitlines()[0]
        == "make: .venv/bin/python is missing or does not start: rebuilding .venv with python3"
    )
    assert PIP in result.stderr


def test_given_a_failing_venv_module_when_make_runs_then_one_line_says_why_and_no_half_venv_is_left(checkout):
    system_python(checkout, "python3", "3.11")

    result = make(checkout, "venv", env={"VENV_FAILS": "1"})

    assert result.returncode != 0
    assert "make: `python3 -m venv .venv` failed (Debian and Ubuntu: apt-get install python3-venv)" in result.stderr
    assert not (checkout / ".venv").exists()


def test_given_the_makefile_when_read_then_its_minimum_python_is_pyprojects_requires_python(checkout):
    with open(ROOT / "pyproject.toml", "rb") as pyproject:
        requires = tomllib.load(pyproject)["project"]["requires-python"]

    recipe = make(checkout, "-n", "venv").stdout

    assert requires == ">=3.11"
    assert 'sh tools/venv.sh .venv "python3" 3.11 ' in recipe


def test_given_no_venv_when_installing_then_the_announcement_comes_before_the_venv_and_pip(checkout):
    system_python(checkout, "python3", "3.11")

    result = make(checkout, "venv")

    lines = result.stderr.splitlines()
    assert result.returncode == 0, result.stderr
    assert lines[0].startswith(ANNOUNCEMENT)
    assert "about 2 minutes and 750 MB" in lines[1]
    pip = next(i for i, line in enumerate(lines) if line.startswith(PIP))
    assert 1 < pip < lines.index("Development environment ready.")
    assert list((checkout / ".venv").glob(".installed-*"))


def test_given_an_installed_venv_when_nothing_changed_then_nothing_is_announced_or_installed(checkout):
    with_stand_in_venv(checkout)
    assert make(checkout, "venv").returncode == 0

    again = make(checkout, "venv")

    assert again.returncode == 0
    assert again.stdout == ""
    assert again.stderr == ""


def test_given_a_changed_requirements_file_when_venv_runs_then_it_announces_and_reinstalls(checkout):
    with_stand_in_venv(checkout)
    assert make(checkout, "venv").returncode == 0
    with open(checkout / "requirements-dev.txt", "a", encoding="utf-8") as requirements:
        requirements.write("# changed\n")

    again = make(checkout, "venv")

    lines = again.stderr.splitlines()
    assert again.returncode == 0
    assert lines[0].startswith(ANNOUNCEMENT)
    assert lines[1] == "(a requirements file changed since the last install) ..."
    assert PIP in again.stderr
    assert len(list((checkout / ".venv").glob(".installed-*"))) == 1  # the old stamp is gone


def test_given_a_venv_in_order_when_requirements_change_then_it_reinstalls_whatever_python_is(checkout):
    with_stand_in_venv(checkout)
    assert make(checkout, "venv").returncode == 0
    system_python(checkout, "python3.10", "3.10")
    with open(checkout / "requirements-dev.txt", "a", encoding="utf-8") as requirements:
        requirements.write("# changed\n")

    again = make(checkout, "venv", "PYTHON=python3.10")

    assert again.returncode == 0, again.stderr
    assert PIP in again.stderr  # with .venv's own Python: PYTHON only makes a venv


def test_given_a_failing_install_when_venv_runs_then_make_fails_and_the_next_run_tries_again(checkout):
    with_stand_in_venv(checkout)

    failed = make(checkout, "venv", env={"PIP_FAILS": "1"})
    stamps_after_failure = list((checkout / ".venv").glob(".installed-*"))
    retried = make(checkout, "venv")

    assert failed.returncode != 0
    assert failed.stderr.splitlines()[0].startswith(ANNOUNCEMENT)  # said before it failed
    assert "ERROR: no network" in failed.stderr
    assert "Development environment ready." not in failed.stderr
    assert stamps_after_failure == []
    assert retried.returncode == 0
    assert retried.stderr.splitlines()[:2] == [
        "Installing the development environment into .venv from the pinned requirements",
        "(the last install did not finish: installing again) ...",
    ]


def test_given_a_first_run_when_installing_then_pip_shows_its_progress(checkout):
    with_stand_in_venv(checkout)

    result = make(checkout, "venv")

    pip = next(line for line in result.stderr.splitlines() if line.startswith(PIP))
    assert "-q" not in pip.split()
    assert "--progress-bar on" in pip


def test_given_a_first_run_when_a_target_installs_then_nothing_reaches_its_stdout(checkout):
    """`make compact | jq` on a fresh clone: the install's lines and pip's output go to stderr."""
    system_python(checkout, "python3", "3.11")

    result = make(checkout, "venv")

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert ANNOUNCEMENT in result.stderr
