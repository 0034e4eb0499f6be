from __future__ import annotations

import json

import pytest

from event_collector.json_values import loads_strict, problems_in_value


@pytest.mark.parametrize(
    "text",
    ["NaN", "[Infinity]", '{"a": -Infinity}', "1" * 5000, "[" * 50_000 + "]" * 50_000, "{", ""],
)
def test_given_json_python_would_misread_when_parsed_strictly_then_decode_error(text):
    with pytest.raises(json.JSONDecodeError):
        loads_strict(text)


def test_given_plain_json_when_parsed_strictly_then_same_as_json_loads():
    text = '{"a": [1, 2.5, "x", null, true], "b": {"c": -9223372036854775808}}'
    assert loads_strict(text) == json.loads(text)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"n": 2**63}, "64 bits"),
        ({"n": -(2**63) - 1}, "64 bits"),
        ({"f": float("inf")}, "not finite"),
        ({"s": "\ud83d"}, "Unicode"),
        ({"\udc00": 1}, "property names"),
        ({"k" * 129: 1}, "property names"),
        ({"a": [[[[[[[[[[1]]]]]]]]]]}, "nesting"),
    ],
)
def test_given_values_a_lake_cannot_hold_when_checked_then_each_is_named(value, problem):
    problems = problems_in_value(value)
    assert problems
    assert problem in problems[0]


def test_given_ordinary_values_when_checked_then_no_problem():
    assert (
        problems_in_value({"plan": "pro", "seats": 3, "price": 9.5, "tags": ["a"], "meta": {"ok": True, "x": None}})
        == []
    )
