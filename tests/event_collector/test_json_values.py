from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from event_collector.json_values import (
    INT64_MAX,
    INT64_MIN,
    InexactJson,
    canonical_json,
    compact_json,
    loads_strict,
    problems_in_value,
)


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


# --- values the parser would change: refused, with where they are ------------------------------------------


@pytest.mark.parametrize(
    ("text", "location", "problem"),
    [
        ('{"events":[{"properties":{"a":1e-400}}]}', "events[0].properties.a", "too small"),
        ('{"a":1,"a":2}', "a", "more than once"),
        ('{"events":[{"event_type":"track","event_type":"page_view"}]}', "events[0].event_type", "more than once"),
        ('{"e":[{"p":{"x":[1,{"b":1,"c":2,"b":3}]}}]}', "e[0].p.x[1].b", "more than once"),
        ('{"a":"x","\\u0061":"y"}', "a", "more than once"),  # the same name, escaped
        ('{"p":{"a":-1.5E-999}}', "p.a", "too small"),
        ('{"p":{"a":0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'
         '0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'
         '0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'
         '00000000000000000000000000000000000000000000001}}', "p.a", "too small"),
        ('{"p":{"a":1e309}}', "p.a", "too large"),
        ('{"p":[-1E+400]}', "p[0]", "too large"),
        ('{"p":{"n":NaN}}', "p.n", "NaN"),
        ("[Infinity]", "[0]", "Infinity"),
        ("1e-400", "body", "too small"),
    ],
)  # fmt: skip
def test_given_a_value_the_parser_would_change_when_parsed_then_refused_naming_where(text, location, problem):
    with pytest.raises(InexactJson) as refused:
        loads_strict(text)

    assert refused.value.location == location
    assert problem in refused.value.problem


@given(
    mantissa=st.decimals(min_value=Decimal("1e-30"), max_value=Decimal("1e30"), allow_nan=False, places=10),
    exponent=st.integers(min_value=400, max_value=100_000),
    sign=st.sampled_from(["", "-"]),
)
def test_given_any_nonzero_number_below_a_double_when_parsed_then_refused(mantissa, exponent, sign):
    assume(mantissa != 0)
    with pytest.raises(InexactJson):
        loads_strict(f'{{"a":{sign}{mantissa:f}e-{exponent}}}')


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0e-999", 0.0),
        ("-0.0", -0.0),
        ("-0", -0.0),  # negative zero as Go and others write it: kept, not folded into 0
        ("-0E+5", -0.0),
        ("0.000", 0.0),
        ("1E+2", 100.0),
        ("0.1e1", 1.0),
        ("5e-324", 5e-324),  # the smallest subnormal: nonzero, kept
        ("2.4703282292062328e-324", 5e-324),  # rounds up to it, not to 0
        ("1.7976931348623157e308", 1.7976931348623157e308),
        ("9223372036854775807", 9223372036854775807),
        ("-9223372036854775808", -9223372036854775808),
    ],
)
def test_given_numbers_a_double_holds_when_parsed_then_kept_with_their_sign(text, value):
    parsed = loads_strict(f'{{"a":{text}}}')["a"]

    assert parsed == value
    assert type(parsed) is type(value)
    assert math.copysign(1.0, parsed) == math.copysign(1.0, value)


def test_given_a_byte_order_mark_when_parsed_then_refused():
    with pytest.raises(json.JSONDecodeError):
        loads_strict('\ufeff{"a":1}')


def test_given_lone_surrogate_escapes_when_parsed_then_they_reach_the_checks_that_name_them():
    value = loads_strict('{"a":"\\ud800","b":"\\ud83d\\ude00"}')

    assert value["b"] == "😀"  # a pair is one character
    assert problems_in_value(value) == ["a: string is not valid Unicode"]


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=INT64_MIN, max_value=INT64_MAX)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=16,
)


@given(JSON_VALUES)
def test_given_any_value_when_encoded_then_byte_identical_to_json_encoder(value):
    for sort_keys, encode in ((False, compact_json), (True, canonical_json)):
        reference = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys, allow_nan=False)
        assert encode(value) == reference.encode(value)


@given(JSON_VALUES)
def test_given_any_json_text_when_parsed_strictly_then_the_value_comes_back_exactly(value):
    text = json.dumps(value, ensure_ascii=False)
    parsed = loads_strict(text)

    assert canonical_json(parsed) == canonical_json(value)


def test_given_unencodable_values_when_encoded_then_refused():
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_json({"a": math.nan})
    with pytest.raises(TypeError):
        compact_json({"a": object()})
