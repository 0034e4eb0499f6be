"""docs/querying.md: every sql block runs over a local lake holding the guide's known data set
(tests/docs/guide_data.py, through the fan-out and the compaction state machine of one local stack), with
Athena's spelling (local/lake_sql.py), and prints exactly the output the guide shows after it; every
queries/*.sql is in the guide word for word; the tables' columns listed are the catalog's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from event_collector.event_types import DECLARED_FIELDS
from event_collector.lake import catalog
from local.lake_sql import write_result
from local.query import local_lake
from tests.docs.guide_data import deliver
from tests.local.conftest import RunningStack, start_stack, stop_stack
from tools import doc_blocks
from tools.template import ROOT

GUIDE = "docs/querying.md"
QUERIES = [block for block in doc_blocks.scan().blocks if block.treatment == "query"]
QUERY_FILES = sorted((ROOT / "queries").glob("*.sql"))


@pytest.fixture(scope="module")
def guide_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(tmp_path_factory.mktemp("guide") / ".local")
    try:
        deliver(stack)
        stack.drain()
        run = stack.request("POST", "/__local/compact", body={}).json()
        assert run["status"] == "SUCCEEDED", run
        yield stack
    finally:
        stop_stack(stack)


@pytest.fixture(scope="module")
def duckdb_lake(guide_lake: RunningStack) -> Iterator[tuple[Any, Path]]:
    """One connection for every query: the views and macros ``make query`` makes, over the compacted lake."""
    with local_lake(guide_lake.info) as connection:
        yield connection


@pytest.mark.parametrize("block", [pytest.param(block, id=block.id) for block in QUERIES])
def test_given_the_guides_data_when_a_query_of_the_guide_runs_then_it_prints_the_output_shown(duckdb_lake, block):
    con, workdir = duckdb_lake
    output = workdir / "output.csv"

    assert write_result(con, block.text, "csv", output)
    assert output.read_text(encoding="utf-8") == block.expected, f"{block.id}:\n{block.text}"


def test_given_the_guide_then_it_holds_queries_and_every_one_has_its_output():
    scan = doc_blocks.scan()

    assert [problem for problem in scan.problems if problem.startswith(GUIDE)] == []
    assert len(QUERIES) >= len(QUERY_FILES) >= 10


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda path: path.name)
def test_given_a_query_file_then_the_guide_shows_it_word_for_word_once_under_a_link_to_it(path: Path):
    guide = (ROOT / GUIDE).read_text(encoding="utf-8")
    text = path.read_text(encoding="utf-8")

    assert [block.text for block in QUERIES].count(text) == 1, f"{path.name} is not a sql block of {GUIDE}"
    assert f"[`queries/{path.name}`](../queries/{path.name})" in guide


def documented_columns() -> dict[str, list[str]]:
    """The guide's table of tables: ``| `name` | `col`, `col`, ... |`` rows, columns in their order."""
    guide = (ROOT / GUIDE).read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(?P<table>[a-z_<>]+)` \| (?P<columns>`[^|]*`) \|", guide, flags=re.M)
    return {table: re.findall(r"`([^`]+)`", columns) for table, columns in rows}


def test_given_the_guides_table_of_tables_then_each_lists_the_catalogs_columns_in_order():
    documented = documented_columns()
    expected = {
        event_type: [name for name, _ in catalog.compacted_table(event_type, "lake").columns]
        for event_type in DECLARED_FIELDS
    }
    expected["compaction_ledger"] = [name for name, _ in catalog.LEDGER_COLUMNS]
    expected["daily_counts"] = [name for name, _ in catalog.DAILY_COUNTS_COLUMNS]

    assert {table: documented.get(table) for table in expected} == expected
