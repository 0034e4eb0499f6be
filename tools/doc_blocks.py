"""Every fenced block of README.md and docs/, and how the docs test treats it (tests/docs).

A block's language says what it is:

- ``bash``, ``sh``, ``shell``: commands, run by the test against a local stack;
  ``console``: a transcript, whose ``$ `` lines are the commands;
- ``text``, ``json``, ``yaml``, ``sql``: no commands (diagrams, layouts, output, queries), never run
  (except the ``sql`` blocks of :data:`QUERY_DOCUMENTS`, below);
  one holding a command line is a problem (it would slip through untested): a
  line whose first word (after a ``$ `` prompt and ``NAME=value`` assignments)
  is a command this repository ships (``pyproject.toml``'s scripts, such as
  ``event-collector-admin``), an executable path (``./x``, ``.venv/...``,
  ``.../bin/x``) or a tool a reader would type (:data:`KNOWN_TOOLS`);
- ``python``, ``js``, ``javascript``, ``html``: code the test has no runner for,
  so the block must carry a marker saying why it is not run.

A marker on the line right before the opening fence changes the treatment:

- ``<!-- doc-test: aws -->``: needs a real AWS account; listed, not run;
- ``<!-- doc-test: skip <reason> -->``: cannot run in a test (runs forever,
  runs the tests themselves, needs Docker...); listed with its reason.

In :data:`QUERY_DOCUMENTS` (docs/querying.md), a ``sql`` block is a query the docs test runs over the
local lake (treatment ``query``, tests/docs/test_query_guide.py): the ``text`` block right after it
(blank lines between are allowed) is its expected output, CSV as ``make query`` prints it. A query
without one is a problem.

Anything else is a problem the test reports: a block without a language, an
unknown language or marker, a skip without a reason, a marker on a text block
or on no block at all. ``python -m tools.doc_blocks`` lists every block.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tools.template import ROOT

Treatment = Literal["run", "aws", "skip", "text", "query"]

SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "console"})
TEXT_LANGUAGES = frozenset({"text", "json", "yaml", "sql"})
UNRUNNABLE_LANGUAGES = frozenset({"python", "js", "javascript", "html"})

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")
MARKER = re.compile(r"<!--\s*doc-test(?P<body>.*?)-->")
AWS_REASON = "needs a real AWS account (doc-test: aws)"
# Tools a reader would type at a shell: a line of a text block starting with one is a command.
KNOWN_TOOLS = frozenset(
    {
        "apt-get", "aws", "bash", "cd", "cfn-lint", "chromium", "curl", "docker", "export", "git", "jq", "make",
        "mypy", "node", "npm", "npx", "pip", "pip3", "pipx", "playwright", "pytest", "python", "python3", "ruff",
        "sam", "sh", "source", "sudo", "uv", "wget",
    }
)  # fmt: skip
# Documents whose sql blocks run, each against the output shown in the text block after it.
QUERY_DOCUMENTS = frozenset({"docs/querying.md"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=\S*\s+")


@functools.cache
def shipped_commands(root: Path = ROOT) -> frozenset[str]:
    """The console scripts this repository installs (``[project.scripts]`` of pyproject.toml)."""
    with open(root / "pyproject.toml", "rb") as pyproject:
        return frozenset(tomllib.load(pyproject).get("project", {}).get("scripts", {}))


def command_word(line: str, root: Path = ROOT) -> str | None:
    """The command a line starts with, or None: its first word after a ``$ `` prompt and ``NAME=value``
    assignments, when that is an executable path, a command this repository ships or a known tool."""
    rest = line.strip()
    if rest.startswith("$ "):
        rest = rest[2:].lstrip()
    while (assignment := _ASSIGNMENT.match(rest)) is not None:
        rest = rest[assignment.end() :]
    word = rest.split(maxsplit=1)[0] if rest else ""
    if word.startswith(("./", ".venv/", "~/")) or "/bin/" in word:
        return word
    name = word.rsplit("/", 1)[-1]
    return name if name in KNOWN_TOOLS or name in shipped_commands(root) else None


@dataclass(frozen=True)
class Block:
    path: str  # relative to the repository root
    line: int  # the opening fence, counted from 1
    language: str
    text: str
    treatment: Treatment
    reason: str = ""
    expected: str = ""  # a query's expected output (the text block after it)

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"

    def script(self) -> str:
        """The commands: the block itself, or a console transcript's ``$ `` lines (with continuations)."""
        if self.language != "console":
            return self.text
        commands: list[str] = []
        continued = False
        for line in self.text.splitlines():
            if line.startswith("$ ") or continued:
                commands.append(line.removeprefix("$ ") if not continued else line)
                continued = line.endswith("\\")
        return "\n".join(commands) + "\n"


@dataclass(frozen=True)
class Scan:
    blocks: list[Block]
    problems: list[str]


