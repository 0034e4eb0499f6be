"""What ``make test`` installs before its tests (tools/prerequisites.sh): Debian's chromium, jq and llvm where
missing, as root or through sudo, else one line saying how. Run on a PATH of its own with stand-ins for ``id``,
``apt-get`` and ``sudo`` that record their calls: nothing is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tools.template import ROOT

SCRIPT = ROOT / "tools" / "prerequisites.sh"
SH = shutil.which("sh") or "/bin/sh"
RECORDER = '#!/bin/sh\necho "$(basename "$0") $*" >> "$CALLS"\n'
# apt-get whose install fails until `update` ran: an image whose package lists were never fetched.
STALE_APT_GET = RECORDER + 'case "$1" in install) grep -q "apt-get update" "$CALLS" || exit 100;; esac\n'
SUDO = '#!/bin/sh\necho "sudo $*" >> "$CALLS"\nexec "$@"\n'


def run(
    tmp_path: Path,
    *,
    present: tuple[str, ...] = ("chromium", "jq", "llvm-strip"),
    uid: int = 0,
    sudo: bool = False,
    apt_get: str = RECORDER,
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("basename", "grep"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    stand_ins = {"id": f"#!/bin/sh\necho {uid}\n", "apt-get": apt_get}
    stand_ins.update({tool: RECORDER for tool in ("jq", "llvm-strip") if tool in present})
    if sudo:
        stand_ins["sudo"] = SUDO
    for name, text in stand_ins.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    chromium = tmp_path / "chromium"
    if "chromium" in present:
        chromium.write_text(RECORDER)
        chromium.chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    result = subprocess.run(
        [SH, str(SCRIPT)],
        env={"PATH": str(bin_dir), "CALLS": str(calls), "CHROMIUM": str(chromium)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result, calls.read_text().splitlines()


def test_given_everything_present_when_checked_then_nothing_is_installed_or_printed(tmp_path: Path) -> None:
    result, calls = run(tmp_path)

    assert result.returncode == 0
    assert (result.stdout, result.stderr) == ("", "")
    assert calls == []


def test_given_no_jq_as_root_when_checked_then_apt_get_installs_jq_and_says_so(tmp_path: Path) -> None:
    result, calls = run(tmp_path, present=("chromium", "llvm-strip"))

    assert result.returncode == 0, result.stderr
    assert calls == ["apt-get install -y -q jq"]
    assert result.stdout.splitlines()[0] == "make test: installing Debian's jq (the docs tests): apt-get install -y jq"


def test_given_nothing_present_as_root_when_lists_are_stale_then_it_updates_once_and_installs_all(
    tmp_path: Path,
) -> None:
    result, calls = run(tmp_path, present=(), apt_get=STALE_APT_GET)

    assert result.returncode == 0, result.stderr
    assert calls == [
        "apt-get install -y -q chromium jq llvm",
        "apt-get update -q",
        "apt-get install -y -q chromium jq llvm",
    ]


def test_given_no_chromium_and_not_root_with_sudo_when_checked_then_sudo_installs_it(tmp_path: Path) -> None:
    result, calls = run(tmp_path, present=("jq", "llvm-strip"), uid=1000, sudo=True)

    assert result.returncode == 0, result.stderr
    assert calls == ["sudo apt-get install -y -q chromium", "apt-get install -y -q chromium"]
    assert "sudo apt-get install -y chromium" in result.stdout


def test_given_missing_packages_and_not_root_without_sudo_when_checked_then_one_line_says_how(tmp_path: Path) -> None:
    result, calls = run(tmp_path, present=("llvm-strip",), uid=1000)

    assert result.returncode != 0
    assert calls == []
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "make test: the tests need Debian's chromium (the browser tests), jq (the docs tests), and this user is not "
        "root and has no sudo: sudo apt-get install -y chromium jq"
    ]


def test_given_an_install_that_fails_when_checked_then_one_line_says_how_and_make_test_stops(tmp_path: Path) -> None:
    result, _ = run(tmp_path, present=("chromium", "jq"), apt_get="#!/bin/sh\nexit 100\n")

    assert result.returncode != 0
    assert result.stderr.splitlines()[-1] == (
        "make test: the tests need Debian's llvm (llvm-strip, the layer tests), and apt-get could not install them: "
        "sudo apt-get install -y llvm"
    )


def test_given_make_test_when_planned_then_the_prerequisites_come_first(tmp_path: Path) -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")

    planned = subprocess.run(
        [make, "-n", "--no-print-directory", "test"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()

    assert planned[0] == "sh tools/prerequisites.sh"
    assert planned[-1].endswith("-m pytest")
