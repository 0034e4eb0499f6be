"""tools/doc_blocks.py: every fenced block is found with its line, and anything it cannot classify is a problem."""

from __future__ import annotations

import pytest

from tools.doc_blocks import AWS_REASON, scan_markdown

FENCE = "```"


def markdown(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def test_given_blocks_and_markers_when_scanned_then_each_has_its_line_language_and_treatment():
    document = markdown(
        "# Title",
        f"{FENCE}bash",
        "make compact",
        FENCE,
        "<!-- doc-test: aws -->",
        f"{FENCE}bash",
        "sam deploy --guided",
        FENCE,
        "<!-- doc-test: skip runs until Ctrl-C -->",
        f"{FENCE}sh",
        "make local",
        FENCE,
        "<!-- doc-test: skip placeholders -->",
        f"{FENCE}python",
        "print('hi')",
        FENCE,
        f"{FENCE}text",
        "a --> b",
        FENCE,
    )

    blocks, problems = scan_markdown("docs/x.md", document)

    assert problems == []
    assert [(block.id, block.language, block.treatment, block.reason) for block in blocks] == [
        ("docs/x.md:2", "bash", "run", ""),
        ("docs/x.md:6", "bash", "aws", AWS_REASON),
        ("docs/x.md:10", "sh", "skip", "runs until Ctrl-C"),
        ("docs/x.md:14", "python", "skip", "placeholders"),
        ("docs/x.md:17", "text", "text", ""),
    ]
    assert blocks[0].script() == "make compact\n"


def test_given_a_console_transcript_when_scripted_then_only_its_dollar_lines_and_continuations_are_commands():
    document = markdown(
        f"{FENCE}console", "$ make query \\", "    --verbose", "event_type  rows", "$ make compact", FENCE
    )

    [block], problems = scan_markdown("README.md", document)

    assert problems == []
    assert block.script() == "make query \\\n    --verbose\nmake compact\n"


def test_given_an_indented_fence_in_a_list_when_scanned_then_its_commands_are_dedented():
    document = markdown("- step:", f"  {FENCE}bash", "  make query", f"  {FENCE}")

    [block], problems = scan_markdown("README.md", document)

    assert problems == []
    assert block.text == "make query\n"


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ((FENCE, "make local", FENCE), "README.md:1: the block has no language"),
        ((f"{FENCE}rust", "fn main() {}", FENCE), "README.md:1: unknown language 'rust'"),
        ((f"{FENCE}js", "go()", FENCE), "README.md:1: no runner for js"),
        (("<!-- doc-test: maybe -->", f"{FENCE}bash", "make", FENCE), "README.md:2: unknown doc-test marker"),
        (("<!-- doc-test aws -->", f"{FENCE}bash", "make", FENCE), "README.md:2: unknown doc-test marker"),
        (("<!-- doc-test: skip -->", f"{FENCE}bash", "make", FENCE), "README.md:2: a skip marker needs a reason"),
        (("<!-- doc-test: aws -->", f"{FENCE}text", "a --> b", FENCE), "README.md:2: a text block is never run"),
        (("<!-- doc-test: aws -->", "", f"{FENCE}bash", "make", FENCE), "README.md:1: a doc-test marker must be"),
        ((f"{FENCE}text", "$ make compact", FENCE), "README.md:1: a text block holding commands"),
        ((f"{FENCE}bash", "make local"), "README.md:1: the block is never closed"),
    ],
)
def test_given_a_block_the_test_cannot_classify_when_scanned_then_it_is_a_problem_naming_its_line(lines, problem):
    _, problems = scan_markdown("README.md", markdown(*lines))

    assert len(problems) == 1
    assert problems[0].startswith(problem), problems


def test_given_a_fence_inside_a_block_when_scanned_then_it_is_text_of_that_block():
    document = markdown("````text", FENCE, "not a block", FENCE, "````")

    [block], problems = scan_markdown("README.md", document)

    assert problems == []
    assert block.text == f"{FENCE}\nnot a block\n{FENCE}\n"


@pytest.mark.parametrize(
    "command",
    [
        "event-collector-admin --local list-keys demo",  # a command we ship, without .venv/bin (docs/clients.md)
        "$ event-collector-lake --local verify",
        "AWS_REGION=eu-west-1 API=x event-collector-smoke --local",
        ".venv/bin/event-collector-admin create-tenant acme",
        "  ./tools/run.sh",
        "/usr/local/bin/thing --flag",
        "node clients/js/example.mjs",
        "python -m tools.openapi",
        "npx playwright install",
        "export API_URL=https://example.com",
    ],
)
@pytest.mark.parametrize("language", ["text", "json", "yaml", "sql"])
def test_given_a_command_in_a_block_that_is_never_run_when_scanned_then_it_is_a_problem_naming_it(command, language):
    _, problems = scan_markdown("docs/x.md", markdown(f"{FENCE}{language}", "output line", command, FENCE))

    assert len(problems) == 1
    assert problems[0].startswith(f"docs/x.md:1: a {language} block holding commands ("), problems


@pytest.mark.parametrize(
    "line",
    [
        "client --POST--> API Gateway --> authorizer",
        "tests/                                mirrors the code",
        "functions/<name>/app.py               thin Lambda handlers",
        "GET /v1/counts  |",
        "s3://<lake>/events/<event_type>/tenant=<t>/",
        "makefile targets, python files",  # a word that only starts like a tool
        "# make sure",
        "event-collector-admin: the operator CLI",  # a name followed by a colon: prose, not a command line
    ],
)
def test_given_diagrams_layouts_and_output_when_scanned_then_no_command_is_seen(line):
    from tools.doc_blocks import command_word

    assert command_word(line) is None


def test_the_commands_we_ship_are_read_from_pyproject():
    from tools.doc_blocks import shipped_commands

    assert {"event-collector-admin", "event-collector-lake", "event-collector-smoke"} <= shipped_commands()


def test_given_a_sql_block_of_the_query_guide_when_scanned_then_it_is_a_query_with_the_output_after_it():
    document = markdown(f"{FENCE}sql", "select 1 as one", FENCE, "", f"{FENCE}text", "one", "1", FENCE)

    [query, output], problems = scan_markdown("docs/querying.md", document)

    assert problems == []
    assert (query.treatment, query.text, query.expected) == ("query", "select 1 as one\n", "one\n1\n")
    assert output.treatment == "text"


def test_given_a_query_of_the_guide_without_its_output_when_scanned_then_it_is_a_problem():
    document = markdown(f"{FENCE}sql", "select 1", FENCE, "Prose, then:", f"{FENCE}text", "1", FENCE)

    _, problems = scan_markdown("docs/querying.md", document)

    assert len(problems) == 1
    assert problems[0].startswith("docs/querying.md:1: a query needs its expected output"), problems


def test_given_a_sql_block_elsewhere_when_scanned_then_it_is_text_never_run():
    [block], problems = scan_markdown("docs/schemas.md", markdown(f"{FENCE}sql", "select 1", FENCE))

    assert (problems, block.treatment) == ([], "text")
