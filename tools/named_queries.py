"""The template's Athena named queries, generated from ``queries/*.sql`` (``make named-queries``).

Each file is one question: a header of ``-- `` comment lines (the first is the query's name, the others
its description), then the SQL. The file's whole text is the ``QueryString``, so what the console shows
is what docs/querying.md shows and what its tests run locally. The resources sit between two marker
comments of template.yaml; this tool rewrites that span and nothing else (the template keeps its own
formatting and comments), and ``--check`` fails when the span is not what the files make
(tests/tools/test_named_queries.py runs the same check).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from tools.template import ROOT, TEMPLATE_PATH

QUERIES_DIR = ROOT / "queries"
BEGIN = "  # Named queries: generated from queries/*.sql by `make named-queries` (tools/named_queries.py)."
END = "  # End of the generated named queries."
# AWS::Athena::NamedQuery limits.
MAX_NAME = 128
MAX_DESCRIPTION = 1024


class QueryFileError(ValueError):
    """A query file the template cannot take as written."""


@dataclass(frozen=True)
class NamedQuery:
    logical_id: str
    name: str
    description: str
    sql: str


def read_query(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    header = []
    for line in text.splitlines():
        if not line.startswith("-- "):
            break
        header.append(line.removeprefix("-- ").strip())
    problem = _problem(text, header)
    if problem:
        raise QueryFileError(f"{path.name}: {problem}")
    logical_id = "".join(word.capitalize() for word in path.stem.split("_")) + "Query"
    return NamedQuery(logical_id, header[0], " ".join(header[1:]), text)


def _problem(text: str, header: list[str]) -> str | None:
    if not header or not header[0]:
        return "the first line is the question: `-- <name>`"
    if len(header[0]) > MAX_NAME or len(" ".join(header[1:])) > MAX_DESCRIPTION:
        return f"a name has at most {MAX_NAME} characters, a description {MAX_DESCRIPTION}"
    if not text.endswith("\n") or text.endswith("\n\n"):
        return "the file ends with exactly one newline (a YAML literal block keeps one)"
    if any(line != line.rstrip() or "\t" in line for line in text.splitlines()):
        return "no trailing spaces and no tabs (a YAML literal block would not keep them as written)"
    return None


def read_queries(directory: Path = QUERIES_DIR) -> list[NamedQuery]:
    return [read_query(path) for path in sorted(directory.glob("*.sql"))]


def render(queries: list[NamedQuery]) -> str:
    """The resources, indented for template.yaml's ``Resources``, between the markers."""
    lines = [BEGIN]
    for query in queries:
        lines += [
            "",
            f"  {query.logical_id}:",
            "    Type: AWS::Athena::NamedQuery",
            "    Properties:",
            f"      Name: {_quoted(query.name)}",
            f"      Description: {_quoted(query.description)}",
            "      Database: !Ref GlueDatabase",
            "      WorkGroup: !Ref AthenaWorkGroup",
            "      QueryString: |",
            *(f"        {line}" if line else "" for line in query.sql.splitlines()),
        ]
    return "\n".join([*lines, "", END]) + "\n"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def rewritten(template_text: str, queries: list[NamedQuery]) -> str:
    begin, end = template_text.find(BEGIN + "\n"), template_text.find(END + "\n")
    if begin < 0 or end < begin:
        raise QueryFileError(f"template.yaml has no span between {BEGIN.strip()!r} and {END.strip()!r}")
    return template_text[:begin] + render(queries) + template_text[end + len(END) + 1 :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make named-queries", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if template.yaml differs; write nothing")
    arguments = parser.parse_args(argv)
    current = TEMPLATE_PATH.read_text(encoding="utf-8")
    wanted = rewritten(current, read_queries())
    if arguments.check:
        if wanted != current:
            print("template.yaml's named queries differ from queries/*.sql: run `make named-queries`", file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        TEMPLATE_PATH.write_text(wanted, encoding="utf-8")
        print(f"template.yaml: {len(read_queries())} named queries from queries/*.sql")
    return 0


if __name__ == "__main__":
    sys.exit(main())
