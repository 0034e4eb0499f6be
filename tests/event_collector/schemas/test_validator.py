"""A registered schema compiled once and an event's own fields checked against it: every problem names its
field as a JSON pointer and says what was expected; what passes is what the lake can hold."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings

from event_collector.json_values import canonical_json
from event_collector.schemas.fields import read_schema
from event_collector.schemas.formats import date_time_millis
from event_collector.schemas.registration import Refused, register
from event_collector.schemas.registry import RegisteredSchema
from event_collector.schemas.validator import (
    MAX_MESSAGES,
    SchemaNotCompiled,
    compile_problems,
    compiled,
    forget_compiled,
)
from tests.event_collector.schemas.helpers import ORDER, event_schema, event_schemas, order
from tests.fakes.schemas import MemorySchemas

VALID: dict[str, Any] = {
    "order_id": "o-1",
    "total": 30,
    "placed_at": "2026-01-31T12:00:00.250+01:00",
    "lines": [{"sku": "a", "price": 9.5}],
    "shipping": {"city": "Lyon", "express": True},
    "attributes": {"Gift-Wrap": [1, "x"]},
    "coupon": None,
}


def registered(document: dict[str, Any], *, version: int = 1, kind: str = "type", name: str = "order_completed"):
    return RegisteredSchema("acme", kind, name, version, document, 0)  # type: ignore[arg-type]


def check(values: dict[str, Any], document: dict[str, Any] = ORDER, prefix: str = "") -> Any:
    """``values`` checked against ``document``, registered under a name of its own (compiled schemas are
    kept by tenant, kind, name and version, which never name two documents in a registry)."""
    name = "t_" + hashlib.sha256(canonical_json(document).encode()).hexdigest()[:16]
    return compiled(registered(document, name=name)).check(values, prefix)


@pytest.fixture(autouse=True)
def _fresh_cache():
    forget_compiled()
    yield
    forget_compiled()


def test_given_a_valid_event_when_checked_then_its_fields_come_back_as_sent():
    assert check(VALID) == VALID


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"total": "30"}, "/total: expected integer, got string"),
        ({"total": 1.5}, "/total: expected integer, got number"),
        ({"order_id": None}, "/order_id: expected string, got null"),
        ({"coupon_code": "X"}, "/coupon_code: not declared by the schema (additionalProperties is false)"),
        ({"total": -1}, "/total: must be >= 0, got -1"),
        ({"coupon": 5}, "/coupon: expected string or null, got integer"),
        ({"shipping": {"express": True}}, "/shipping/city: required field is missing"),
        ({"lines": [{"sku": "a", "qty": 1}]}, "/lines/0/qty: not declared by the schema (additionalProperties is false)"),
        ({"lines": [{"price": 1}]}, "/lines/0/sku: required field is missing"),
        ({"placed_at": "yesterday"}, '/placed_at: must be a date-time (RFC 3339, for example 2026-01-31T12:00:00Z), got "yesterday"'),
    ],
)  # fmt: skip
def test_given_an_invalid_field_when_checked_then_the_problem_names_it_by_pointer_and_says_what_was_expected(
    change, message
):
    assert check({**VALID, **change}) == [message]


def test_given_a_missing_required_field_when_checked_then_the_pointer_names_the_missing_field():
    event = {name: value for name, value in VALID.items() if name != "order_id"}

    assert check(event) == ["/order_id: required field is missing"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ({"enum": ["card", "cash"]}, "gold", '/field: must be one of "card", "cash", got "gold"'),
        ({"type": "string", "pattern": "^o-[0-9]+$"}, "x", '/field: must match the pattern "^o-[0-9]+$", got "x"'),
        ({"type": "string", "format": "email"}, "nope", '/field: must be a valid email, got "nope"'),
        ({"type": "string", "maxLength": 2}, "abc", "/field: must be at most 2 characters long"),
        ({"type": "array", "minItems": 1}, [], "/field: must be at least 1 items"),
        ({"type": "number", "exclusiveMaximum": 1}, 1, "/field: must be < 1, got 1"),
        ({"type": "integer", "multipleOf": 5}, 7, "/field: must be a multiple of 5, got 7"),
        ({"const": "v1"}, "v2", '/field: must be "v1", got "v2"'),
    ],
)
def test_given_a_constraint_broken_when_checked_then_the_message_says_which(field, value, message):
    assert check({"field": value}, event_schema({"field": field})) == [message]


@pytest.mark.parametrize(
    "field",
    [
        {"type": "array", "prefixItems": [{"type": "integer"}], "unevaluatedItems": False},
        {"type": "array", "items": {"type": "string"}, "contentMediaType": "x", "not": {"maxItems": 0}, "maxItems": 1},
        {"type": "string", "contentEncoding": "base64", "not": {"maxLength": 0}, "maxLength": 3},
    ],
)
def test_given_any_keyword_when_a_long_value_breaks_it_then_the_message_never_echoes_the_value(field):
    # Kinds without a message of their own fell back on the library's, which quotes every offending value.
    value = [1, "z" * 5_000] if field["type"] == "array" else "z" * 5_000

    problems = check({"field": value}, event_schema({"field": field}))

    assert problems
    assert all(problem.startswith("/field") for problem in problems)
    assert all(len(problem) < 200 for problem in problems)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ({"type": "array", "contains": {"type": "integer"}, "maxContains": 1}, [1, 2]),
        ({"type": "array", "contains": {"type": "integer"}, "minContains": 2}, [1, "x"]),
    ],
)
def test_given_contains_bounds_broken_when_checked_then_the_message_does_not_say_no_item_matches(field, value):
    [message] = check({"field": value}, event_schema({"field": field}))

    assert "no item matches" not in message
    assert "minContains" in message
    assert "maxContains" in message


def test_given_a_long_value_when_refused_then_the_message_shows_only_its_beginning():
    [message] = check({"field": "x" * 5_000}, event_schema({"field": {"type": "integer"}}))
    problems = check({"field": "y" * 5_000}, event_schema({"field": {"enum": ["a"]}}))

    assert message == "/field: expected integer, got string"
    assert len(problems[0]) < 120
    assert problems[0].endswith('got "' + "y" * 36 + "...")


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-31T12:00:60Z",
        "2026-01-31T12:00:00",
        "2026-01-31 12:00:00Z",
        "2026-02-30T12:00:00Z",
        "0000-01-01T00:00:00Z",
    ],
)
def test_given_a_date_time_the_lake_cannot_hold_when_checked_then_it_is_refused(text):
    assert check({**VALID, "placed_at": text}) != check(VALID)
    assert date_time_millis(text) is None


@pytest.mark.parametrize(
    "text", ["2026-01-31t12:00:00z", "2026-01-31T12:00:00.123456789-05:30", "9999-12-31T23:59:59Z"]
)
def test_given_a_date_time_the_edge_accepts_then_compaction_reads_it(text):
    assert check({**VALID, "placed_at": text})["placed_at"] == text
    assert date_time_millis(text) is not None


def test_given_integers_spelled_as_floats_when_checked_then_stored_as_integers_or_refused_beyond_64_bits():
    assert check({**VALID, "total": 30.0})["total"] == 30
    assert isinstance(check({**VALID, "total": 30.0})["total"], int)
    assert check({**VALID, "total": 1e300}) == ["/total: 1e+300 is an integer beyond 64 bits"]
    assert check({**VALID, "total": 2**63}) == ["/total: integer does not fit in 64 bits"]


def test_given_an_integral_float_in_a_nested_bigint_when_checked_then_it_is_stored_as_an_integer():
    schema = event_schema({"items": {"type": "array", "items": {"type": "integer"}}})

    assert check({"items": [1.0, 2], "other": 1.0}, schema) == {"items": [1, 2], "other": 1.0}


def test_given_a_number_field_when_an_integer_beyond_2_53_is_sent_then_refused_as_not_exactly_a_double():
    assert check({**VALID, "lines": [{"sku": "a", "price": 2**53}]})["lines"][0]["price"] == 2**53
    [message] = check({**VALID, "lines": [{"sku": "a", "price": 2**53 + 1}]})

    assert message.startswith("/lines/0/price: 9007199254740993 is not exactly a double")
    assert check({**VALID, "lines": [{"sku": "a", "price": 1e20}]})["lines"][0]["price"] == 1e20


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"attributes": {"a": "\ud800"}}, "/attributes/a: string is not valid Unicode"),
        ({"attributes": {"": 1}}, "/attributes: field names must be 1-128 valid characters"),
        ({"attributes": {"a/b": 2**64}}, "/attributes/a~1b: integer does not fit in 64 bits"),
        ({"attributes": {"a": float("inf")}}, "/attributes/a: number is not finite"),
        ({"attributes": {"a": [[[[[[[[[1]]]]]]]]]}}, "/attributes/a/0/0/0/0/0/0/0: nests deeper than 8 levels"),
    ],
)
def test_given_a_value_no_lake_keeps_exactly_when_checked_then_refused_by_pointer_before_the_validator(value, message):
    assert check({**VALID, **value}) == [message]


def test_given_an_event_with_many_problems_when_checked_then_at_most_a_bounded_number_are_named():
    problems = check({f"f{index}": index for index in range(100)})

    assert len(problems) == MAX_MESSAGES


def test_given_a_pattern_that_backtracks_without_end_when_checked_then_refused_quickly_naming_the_field():
    schema = event_schema({"code": {"type": "string", "pattern": "^(a|a)+\\1$"}})

    assert check({"code": "a" * 40 + "!"}, schema) == ["/code: the schema's pattern takes too long to match this value"]


def test_given_a_track_plan_when_checked_then_errors_point_under_properties_and_values_stay_unchanged():
    plan = event_schema({"orderId": {"type": "string"}, "revenue": {"type": "number"}}, "orderId")
    schema = registered(plan, kind="track", name="Order Completed")

    assert sorted(compiled(schema).check({"revenue": "10"}, "/properties")) == [
        "/properties/orderId: required field is missing",
        "/properties/revenue: expected number, got string",
    ]
    assert compiled(schema).check({"orderId": "1", "revenue": 1.0}, "/properties") == {"orderId": "1", "revenue": 1.0}


def test_given_a_schema_version_when_compiled_twice_then_once_and_a_new_version_anew():
    first = compiled(registered(ORDER))

    assert compiled(registered(ORDER)) is first
    assert compiled(registered(order(total={"type": "integer"}), version=2)) is not first


@pytest.mark.parametrize("pattern", ["a\\Z", "a{,3}"])
def test_given_a_pattern_python_compiles_but_the_validator_does_not_then_registration_and_events_are_told(pattern):
    document = event_schema({"code": {"type": "string", "pattern": pattern}})

    [problem] = compile_problems(document)
    assert problem.startswith("the schema does not compile: ")
    assert pattern.replace("\\", "\\\\") in problem
    with pytest.raises(SchemaNotCompiled):
        compiled(registered(document))
    with pytest.raises(SchemaNotCompiled):  # kept: not compiled again for every event
        compiled(registered(document))
    assert compile_problems(ORDER) == []


def test_given_the_collector_when_imported_then_the_validator_library_is_not():
    code = "import sys, event_collector.ingest.api; print('jsonschema_rs' in sys.modules)"

    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert imported.stdout.strip() == "False"


@settings(max_examples=50, deadline=None)
@given(event_schemas)
def test_given_any_schema_registration_takes_when_compiled_then_the_validator_takes_it_too(schema):
    assert read_schema(schema).problems == ()
    assert compile_problems(schema) == []


@pytest.mark.parametrize("kind", ["type", "track"])
def test_given_a_schema_the_validator_cannot_compile_when_registered_then_refused_saying_why(kind):
    registry = MemorySchemas()
    document = event_schema({"code": {"type": "string", "pattern": "a\\Z"}})

    refused = register(registry, "acme", kind, "code_entered", document, 0)

    assert isinstance(refused, Refused)
    assert refused.messages[0].startswith("the schema does not compile: ")
    assert registry.versions("acme", kind, "code_entered") == []
