"""Schemas for the tests: a builder, a worked example, and a Hypothesis strategy of valid schemas."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from event_collector.schemas.names import FIELD_NAME_PATTERN, RESERVED_FIELDS


def event_schema(properties: dict[str, Any], *required: str, **keywords: Any) -> dict[str, Any]:
    """An object schema of the event's own fields."""
    return {"type": "object", "properties": properties, "required": list(required), **keywords}


def closed(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    """A nested object that admits only what it declares: a struct."""
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


# A tracking plan's "Order Completed", with a definition, a struct in an array, and an open object.
ORDER: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Order completed",
    "type": "object",
    "properties": {
        "order_id": {"type": "string", "minLength": 1},
        "total": {"type": "integer", "minimum": 0},
        "placed_at": {"type": "string", "format": "date-time"},
        "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}},
        "shipping": closed({"city": {"type": "string"}, "express": {"type": "boolean"}}, "city"),
        "attributes": {"type": "object"},
        "coupon": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["order_id", "total"],
    "additionalProperties": False,
    "$defs": {"line": closed({"sku": {"type": "string"}, "price": {"type": "number"}}, "sku")},
}


def order(**changes: Any) -> dict[str, Any]:
    """A copy of ORDER with top-level properties replaced (None removes one)."""
    schema = copy.deepcopy(ORDER)
    for name, value in changes.items():
        if value is None:
            del schema["properties"][name]
        else:
            schema["properties"][name] = value
    return schema


def at(document: Any, location: str) -> Any:
    """The value at a JSON pointer (no escapes: the generated names have none)."""
    for token in location.split("/")[1:]:
        document = document[int(token)] if isinstance(document, list) else document[token]
    return document


field_names = st.from_regex(FIELD_NAME_PATTERN, fullmatch=True).filter(lambda name: name not in RESERVED_FIELDS)
LEAVES: tuple[dict[str, Any], ...] = (
    {"type": "string"},
    {"type": "integer"},
    {"type": "number"},
    {"type": "boolean"},
    {"type": "string", "format": "date-time"},
    {"type": ["string", "null"]},
    {"enum": ["a", "b"]},
    {},
    {"type": "object"},
    {"type": ["integer", "string"]},
)


@st.composite
def _objects(draw: st.DrawFn, children: st.SearchStrategy[Any], *, top: bool) -> dict[str, Any]:
    properties = draw(st.dictionaries(field_names, children, min_size=0 if top else 1, max_size=5))
    required = draw(st.lists(st.sampled_from(sorted(properties)), unique=True)) if properties else []
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    if not top or draw(st.booleans()):
        schema["additionalProperties"] = False
    return schema


def _subschemas(depth: int) -> st.SearchStrategy[Any]:
    leaves = st.sampled_from(LEAVES).map(copy.deepcopy)
    if depth == 0:
        return leaves
    inner = _subschemas(depth - 1)
    arrays = inner.map(lambda items: {"type": "array", "items": items})
    return st.one_of(leaves, _objects(inner, top=False), arrays)


# Valid event schemas, nested up to three structs or arrays deep, with no $ref (a field's location is
# then where it is in the document).
event_schemas = _objects(_subschemas(3), top=True)
