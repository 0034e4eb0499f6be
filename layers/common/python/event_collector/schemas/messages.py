"""jsonschema-rs's errors as the collector's messages: the field as a JSON pointer, then what was expected.

``/total: expected integer, got string``, ``/order_id: required field is missing``, ``/coupon: not declared
by the schema (additionalProperties is false)``, ``/total: must be >= 0, got -1``. A missing or undeclared
field is named itself (the library reports them on the object that holds them). Kinds without a message
of their own fall back on the library's text. A value is shown only while short, so a message never
echoes a whole event back (docs/api.md, "Custom event types").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from event_collector.json_values import canonical_json
from event_collector.schemas.document import pointer_token
from event_collector.schemas.fields import json_type

MAX_SHOWN_CHARACTERS = 40
MAX_FALLBACK_CHARACTERS = 120  # the library's own message, for a kind without one here
_COMPARISONS = {"Minimum": ">=", "Maximum": "<=", "ExclusiveMinimum": ">", "ExclusiveMaximum": "<"}
_COUNTS = {
    "MinLength": ("at least", "characters long"),
    "MaxLength": ("at most", "characters long"),
    "MinItems": ("at least", "items"),
    "MaxItems": ("at most", "items"),
    "MinProperties": ("at least", "fields"),
    "MaxProperties": ("at most", "fields"),
}
_FORMATS = {"date-time": "a date-time (RFC 3339, for example 2026-01-31T12:00:00Z)"}


def pointer(path: Any, prefix: str = "") -> str:
    """``instance_path`` (keys and indices) as a JSON pointer under ``prefix``."""
    return prefix + "".join(f"/{pointer_token(str(part))}" for part in path)


def shown(value: Any) -> str:
    """A value as JSON, cut short when long."""
    return _cut(canonical_json(value), MAX_SHOWN_CHARACTERS)


def _cut(text: str, limit: int) -> str:
    return text[: limit - 3] + "..." if len(text) > limit else text


def error_messages(error: Any, prefix: str = "", root: str = "event") -> Iterator[str]:
    """One error's messages (several for an object with several undeclared fields); ``prefix``: where the
    validated value is in the event (``/properties`` for a track plan); ``root`` names the whole value."""
    kind = type(error.kind).__name__
    where = pointer(error.instance_path, prefix)
    if kind in ("Required", "AdditionalProperties", "UnevaluatedProperties"):
        if kind == "Required":
            yield f"{where}/{pointer_token(error.kind.property)}: required field is missing"
            return
        keyword = "additionalProperties" if kind == "AdditionalProperties" else "unevaluatedProperties"
        for name in error.kind.unexpected:
            yield f"{where}/{pointer_token(name)}: not declared by the schema ({keyword} is false)"
        return
    yield f"{where or root}: {_expected(kind, error)}"


def _expected(kind: str, error: Any) -> str:
    describe = _DESCRIBE.get(kind)
    if describe is not None:
        return describe(error)
    if kind in _COMPARISONS:
        return f"must be {_COMPARISONS[kind]} {shown(error.kind.limit)}, got {shown(error.instance)}"
    if kind in _COUNTS:
        least, unit = _COUNTS[kind]
        return f"must be {least} {error.kind.limit} {unit}"
    return _cut(str(error.message).split("\n", 1)[0], MAX_FALLBACK_CHARACTERS)  # the library's quotes values


def _type(error: Any) -> str:
    return f"expected {' or '.join(error.kind.types)}, got {json_type(error.instance)}"


def _union(error: Any) -> str:
    """``anyOf``/``oneOf`` whose branches each failed on their type alone: the types they take
    (``expected string or null, got integer``); else which keyword failed."""
    if type(error.kind).__name__ == "OneOfMultipleValid":
        return f"must match exactly one schema of oneOf, matched several: {shown(error.instance)}"
    branches = error.kind.context
    if branches and all(
        len(errors) == 1
        and type(errors[0].kind).__name__ == "Type"
        and list(errors[0].instance_path) == list(error.instance_path)
        for errors in branches
    ):
        types = dict.fromkeys(name for errors in branches for name in errors[0].kind.types)
        return f"expected {' or '.join(types)}, got {json_type(error.instance)}"
    if type(error.kind).__name__ == "AnyOf":
        return f"must match at least one schema of anyOf, got {shown(error.instance)}"
    return f"must match one schema of oneOf, got {shown(error.instance)}"


def _format(error: Any) -> str:
    name = error.kind.format
    return f"must be {_FORMATS.get(name, f'a valid {name}')}, got {shown(error.instance)}"


_DESCRIBE: dict[str, Callable[[Any], str]] = {
    "Type": _type,
    "AnyOf": _union,
    "OneOfNotValid": _union,
    "OneOfMultipleValid": _union,
    "Format": _format,
    "Enum": lambda error: (
        f"must be one of {', '.join(shown(option) for option in error.kind.options)}, got {shown(error.instance)}"
    ),
    "Constant": lambda error: f"must be {shown(error.kind.expected_value)}, got {shown(error.instance)}",
    "Pattern": lambda error: f"must match the pattern {shown(error.kind.pattern)}, got {shown(error.instance)}",
    "BacktrackLimitExceeded": lambda error: "the schema's pattern takes too long to match this value",
    "MultipleOf": lambda error: f"must be a multiple of {shown(error.kind.multiple_of)}, got {shown(error.instance)}",
    "UniqueItems": lambda error: "items must be unique",
    # The library reports minContains and maxContains as Contains too, each as if no item matched.
    "Contains": lambda error: (
        "not as many items match the schema of contains as contains, minContains and maxContains ask"
    ),
    "UnevaluatedItems": lambda error: "has items beyond those the schema evaluates (unevaluatedItems)",
    "FalseSchema": lambda error: "not allowed by the schema",
    "Not": lambda error: f"must not match the schema {shown(error.kind.schema)}",
    "PropertyNames": lambda error: f"a field name is not allowed: {error.kind.error.message}",
}
