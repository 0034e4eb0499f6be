"""docs/deploy.md is followed step by step, and an operator may come back to any step alone (a colleague
issuing keys on another machine): a step that runs a program of the operator environment (`.venv/bin/...`)
creates that environment first. Its blocks need an AWS account, so no other test runs them."""

from __future__ import annotations

import re

from tools.doc_blocks import Block, scan_markdown
from tools.template import ROOT

GUIDE = "docs/deploy.md"


def targets_creating_the_venv() -> set[str]:
    """`make` targets that create `.venv` when missing: `venv` and every target depending on it."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {"venv"} | set(re.findall(r"^([a-z][\w-]*):[^=\n]*\bvenv\b", makefile, flags=re.MULTILINE))


def commands(block: Block) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in block.text.splitlines())
    return [line for line in lines if line]


def uses_before_creation(block: Block, creating: set[str]) -> bool:
    """True when the block runs a `.venv/bin` program before any line that creates `.venv`."""
    for line in commands(block):
        made = re.match(r"make\s+([\w-]+)", line)
        if made and made.group(1) in creating:
            return False
        if ".venv/bin/" in line:
            return True
    return False


def test_given_a_block_when_it_runs_a_venv_program_first_then_it_is_found_and_one_that_makes_the_venv_is_not():
    blocks, _ = scan_markdown(
        "x.md",
        "```bash\n.venv/bin/event-collector-admin list-keys acme\n```\n\n"
        "```bash\nmake venv   # first\n.venv/bin/event-collector-admin list-keys acme\n```\n",
    )

    assert [uses_before_creation(block, targets_creating_the_venv()) for block in blocks] == [True, False]
    assert {"venv", "build", "smoke"} <= targets_creating_the_venv()


def test_given_the_deploy_guide_when_each_step_is_run_alone_then_none_uses_the_venv_before_creating_it():
    blocks, problems = scan_markdown(GUIDE, (ROOT / GUIDE).read_text(encoding="utf-8"))
    creating = targets_creating_the_venv()
    using = [block for block in blocks if any(".venv/bin/" in line for line in commands(block))]

    assert problems == []
    assert using  # step 3 issues the first key with the admin CLI
    assert [block.id for block in using if uses_before_creation(block, creating)] == []