def documents(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def scan(root: Path = ROOT) -> Scan:
    blocks: list[Block] = []
    problems: list[str] = []
    for document in documents(root):
        found, wrong = scan_markdown(document.relative_to(root).as_posix(), document.read_text(encoding="utf-8"))
        blocks += found
        problems += wrong
    return Scan(blocks, problems)


def scan_markdown(path: str, markdown: str) -> tuple[list[Block], list[str]]:
    blocks: list[Block] = []
    problems: list[str] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            if MARKER.search(lines[index]) and not _opens_block(lines, index + 1):
                problems.append(f"{path}:{index + 1}: a doc-test marker must be on the line right before a fence")
            index += 1
            continue
        closing = _closing_line(lines, index, opening.group("fence"))
        text = "".join(_dedent(line, len(opening.group("indent"))) + "\n" for line in lines[index + 1 : closing])
        marker = MARKER.search(lines[index - 1]) if index else None
        block, problem = _classify(path, index + 1, opening.group("info").lower(), text, marker)
        if block and block.language == "sql" and path in QUERY_DOCUMENTS and not problem:
            block, problem = _query(block, lines, closing + 1)
        if block:
            blocks.append(block)
        if problem:
            problems.append(f"{path}:{index + 1}: {problem}")
        if closing == len(lines):
            problems.append(f"{path}:{index + 1}: the block is never closed")
        index = closing + 1
    return blocks, problems


def _query(block: Block, lines: list[str], after: int) -> tuple[Block, str | None]:
    """The sql block as a query with its expected output: the text block after it, blank lines between."""
    index = after
    while index < len(lines) and not lines[index].strip():
        index += 1
    opening = FENCE.match(lines[index]) if index < len(lines) else None
    query = Block(block.path, block.line, block.language, block.text, "query")
    if opening is None or opening.group("info").lower() != "text":
        return query, "a query needs its expected output: a text block right after it, CSV as make query prints it"
    closing = _closing_line(lines, index, opening.group("fence"))
    indent = len(opening.group("indent"))
    expected = "".join(_dedent(line, indent) + "\n" for line in lines[index + 1 : closing])
    return Block(block.path, block.line, block.language, block.text, "query", expected=expected), None


def _opens_block(lines: list[str], index: int) -> bool:
    return index < len(lines) and FENCE.match(lines[index]) is not None


def _dedent(line: str, indent: int) -> str:
    return line[indent:] if line[:indent].isspace() else line


def _closing_line(lines: list[str], start: int, fence: str) -> int:
    for index in range(start + 1, len(lines)):
        stripped = lines[index].strip()
        if stripped.startswith(fence) and set(stripped) == {fence[0]} and len(lines[index]) - len(stripped) <= 3:
            return index
    return len(lines)


def _classify(
    path: str, line: int, language: str, text: str, marker: re.Match[str] | None
) -> tuple[Block | None, str | None]:
    def block(treatment: Treatment, reason: str = "") -> Block:
        return Block(path, line, language, text, treatment, reason)

    if not language:
        return None, "the block has no language: `bash` for commands, `text` for diagrams, layouts and output"
    known = SHELL_LANGUAGES | TEXT_LANGUAGES | UNRUNNABLE_LANGUAGES
    if language not in known:
        return None, f"unknown language {language!r} (known: {', '.join(sorted(known))})"
    if marker is None:
        commands = (
            [word for row in text.splitlines() if (word := command_word(row))] if language in TEXT_LANGUAGES else []
        )
        if commands:
            return None, (
                f"a {language} block holding commands ({', '.join(dict.fromkeys(commands))}): make it a bash "
                "(or console) block, marked if it cannot run"
            )
        if language in UNRUNNABLE_LANGUAGES:
            return None, f"no runner for {language}: mark it <!-- doc-test: skip <reason> --> or <!-- doc-test: aws -->"
        return block("text" if language in TEXT_LANGUAGES else "run"), None
    if language in TEXT_LANGUAGES:
        return None, f"a {language} block is never run: remove its doc-test marker"
    body = marker.group("body").strip()
    kind, _, reason = body.removeprefix(":").strip().partition(" ") if body.startswith(":") else ("", "", "")
    if kind == "aws" and not reason:
        return block("aws", AWS_REASON), None
    if kind == "skip":
        if not reason.strip():
            return None, "a skip marker needs a reason: <!-- doc-test: skip <reason> -->"
        return block("skip", reason.strip()), None
    return None, f"unknown doc-test marker {marker.group(0)!r} (known: aws, skip <reason>)"


def main(argv: list[str] | None = None) -> int:
    description = "List every fenced block of README.md and docs/ with its treatment."
    argparse.ArgumentParser(prog="python -m tools.doc_blocks", description=description).parse_args(argv)
    result = scan()
    for block in result.blocks:
        print(f"{block.id:<28}{block.language:<8}{block.treatment:<6}{block.reason}")
    for problem in result.problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
