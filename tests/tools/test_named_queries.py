"""tools/named_queries.py: the template's Athena named queries are queries/*.sql, word for word, and cannot
drift from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.named_queries import BEGIN, END, QueryFileError, main, read_queries, read_query, rewritten
from tools.template import ROOT, load_template, resources_of_type


def test_given_the_query_files_then_the_template_has_exactly_their_named_queries_word_for_word():
    files = sorted((ROOT / "queries").glob("*.sql"))
    named = resources_of_type("AWS::Athena::NamedQuery")

    assert len(files) >= 10
    assert len(named) == len(files)
    for path in files:
        query = read_query(path)
        assert named[query.logical_id]["Properties"] == {
            "Name": path.read_text().splitlines()[0].removeprefix("-- "),
            "Description": query.description,
            "Database": {"Ref": "GlueDatabase"},
            "WorkGroup": {"Ref": "AthenaWorkGroup"},
            "QueryString": path.read_text(),
        }


def test_given_the_named_queries_a_deployment_had_then_each_is_still_there_under_its_name():
    named = {body["Properties"]["Name"] for body in resources_of_type("AWS::Athena::NamedQuery").values()}

    assert {"Events per hour per type", "Top pages", "Clicks per button", "Duplicates removed per day"} <= named


def test_given_the_template_when_checked_then_it_is_what_the_files_make():
    assert main(["--check"]) == 0


def test_given_a_query_file_changed_when_checked_then_the_check_fails_and_a_rewrite_brings_it_in(tmp_path: Path):
    (tmp_path / "one_question.sql").write_text(
        "-- One question\n-- Why it's asked,\n-- on two lines.\nSELECT 'a''b' AS quoted,\n\n  1 AS one -- # not YAML\n"
    )
    template = tmp_path / "template.yaml"
    template.write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"
        "  GlueDatabase:\n    Type: AWS::Glue::Database\n    Properties: {CatalogId: !Ref AWS::AccountId, "
        "DatabaseInput: {Name: lake}}\n"
        "  AthenaWorkGroup:\n    Type: AWS::Athena::WorkGroup\n    Properties: {Name: group}\n"
        f"{BEGIN}\n{END}\n"
    )
    queries = read_queries(tmp_path)

    template.write_text(rewritten(template.read_text(), queries))

    [properties] = [
        body["Properties"] for body in resources_of_type("AWS::Athena::NamedQuery", load_template(template)).values()
    ]
    assert properties["Name"] == "One question"
    assert properties["Description"] == "Why it's asked, on two lines."
    assert properties["QueryString"] == (tmp_path / "one_question.sql").read_text()
    assert rewritten(template.read_text(), queries) == template.read_text()  # a second rewrite changes nothing


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("SELECT 1\n", "the first line is the question"),
        ("-- Q\nSELECT 1", "ends with exactly one newline"),
        ("-- Q\nSELECT 1 \n", "no trailing spaces"),
        ("-- Q\nSELECT\t1\n", "no trailing spaces and no tabs"),
        ("-- " + "Q" * 129 + "\nSELECT 1\n", "a name has at most 128 characters"),
    ],
)
def test_given_a_query_file_the_template_cannot_take_as_written_when_read_then_it_is_refused(
    tmp_path: Path, text: str, problem: str
):
    path = tmp_path / "bad.sql"
    path.write_text(text)

    with pytest.raises(QueryFileError, match=problem):
        read_query(path)
