"""Draft 2020-12's keywords as the collector takes them: which exist, which it refuses and why, and what
kind of value each takes (docs/schemas.md). ``document.py`` walks a schema with these tables.

These checks cover every keyword the lake's types depend on and the usual mistakes, each named by where
it is; compiling the schema with the validator library (its metaschema check) stays the last word.
"""

from __future__ import annotations

import re
from typing import Any

DEF_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$"
DEF_REF = re.compile(r"^#/\$defs/(?P<name>[A-Za-z][A-Za-z0-9_.-]{0,63})$")
_DEF_NAME = re.compile(DEF_NAME_PATTERN)
_ID = re.compile(r"^[^#]*#?$")

TYPES = frozenset({"string", "integer", "number", "boolean", "object", "array", "null"})
# Draft 2020-12's formats (its "format-annotation" vocabulary); only date-time changes a column's type.
FORMATS = frozenset(
    {
        "date-time", "date", "time", "duration", "email", "idn-email", "hostname", "idn-hostname", "ipv4",
        "ipv6", "uri", "uri-reference", "iri", "iri-reference", "uuid", "uri-template", "json-pointer",
        "relative-json-pointer", "regex",
    }
)  # fmt: skip

# Keywords whose value is one schema, a list of schemas, or an object of schemas.
ONE_SCHEMA = frozenset(
    {
        "additionalProperties", "items", "contains", "propertyNames", "not", "if", "then", "else",
        "unevaluatedItems", "unevaluatedProperties", "contentSchema",
    }
)  # fmt: skip
SCHEMA_LISTS = frozenset({"prefixItems", "allOf", "anyOf", "oneOf"})
SCHEMA_MAPS = frozenset({"properties", "patternProperties", "dependentSchemas", "$defs"})
NUMBERS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
COUNTS = frozenset(
    {"minLength", "maxLength", "minItems", "maxItems", "minContains", "maxContains", "minProperties", "maxProperties"}
)
# Keywords that only annotate or take any JSON value.
FREE = frozenset(
    {"title", "description", "$comment", "default", "examples", "deprecated", "readOnly", "writeOnly", "const"}
)
OTHERS = frozenset(
    {
        "type", "enum", "format", "pattern", "multipleOf", "uniqueItems", "required", "dependentRequired", "$ref",
        "contentEncoding", "contentMediaType",
    }
)  # fmt: skip
TOP_ONLY = frozenset({"$schema", "$id", "$defs"})
KEYWORDS = ONE_SCHEMA | SCHEMA_LISTS | SCHEMA_MAPS | NUMBERS | COUNTS | FREE | OTHERS | TOP_ONLY
# Keywords of draft 2020-12 the collector does not take, and older drafts' that 2020-12 renamed.
REFUSED = {
    "$anchor": "anchors are not supported: refer to #/$defs/<name>",
    "$dynamicAnchor": "dynamic references are not supported: refer to #/$defs/<name>",
    "$dynamicRef": "dynamic references are not supported: refer to #/$defs/<name>",
    "$vocabulary": "a schema cannot declare vocabularies (it is a metaschema's keyword)",
    "definitions": "an older draft's keyword: draft 2020-12 calls it $defs",
    "dependencies": "an older draft's keyword: use dependentRequired or dependentSchemas",
    "additionalItems": "an older draft's keyword: use items after prefixItems",
    "$recursiveRef": "an older draft's keyword: refer to #/$defs/<name>",
    "$recursiveAnchor": "an older draft's keyword: refer to #/$defs/<name>",
}


def value_problem(keyword: str, value: Any, definitions: set[str]) -> str | None:
    if keyword in ONE_SCHEMA:
        if keyword == "items" and isinstance(value, list):
            return "a list of schemas is an older draft's form: draft 2020-12 calls it prefixItems"
        return None if isinstance(value, dict | bool) else "must be a schema (an object, true or false)"
    if keyword in SCHEMA_LISTS:
        return None if isinstance(value, list) and value else "must be a non-empty list of schemas"
    if keyword in SCHEMA_MAPS:
        if not isinstance(value, dict):
            return "must be an object whose values are schemas"
        if keyword == "$defs":
            bad = [name for name in value if not _DEF_NAME.fullmatch(name)]
            return f"definition names must match {DEF_NAME_PATTERN}: {', '.join(map(repr, bad))}" if bad else None
        return None
    if keyword in NUMBERS:
        return None if _is_number(value) else "must be a number"
    if keyword in COUNTS:
        return None if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else "must be a count"
    return _other_value_problem(keyword, value, definitions)


def _other_value_problem(keyword: str, value: Any, definitions: set[str]) -> str | None:
    if keyword == "type":
        names = value if isinstance(value, list) else [value]
        if not names or not all(isinstance(name, str) and name in TYPES for name in names):
            return f"must be one of {', '.join(sorted(TYPES))}, or a non-empty list of them"
        return None if len(set(names)) == len(names) else "lists a type twice"
    if keyword == "$ref":
        return _ref_problem(value, definitions)
    if keyword == "format":
        return None if value in FORMATS else f"{value!r} is not a format of draft 2020-12 (a typo?)"
    if keyword == "pattern":
        return _regex_problem(value)
    if keyword == "required":
        ok = isinstance(value, list) and all(isinstance(name, str) for name in value) and len(set(value)) == len(value)
        return None if ok else "must be a list of distinct field names"
    if keyword == "dependentRequired":
        ok = isinstance(value, dict) and all(
            isinstance(names, list) and all(isinstance(name, str) for name in names) for names in value.values()
        )
        return None if ok else "must map field names to lists of field names"
    if keyword == "enum":
        return None if isinstance(value, list) and value else "must be a non-empty list"
    if keyword == "multipleOf":
        return None if _is_number(value) and value > 0 else "must be a number greater than 0"
    if keyword == "uniqueItems" or keyword in ("deprecated", "readOnly", "writeOnly"):
        return None if isinstance(value, bool) else "must be true or false"
    if keyword == "$id":
        return None if isinstance(value, str) and _ID.fullmatch(value) else "must be a URI without a fragment"
    if keyword in ("$schema", "title", "description", "$comment", "contentEncoding", "contentMediaType"):
        return None if isinstance(value, str) else "must be a string"
    if keyword == "examples":
        return None if isinstance(value, list) else "must be a list of examples"
    return None


def _ref_problem(value: Any, definitions: set[str]) -> str | None:
    match = DEF_REF.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return (
            f"{value!r}: only references to this schema's own definitions (#/$defs/<name>) are taken; "
            "nothing is fetched from elsewhere"
        )
    return None if match["name"] in definitions else f"{value!r}: no such definition in $defs"


def _regex_problem(value: Any) -> str | None:
    """Only its kind: a pattern is ECMA-262's, which Python's ``re`` does not read (``\\p{L}``, ``(?<name>)``,
    ``\\cA``) and misreads (``\\Z``, ``a{,3}``); registration compiles it with the collector's validator
    (``validator.compile_problems``), which alone decides."""
    return None if isinstance(value, str) else "must be a regular expression (a string)"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
