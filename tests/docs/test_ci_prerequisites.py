""".ci/run installs what the docs tests need where it is missing: jq (README's and docs/'s commands read
.local/stack.json with it), as it installs chromium for the browser tests. Run with stand-ins for apt-get and
make on a PATH of its own: nothing is installed and nothing is built."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tools import doc_blocks
from tools.template import ROOT

CI_RUN = ROOT / ".ci" / "run"
RECORDER = '#!/bin/sh\necho "$(basename "$0") $*" >> "$CALLS"\n'


def run_ci(tmp_path: Path, with_jq: bool, with_llvm_strip: bool = True) -> list[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "id", "basename"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    for stand_in in (
        "apt-get",
        "sudo",
        "make",
        *(["jq"] if with_jq else []),
        *(["llvm-strip"] if with_llvm_strip else []),
    ):
        script = bin_dir / stand_in
        script.write_text(RECORDER if stand_in != "sudo" else '#!/bin/sh\nexec "$@"\n')
        script.chmod(0o755)
    calls = tmp_path / "calls"
    env = {"PATH": str(bin_dir), "CALLS": str(calls), "HOME": str(tmp_path)}
    subprocess.run([str(bin_dir / "bash"), str(CI_RUN)], env=env, check=True, timeout=60, capture_output=True)
    return calls.read_text().splitlines() if calls.exists() else []


def test_given_no_jq_when_ci_runs_then_it_installs_jq_before_the_tests(tmp_path: Path) -> None:
    calls = run_ci(tmp_path, with_jq=False)

    installs = [call for call in calls if call.startswith("apt-get install")]
    assert installs
    assert "jq" in installs[0].split()
    assert calls.index(installs[0]) < calls.index("make test")


def test_given_jq_when_ci_runs_then_it_does_not_install_it(tmp_path: Path) -> None:
    calls = run_ci(tmp_path, with_jq=True)

    assert not [call for call in calls if call.startswith("apt-get") and "jq" in call.split()]
    assert "make test" in calls


def test_given_no_llvm_strip_when_ci_runs_then_it_installs_llvm_before_make_parity_builds(tmp_path: Path) -> None:
    calls = run_ci(tmp_path, with_jq=True, with_llvm_strip=False)

    installs = [call for call in calls if call.startswith("apt-get install")]
    assert installs
    assert "llvm" in installs[0].split()
    assert calls.index(installs[0]) < calls.index("make parity")


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="checks the case where chromium is present")
def test_given_chromium_and_jq_when_ci_runs_then_nothing_is_installed(tmp_path: Path) -> None:
    assert not [call for call in run_ci(tmp_path, with_jq=True) if call.startswith("apt-get")]


def test_every_tool_the_docs_commands_use_outside_the_venv_is_one_ci_provides() -> None:
    """jq is the one the run blocks need beyond bash, curl and the virtualenv; .ci/run must name it."""
    used = {
        word
        for block in doc_blocks.scan().blocks
        if block.treatment == "run"
        for word in ("jq",)
        if any(word in line.split() or f"$({word}" in line for line in block.script().splitlines())
    }
    ci = CI_RUN.read_text()
    assert [tool for tool in sorted(used) if f"missing+=({tool})" not in ci] == []


def test_ci_run_is_valid_bash() -> None:
    subprocess.run([shutil.which("bash") or "/bin/bash", "-n", str(CI_RUN)], check=True, env={**os.environ})
