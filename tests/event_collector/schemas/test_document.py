"""The schema document's own rules: each refused with a message naming where (and which field), and what
every rule lets through."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# jsonschema (a dependency of aws-sam-translator, pinned for the tests) checks against the draft's metaschema.
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema_specifications import REGISTRY  # type: ignore[import-untyped]

from event_collector.schemas.document import MAX_SCHEMA_BYTES, MAX_SCHEMA_DEPTH, SchemaProblem
from event_collector.schemas.fields import MAX_FIELD_DEPTH, MAX_FIELDS, MAX_REF_HOPS, MAX_SUBSCHEMAS, read_schema
from event_collector.schemas.keywords import KEYWORDS, REFUSED
from tests.event_collector.schemas.helpers import ORDER, closed, event_schema, order

LAYER = Path(__file__).resolve().parents[3] / "layers" / "common" / "python"


def messages(schema: Any) -> list[str]:
    return [str(problem) for problem in read_schema(schema).problems]


def test_given_the_worked_example_when_read_then_nothing_is_wrong_and_jsonschema_takes_it_too():
    assert messages(ORDER) == []
    Draft202012Validator.check_schema(ORDER)


def test_given_every_keyword_draft_2020_12_defines_when_read_then_each_is_taken_or_refused_with_a_reason():
    defined = {
        keyword
        for uri in REGISTRY
        if uri.startswith("https://json-schema.org/draft/2020-12/")
        for keyword in REGISTRY.contents(uri).get("properties", {})
    }

    assert defined == KEYWORDS | set(REFUSED) - {"additionalItems"}


def test_given_a_schema_using_every_keyword_taken_when_read_then_nothing_is_wrong():
    kitchen_sink = event_schema(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[a-z]+$", "format": "email"},
            "count": {"type": "integer", "minimum": 0, "exclusiveMaximum": 100, "multipleOf": 1},
            "ratio": {"type": "number", "maximum": 1.5, "exclusiveMinimum": 0, "default": 1, "examples": [0.5]},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 0, "maxItems": 9, "uniqueItems": True},
            "pair": {"type": "array", "prefixItems": [{"type": "string"}], "items": False},
            "seen": {"type": "array", "contains": {"const": 1}, "minContains": 1, "maxContains": 3},
            "meta": {
                "type": "object",
                "patternProperties": {"^x": {"type": "string"}},
                "propertyNames": {"maxLength": 8},
                "minProperties": 0,
                "maxProperties": 4,
                "dependentRequired": {"a": ["b"]},
                "dependentSchemas": {"a": {"required": ["c"]}},
                "unevaluatedProperties": False,
            },
            "kind": {"enum": ["a", "b"], "deprecated": True, "readOnly": False, "writeOnly": False},
            "either": {"oneOf": [{"$ref": "#/$defs/money"}, {"type": "null"}], "$comment": "why"},
            "choice": {"if": {"type": "string"}, "then": {"minLength": 1}, "else": {"not": {"type": "null"}}},
            "blob": {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/png"},
            "doc": {"type": "string", "contentMediaType": "application/json", "contentSchema": {"type": "object"}},
            "any": {"allOf": [{}, True], "unevaluatedItems": False, "x-owner": "growth team"},
        },
        "name",
        **{
            "$schema": "https://json-schema.org/draft/2020-12/schema#",
            "$id": "https://example.com/schemas/order.json",
            "title": "Kitchen sink",
            "description": "Every keyword the collector takes",
            "$defs": {"money": closed({"amount": {"type": "integer"}, "currency": {"const": "EUR"}}, "amount")},
        },
    )

    assert messages(kitchen_sink) == []
    Draft202012Validator.check_schema(kitchen_sink)


@pytest.mark.parametrize(
    "schema", [event_schema({}), {"type": ["object"], "properties": {}}, event_schema({"a": True})]
)
def test_given_the_smallest_object_schemas_when_read_then_nothing_is_wrong(schema):
    assert messages(schema) == []


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ([], "#: a schema must be a JSON object"),
        ("object", "#: a schema must be a JSON object"),
        ({"properties": {}}, '#/type: must be "object": a schema describes an event\'s own fields'),
        ({"type": "array", "properties": {}}, '#/type: must be "object": a schema describes an event\'s own fields'),
        ({"type": "object"}, "#: must declare the event's own fields in properties (an object, {} for none)"),
        ({"type": "object", "properties": []}, "#/properties: must be an object whose values are schemas"),
        (
            event_schema({}, **{"$schema": "http://json-schema.org/draft-07/schema#"}),
            "#/$schema: must be https://json-schema.org/draft/2020-12/schema (draft 2020-12), or left out",
        ),
        (event_schema({"a": {"type": "number"}}, amount=math.nan), "#: not a JSON document: "),
        (
            {"type": "object", "properties": {1: {}}},
            "#: not a JSON document: an object has a key that is not a string",
        ),
    ],
)
def test_given_a_schema_that_is_not_an_object_schema_when_read_then_it_is_refused_at_its_root(schema, expected):
    assert any(message.startswith(expected) for message in messages(schema)), messages(schema)


@pytest.mark.parametrize("name", ["tenant", "event_id", "timestamp", "received_at", "schema_version", "extra", "day"])
def test_given_a_top_level_field_named_like_the_envelope_when_read_then_it_is_refused_naming_the_field(name):
    assert messages(event_schema({name: {"type": "string"}})) == [
        f"/{name}: {name!r} is reserved: every event already has it, or the server or the lake sets it"
    ]


def test_given_a_field_name_glue_would_rename_when_read_then_it_is_refused_naming_the_field():
    [problem] = read_schema(event_schema({"orderId": {"type": "string"}})).problems

    assert (problem.field, problem.location) == ("/orderId", "/properties/orderId")
    assert "not a column name" in problem.message


def test_given_a_struct_with_a_field_glue_would_rename_when_read_then_it_is_refused_naming_the_nested_field():
    schema = event_schema({"order": closed({"lineItems": {"type": "array"}})})

    [problem] = read_schema(schema).problems

    assert (problem.field, problem.location) == ("/order/lineItems", "/properties/order/properties/lineItems")


def test_given_a_track_plan_with_camel_case_and_envelope_names_when_read_without_lake_names_then_taken():
    """A track plan describes ``properties``, which stays JSON text in the lake: its names are free."""
    plan = event_schema(
        {
            "orderId": {"type": "string"},
            "context": {"type": "string"},
            "cart": closed({"lineItems": {"type": "array"}}),
        },
        "orderId",
    )

    reading = read_schema(plan, lake_names=False)

    assert reading.problems == ()
    assert [field.pointer for field in reading.fields] == ["/orderId", "/context", "/cart"]
    # A type's fields are columns: the same names are refused.
    assert {problem.field for problem in read_schema(plan).problems} == {"/orderId", "/context"}


def test_given_a_track_plan_breaking_a_document_rule_when_read_without_lake_names_then_still_refused():
    plan = event_schema({"orderId": {"type": "strng"}}, "total")

    assert {str(problem).split(":")[0] for problem in read_schema(plan, lake_names=False).problems} == {
        "/orderId",
        "#/required/0",
    }


def test_given_an_open_object_with_any_key_names_when_read_then_they_are_json_text_and_taken():
    schema = event_schema({"headers": {"type": "object", "properties": {"Content-Type": {"type": "string"}}}})

    assert messages(schema) == []


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("https://example.com/money.json", "only references to this schema's own definitions (#/$defs/<name>)"),
        ("money.json#/$defs/money", "only references to this schema's own definitions"),
        ("#/properties/total", "only references to this schema's own definitions"),
        ("#/$defs/money/properties/amount", "only references to this schema's own definitions"),
        ("#money", "only references to this schema's own definitions"),
        ("#/$defs/missing", "'#/$defs/missing': no such definition in $defs"),
    ],
)
def test_given_a_ref_outside_the_schemas_own_definitions_when_read_then_it_is_refused_naming_the_field(ref, expected):
    schema = event_schema({"price": {"$ref": ref}}, **{"$defs": {"money": closed({"amount": {"type": "integer"}})}})

    [problem] = read_schema(schema).problems

    assert (problem.field, problem.location) == ("/price", "/properties/price/$ref")
    assert expected in problem.message


@pytest.mark.parametrize(
    "definitions",
    [
        {"node": closed({"child": {"$ref": "#/$defs/node"}})},
        {"a": {"type": "array", "items": {"$ref": "#/$defs/b"}}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}},
    ],
)
def test_given_a_definition_that_refers_back_to_itself_when_read_then_it_is_refused_as_recursive(definitions):
    schema = event_schema({"tree": {"$ref": f"#/$defs/{next(iter(definitions))}"}}, **{"$defs": definitions})

    assert {str(problem) for problem in read_schema(schema).problems} == {
        f"#/$defs/{name}: definition {name!r} refers back to itself (recursive $ref)" for name in definitions
    }


@pytest.mark.parametrize(
    ("field_schema", "location", "expected"),
    [
        (
            {"type": "object", "propertes": {}},
            "/propertes",
            "'propertes' is not a keyword of JSON Schema draft 2020-12",
        ),
        ({"type": "string", "format": "date_time"}, "/format", "'date_time' is not a format of draft 2020-12"),
        ({"type": "decimal"}, "/type", "must be one of array, boolean, integer, null, number, object, string"),
        ({"type": []}, "/type", "must be one of"),
        ({"type": ["string", "string"]}, "/type", "lists a type twice"),
        ({"type": "string", "pattern": 1}, "/pattern", "must be a regular expression (a string)"),
        ({"type": "string", "minLength": -1}, "/minLength", "must be a count"),
        ({"type": "string", "maxLength": True}, "/maxLength", "must be a count"),
        ({"type": "number", "minimum": "0"}, "/minimum", "must be a number"),
        ({"type": "number", "multipleOf": 0}, "/multipleOf", "must be a number greater than 0"),
        ({"enum": []}, "/enum", "must be a non-empty list"),
        ({"anyOf": []}, "/anyOf", "must be a non-empty list of schemas"),
        ({"type": "array", "items": [{"type": "string"}]}, "/items", "draft 2020-12 calls it prefixItems"),
        ({"type": "array", "items": "string"}, "/items", "must be a schema"),
        ({"type": "object", "required": ["a", "a"]}, "/required", "must be a list of distinct field names"),
        ({"type": "object", "dependentRequired": {"a": "b"}}, "/dependentRequired", "must map field names to lists"),
        ({"type": "array", "uniqueItems": "yes"}, "/uniqueItems", "must be true or false"),
        ({"type": "string", "examples": "a"}, "/examples", "must be a list of examples"),
        ({"type": "string", "description": 1}, "/description", "must be a string"),
        ({"type": "object", "$defs": {}}, "/$defs", "$defs is only taken at the top of the schema"),
        ({"type": "object", "$id": "https://x"}, "/$id", "$id is only taken at the top of the schema"),
        ({"$anchor": "money"}, "/$anchor", "anchors are not supported"),
        ({"$dynamicRef": "#meta"}, "/$dynamicRef", "dynamic references are not supported"),
        ({"type": "object", "dependencies": {}}, "/dependencies", "use dependentRequired or dependentSchemas"),
        ({"type": "array", "additionalItems": False}, "/additionalItems", "use items after prefixItems"),
        ({"properties": {"a": False}}, "/properties/a", "a field whose schema is false could never be sent"),
        ({"type": "object", "properties": {}, "required": ["b"]}, "/required/0", "requires 'b', which properties"),
        (1, "", "a schema must be an object, true or false"),
    ],
)
def test_given_a_field_schema_breaking_a_rule_when_read_then_it_is_refused_naming_the_field_and_keyword(
    field_schema, location, expected
):
    problems = read_schema(event_schema({"order": field_schema})).problems

    assert [(p.field, p.location) for p in problems] == [
        ("/order/a" if location == "/properties/a" else "/order", "/properties/order" + location)
    ]
    assert expected in problems[0].message


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (
            event_schema({}, definitions={"a": {}}),
            "#/definitions: an older draft's keyword: draft 2020-12 calls it $defs",
        ),
        (event_schema({}, **{"$defs": {"1st": {}}}), "#/$defs: definition names must match"),
        (event_schema({}, **{"$id": "https://example.com/a#b"}), "#/$id: must be a URI without a fragment"),
        (event_schema({}, "a"), "#/required/0: requires 'a', which properties does not declare"),
        (
            event_schema({}, **{"$defs": {"a": {"type": "object", "propertes": {}}}}),
            "#/$defs/a/propertes: 'propertes' is not a keyword",
        ),
    ],
)
def test_given_a_problem_outside_any_field_when_read_then_it_is_named_by_its_place_in_the_schema(schema, expected):
    assert any(message.startswith(expected) for message in messages(schema)), messages(schema)


def test_given_a_field_with_several_problems_when_read_then_every_one_is_reported():
    schema = event_schema({"orderId": {"type": "strin"}, "tenant": {"$ref": "https://x"}, "z": False}, "q")

    assert [(problem.field or "#" + problem.location) for problem in read_schema(schema).problems] == [
        "/orderId",
        "/tenant",
        "/orderId",
        "/tenant",
        "/z",
        "#/required/0",
    ]


def test_given_a_schema_larger_than_the_limit_when_read_then_it_is_refused_saying_its_size():
    schema = event_schema({"a": {"type": "string", "description": "x" * MAX_SCHEMA_BYTES}})

    [problem] = read_schema(schema).problems

    assert problem.location == ""
    assert problem.message.endswith(f"bytes as compact JSON; the limit is {MAX_SCHEMA_BYTES}")


def test_given_a_schema_nested_past_the_limit_when_read_then_it_is_refused_without_recursing():
    deep: dict[str, Any] = {}
    for _ in range(sys.getrecursionlimit() * 2):
        deep = {"not": deep}

    assert messages(event_schema({"a": deep})) == [
        f"#: nests {sys.getrecursionlimit() * 2 + 3} levels deep; the limit is {MAX_SCHEMA_DEPTH}"
    ]


def test_given_structs_nested_past_the_limit_when_read_then_the_field_too_deep_is_named():
    schema: dict[str, Any] = {"type": "integer"}
    for _ in range(MAX_FIELD_DEPTH + 1):
        schema = closed({"a": schema})

    [problem] = read_schema(event_schema({"a": schema})).problems

    assert problem.field == "/a" * (MAX_FIELD_DEPTH + 1)
    assert problem.message == f"nests objects and arrays deeper than {MAX_FIELD_DEPTH} levels"


def test_given_definitions_that_multiply_fields_when_read_then_it_is_refused_before_expanding_them_all():
    # Each level holds ten of the next: 10**6 fields once expanded, from a document of a few kilobytes.
    definitions = {
        f"level{level}": closed({f"f{index}": {"$ref": f"#/$defs/level{level + 1}"} for index in range(10)})
        for level in range(6)
    }
    definitions["level6"] = {"type": "string"}
    schema = event_schema({"root": {"$ref": "#/$defs/level0"}}, **{"$defs": definitions})

    assert messages(schema) == [f"#: declares more than {MAX_FIELDS} fields, once each $ref is expanded where used"]


def test_given_unions_that_multiply_subschemas_when_read_then_it_is_refused_before_reading_them_all():
    definitions: dict[str, Any] = {
        f"d{level}": {"anyOf": [{"$ref": f"#/$defs/d{level + 1}"}] * 4} for level in range(12)
    }
    definitions["d12"] = {"type": "string"}
    schema = event_schema({"root": {"$ref": "#/$defs/d0"}}, **{"$defs": definitions})

    assert messages(schema) == [f"#: takes more than {MAX_SUBSCHEMAS} subschemas to read, once each $ref is expanded"]


def test_given_a_chain_of_refs_longer_than_the_limit_when_read_then_the_field_is_named():
    count = MAX_REF_HOPS + 2
    definitions: dict[str, Any] = {f"d{index}": {"$ref": f"#/$defs/d{index + 1}"} for index in range(count)}
    definitions[f"d{count}"] = {"type": "string"}

    [problem] = read_schema(event_schema({"a": {"$ref": "#/$defs/d0"}}, **{"$defs": definitions})).problems

    assert (problem.field, problem.message) == ("/a", f"more than {MAX_REF_HOPS} $refs in a row")


def test_given_a_problem_when_printed_then_a_field_is_named_as_in_an_event_and_a_place_as_in_the_schema():
    assert str(SchemaProblem("/properties/a/type", "bad", "/a")) == "/a: bad"
    assert str(SchemaProblem("/$defs/x", "bad")) == "#/$defs/x: bad"
    assert str(SchemaProblem("", "bad")) == "#: bad"


def test_given_the_worked_example_changed_when_read_then_only_the_change_is_reported():
    assert messages(order(total={"type": "integer", "minimum": "0"})) == ["/total: must be a number"]


def test_given_the_modules_the_collector_uses_when_imported_then_pyarrow_is_not_loaded():
    probe = (
        "import sys; import event_collector.schemas.evolution, event_collector.schemas.formats;"
        "print('pyarrow' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(LAYER)},
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "False"
