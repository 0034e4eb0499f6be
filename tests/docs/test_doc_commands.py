"""Every command in README.md and docs/ runs as written, against one local stack (tools/doc_blocks.py).

Each ``bash`` block runs with ``set -euo pipefail`` in a directory that mirrors the
repository root (a symlink per top-level entry) except ``.local``, which is the
test stack's state directory: ``.local/stack.json`` in a command is this stack's,
never the one of a developer's running ``make local``. The environment is a
reader's without an AWS account (no AWS variables, no AWS config files), and
``curl`` fails on an HTTP error (``--fail-with-body``), so a 401 is a failed
command, not a printed one. Blocks run in file order; a file's blocks may build
on each other. Blocks marked ``aws`` or ``skip`` are skipped tests that say why,
listed again at the end of the run (tests/docs/conftest.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from event_collector.aws.tenant_keys_table import TenantKeysTable
from event_collector.tenants.admin import TenantAdmin
from tests.local.conftest import RunningStack, start_stack, stop_stack
from tools import doc_blocks
from tools.template import ROOT

SCAN = doc_blocks.scan()
# docs/ before README.md: README's placeholder key is issued to the tenant docs/authentication.md creates.
COMMAND_BLOCKS = sorted(
    (block for block in SCAN.blocks if block.treatment in ("run", "aws", "skip")),
    key=lambda block: (block.path == "README.md", block.path, block.line),
)
BLOCK_SECONDS = 60
BASH = shutil.which("bash") or "/bin/bash"
# README's "Deploy" has the reader issue a key to this tenant and set API_URL and API_KEY from the outputs.
PLACEHOLDER_TENANT = "acme"


def block_param(block: doc_blocks.Block) -> Any:
    if block.treatment == "run":
        return pytest.param(block, id=block.id)
    return pytest.param(block, id=block.id, marks=pytest.mark.skip(reason=f"{block.treatment}: {block.reason}"))


PARAMS = [block_param(block) for block in COMMAND_BLOCKS]


@dataclass
class Reader:
    """A person at the repository root with the local stack running, and the values the docs ask them to set."""

    stack: RunningStack
    root: Path
    environment: dict[str, str]
    placeholders: dict[str, str] | None = None

    def run(self, block: doc_blocks.Block) -> subprocess.CompletedProcess[str]:
        environment = dict(self.environment)
        if re.search(r"\$\{?(API_URL|API_KEY)\b", block.script()):
            environment |= self.deployed_stack_placeholders()
        return subprocess.run(
            [BASH, "--noprofile", "--norc", "-c", "set -euo pipefail\n" + block.script()],
            cwd=self.root,
            env=environment,
            capture_output=True,
            text=True,
            timeout=BLOCK_SECONDS,
        )

    def deployed_stack_placeholders(self) -> dict[str, str]:
        """``API_URL`` and ``API_KEY`` as README's reader has them after issuing a key to acme."""
        if self.placeholders is None:
            table = TenantKeysTable(self.stack.aws("dynamodb"), self.stack.info["keys_table"])
            admin = TenantAdmin(table, clock=lambda: int(time.time()))
            if not table.tenant_exists(PLACEHOLDER_TENANT):
                admin.create_tenant(PLACEHOLDER_TENANT)
            key = admin.issue_key(PLACEHOLDER_TENANT).api_key
            self.placeholders = {"API_URL": self.stack.info["api_url"], "API_KEY": key}
        return self.placeholders


def mirror_of_the_repository(mirror: Path) -> Path:
    for entry in ROOT.iterdir():
        if entry.name != ".local":
            (mirror / entry.name).symlink_to(entry)
    return mirror


def reader_environment(mirror: Path, tools: Path) -> dict[str, str]:
    curl = shutil.which("curl")
    assert curl, "the docs use curl"
    (tools / "curl").write_text(f'#!/bin/sh\nexec {curl} --fail-with-body --silent --show-error "$@"\n')
    (tools / "curl").chmod(0o755)
    kept = {name: os.environ[name] for name in ("HOME", "LANG", "LC_ALL", "TERM", "TMPDIR") if name in os.environ}
    return kept | {
        "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}",
        "LOCAL_STATE_DIR": str(mirror / ".local"),
        # No AWS account: the files a developer's credentials live in are out of reach.
        "AWS_CONFIG_FILE": str(tools / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tools / "no-aws-credentials"),
    }


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reader]:
    mirror = mirror_of_the_repository(tmp_path_factory.mktemp("repository"))
    stack = start_stack(mirror / ".local")
    yield Reader(stack, mirror, reader_environment(mirror, tmp_path_factory.mktemp("tools")))
    if stack.process.poll() is None:
        stop_stack(stack)


@pytest.mark.parametrize("block", PARAMS)
def test_given_a_documented_block_when_run_as_written_against_the_local_stack_then_it_succeeds(reader, block):
    result = reader.run(block)

    assert result.returncode == 0, (
        f"{block.id} failed with exit status {result.returncode}:\n{block.script()}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )


def test_given_the_docs_then_every_fenced_block_is_run_or_marked_and_every_unrun_one_is_a_listed_skip():
    tests = {param.id: param for param in PARAMS}
    unrun = [block for block in SCAN.blocks if block.treatment in ("aws", "skip")]

    assert SCAN.problems == []
    assert set(tests) == {block.id for block in SCAN.blocks if block.treatment not in ("text", "query")}
    assert any(block.treatment == "run" for block in SCAN.blocks)
    for block in unrun:
        [mark] = tests[block.id].marks
        assert mark.name == "skip"
        assert mark.kwargs["reason"] == f"{block.treatment}: {block.reason}"
        assert block.reason


INLINE_MAKE = re.compile(r"`make ([a-z][a-z0-9-]*)")
# The inline `make` commands a newcomer runs against a local stack, run here as the docs show them.
LOCAL_TARGETS = ("compact", "query")


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z0-9-]*):", text, flags=re.M))


def test_given_the_docs_then_every_make_target_they_name_inline_exists():
    named = {
        (path.name, target)
        for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
        for target in INLINE_MAKE.findall(path.read_text(encoding="utf-8"))
    }
    assert named, "the docs name make targets"
    assert {(path, target) for path, target in named if target not in makefile_targets()} == set()


@pytest.mark.parametrize("target", LOCAL_TARGETS)
def test_given_the_inline_local_make_commands_when_run_then_they_succeed_against_the_running_stack(reader, target):
    block = doc_blocks.Block("inline", 0, "bash", f"make --no-print-directory {target}\n", "run")
    result = reader.run(block)

    assert result.returncode == 0, f"make {target}:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
