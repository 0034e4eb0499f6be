"""A fresh machine needs only README's commands: `make test` installs what its tests need where missing
(tools/prerequisites.sh: jq for the docs tests, which run README's and docs/'s commands as written and read
.local/stack.json with it; chromium for the browser tests; llvm), so .ci/run calls README's commands and nothing
else. Run with stand-ins for apt-get and make on a PATH of its own: nothing is installed and nothing is built."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tools import doc_blocks
from tools.template import ROOT

CI_RUN = ROOT / ".ci" / "run"
PREREQUISITES = ROOT / "tools" / "prerequisites.sh"
RECORDER = '#!/bin/sh\necho "$(basename "$0") $*" >> "$CALLS"\n'


def ci_commands() -> list[str]:
    """The commands .ci/run runs, besides its shell settings."""
    lines = (line.strip() for line in CI_RUN.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith(("#", "set ", "cd "))]


def readme_commands() -> set[str]:
    """Every command line of README.md's shell blocks, without its comment."""
    return {
        line.split("#")[0].strip()
        for block in doc_blocks.scan().blocks
        if block.path == "README.md" and block.language in doc_blocks.SHELL_LANGUAGES
        for line in block.script().splitlines()
    }


def test_ci_runs_only_readmes_commands() -> None:
    commands = ci_commands()

    assert commands == ["make test", "make parity"]
    assert [command for command in commands if command not in readme_commands()] == []


def test_given_a_machine_without_jq_when_ci_runs_then_it_installs_nothing_itself_and_runs_make_test(
    tmp_path: Path,
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "basename"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    for stand_in in ("apt-get", "sudo", "make"):
        (bin_dir / stand_in).write_text(RECORDER)
        (bin_dir / stand_in).chmod(0o755)
    calls = tmp_path / "calls"
    env = {"PATH": str(bin_dir), "CALLS": str(calls), "HOME": str(tmp_path)}

    subprocess.run([str(bin_dir / "bash"), str(CI_RUN)], env=env, check=True, timeout=60, capture_output=True)

    assert calls.read_text().splitlines() == ["make test", "make parity"]


def test_every_tool_the_docs_commands_use_outside_the_venv_is_one_make_test_provides() -> None:
    """jq is the one the run blocks need beyond bash, curl and the virtualenv; tools/prerequisites.sh must name it."""
    used = {
        word
        for block in doc_blocks.scan().blocks
        if block.treatment == "run"
        for word in ("jq",)
        if any(word in line.split() or f"$({word}" in line for line in block.script().splitlines())
    }
    provided = set(re.findall(r"command -v (\S+) >/dev/null 2>&1 \|\| need", PREREQUISITES.read_text()))
    assert used
    assert used - provided == set()


def test_ci_run_and_the_prerequisites_are_valid_shell() -> None:
    subprocess.run([shutil.which("bash") or "/bin/bash", "-n", str(CI_RUN)], check=True, env={**os.environ})
    subprocess.run([shutil.which("sh") or "/bin/sh", "-n", str(PREREQUISITES)], check=True, env={**os.environ})


def test_readme_names_what_make_test_installs() -> None:
    packages = re.findall(r"\|\| need (\S+)", PREREQUISITES.read_text())
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())

    assert packages == ["chromium", "jq", "llvm"]
    assert "It installs chromium, jq and llvm itself where they are missing (`tools/prerequisites.sh`" in readme
