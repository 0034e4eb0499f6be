"""A schema's fields as the lake will type them: each field's kind, whether it may be null, its children.

Pure and free of pyarrow, so that the collector and the admin CLI can compare versions
(``evolution.py``) and compaction can make columns of them (``columns.py``). How a subschema becomes a
kind (docs/schemas.md):

- ``type`` decides; without it, the JSON types of ``enum``/``const`` values; without those, ``anyOf``
  (else ``oneOf``) whose branches, ``null`` ones aside, all have one shape; else it is left open;
- ``string`` is ``string``, or ``timestamp`` with ``"format": "date-time"``; ``integer`` is ``bigint``,
  ``number`` (or ``integer`` and ``number``) is ``double``, ``boolean`` is ``boolean``;
- an object is a ``struct`` when it is closed (``"additionalProperties": false``, no
  ``patternProperties``) and declares properties: an open object's undeclared keys would not fit a
  struct, and an accepted value is kept whole (docs/guarantees.md);
- an array is an ``array`` when its ``items`` has a shape other than ``json`` (no ``prefixItems``);
- where ``$ref`` is, the definition alone decides (keywords beside it only constrain values);
- anything else is ``json``: canonical JSON text. Keywords not named here (``allOf``, ``not``, ``if``,
  ``minimum``...) only narrow what is valid, so they never change a kind.

A field may be null when it is not required or its schema admits null; a field sent as null and one
left out read the same (NULL). Every value a kind holds has been validated first: a ``timestamp`` only
holds what ``formats.date_time_millis`` reads, because the edge asserts ``format``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from event_collector.json_values import MAX_NESTING_DEPTH
from event_collector.schemas.document import SchemaProblem, definition, document_problems, pointer_token
from event_collector.schemas.names import field_name_problem

Kind = Literal["string", "bigint", "double", "boolean", "timestamp", "json", "struct", "array"]
SCALAR_KINDS: dict[str, Kind] = {"string": "string", "integer": "bigint", "number": "double", "boolean": "boolean"}
# Structs and arrays nest no deeper than the values the collector takes (json_values.MAX_NESTING_DEPTH).
MAX_FIELD_DEPTH = MAX_NESTING_DEPTH
MAX_FIELDS = 500  # fields at every depth, once each $ref is expanded where it is used
MAX_SUBSCHEMAS = 5_000  # subschemas read to find the shapes (a bound on the work, $refs expanded)
MAX_REF_HOPS = 16  # $refs followed in a row without a field between them
_DESCRIPTIONS: dict[Kind, str] = {
    "string": "string",
    "bigint": "integer (bigint)",
    "double": "number (double)",
    "boolean": "boolean",
    "timestamp": "date-time string (timestamp)",
    "json": "JSON text",
    "struct": "closed object (struct)",
    "array": "array",
}


@dataclass(frozen=True)
class Shape:
    kind: Kind
    nullable: bool = False  # the schema admits null here
    fields: tuple[Field, ...] = ()  # a struct's, in schema order
    item: Shape | None = None  # an array's items

    def describe(self) -> str:
        """The shape in the schema's words, then the column's (``integer (bigint)``)."""
        if self.kind == "array" and self.item is not None:
            return f"an array of {self.item.describe()}"
        return _DESCRIPTIONS[self.kind]


@dataclass(frozen=True)
class Field:
    name: str
    shape: Shape
    required: bool
    pointer: str = dataclasses.field(compare=False)  # where it is in an event (/order/total, /lines/-/sku)
    location: str = dataclasses.field(compare=False)  # where it is declared in the schema

    @property
    def nullable(self) -> bool:
        return self.shape.nullable or not self.required


@dataclass(frozen=True)
class SchemaReading:
    fields: tuple[Field, ...]
    problems: tuple[SchemaProblem, ...]


class InvalidSchema(ValueError):
    def __init__(self, problems: Sequence[SchemaProblem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = tuple(problems)


def read_schema(document: Any, *, lake_names: bool = True) -> SchemaReading:
    """The event's own fields, or every problem that keeps the schema from being taken. ``lake_names=False``
    reads a track plan: its fields never become columns, so their names follow no column rule."""
    problems = document_problems(document, lake_names=lake_names)
    if problems:
        return SchemaReading((), tuple(problems))
    reader = _Reader(document, lake_names)
    try:
        fields = reader.fields(document, "", "", 1)
    except _TooLarge as error:
        return SchemaReading((), (SchemaProblem("", str(error)),))
    return SchemaReading(fields, tuple(dict.fromkeys(reader.problems)))


def event_fields(document: Any) -> tuple[Field, ...]:
    """The fields of a schema already accepted; :class:`InvalidSchema` (a ``ValueError``) if it is not."""
    reading = read_schema(document)
    if reading.problems:
        raise InvalidSchema(reading.problems)
    return reading.fields


def json_type(value: Any) -> str:
    """A value's JSON type as draft 2020-12 sees it (``1.0`` is an integer)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _declared_types(schema: Mapping[str, Any]) -> set[str] | None:
    if "type" in schema:
        declared = schema["type"]
        return set(declared) if isinstance(declared, list) else {declared}
    if "const" in schema:
        return {json_type(schema["const"])}
    if "enum" in schema:
        return {json_type(value) for value in schema["enum"]}
    return None


def _only_null(schema: Any) -> bool:
    return isinstance(schema, dict) and "$ref" not in schema and _declared_types(schema) == {"null"}


class _TooLarge(Exception):
    pass


class _Reader:
    def __init__(self, document: Mapping[str, Any], lake_names: bool = True) -> None:
        self._document = document
        self._lake_names = lake_names
        self._fields = 0
        self._subschemas = 0
        self.problems: list[SchemaProblem] = []

    def fields(self, schema: Mapping[str, Any], pointer: str, location: str, depth: int) -> tuple[Field, ...]:
        required = set(schema.get("required", ()))
        found = []
        for name, subschema in schema["properties"].items():
            here = f"{location}/properties/{pointer_token(name)}"
            field_pointer = f"{pointer}/{pointer_token(name)}"
            problem = field_name_problem(name) if self._lake_names else None
            if problem:
                self.problems.append(SchemaProblem(here, problem, field_pointer))
                continue
            self._fields += 1
            if self._fields > MAX_FIELDS:
                raise _TooLarge(f"declares more than {MAX_FIELDS} fields, once each $ref is expanded where used")
            shape = self.shape(subschema, field_pointer, here, depth, 0) or Shape("json", nullable=True)
            found.append(Field(name, shape, name in required, field_pointer, here))
        return tuple(found)

    def shape(self, schema: Any, pointer: str, location: str, depth: int, hops: int) -> Shape | None:
        """``schema``'s shape at ``depth`` (structs and arrays above it, plus one); None if it admits nothing."""
        self._subschemas += 1
        if self._subschemas > MAX_SUBSCHEMAS:
            raise _TooLarge(f"takes more than {MAX_SUBSCHEMAS} subschemas to read, once each $ref is expanded")
        if schema is False:
            return None
        if schema is True:
            return Shape("json", nullable=True)
        if "$ref" in schema:
            if hops >= MAX_REF_HOPS:
                self.problems.append(SchemaProblem(location, f"more than {MAX_REF_HOPS} $refs in a row", pointer))
                return Shape("json", nullable=True)
            target, target_location = definition(self._document, schema["$ref"])
            return self.shape(target, pointer, target_location, depth, hops + 1)
        types = _declared_types(schema)
        if types is None:
            return self._union(schema, pointer, location, depth, hops)
        nullable = "null" in types
        types -= {"null"}
        if {"integer", "number"} <= types:
            types.discard("integer")
        if len(types) != 1:
            return Shape("json", nullable=nullable)
        [name] = types
        if name == "string" and schema.get("format") == "date-time":
            return Shape("timestamp", nullable)
        if name in SCALAR_KINDS:
            return Shape(SCALAR_KINDS[name], nullable)
        if depth > MAX_FIELD_DEPTH:
            self.problems.append(
                SchemaProblem(location, f"nests objects and arrays deeper than {MAX_FIELD_DEPTH} levels", pointer)
            )
            return Shape("json", nullable)
        if name == "object":
            return self._object(schema, pointer, location, depth, nullable)
        return self._array(schema, pointer, location, depth, nullable)

    def _object(self, schema: Mapping[str, Any], pointer: str, location: str, depth: int, nullable: bool) -> Shape:
        closed = schema.get("additionalProperties") is False and "patternProperties" not in schema
        if not closed or not schema.get("properties"):
            return Shape("json", nullable)
        return Shape("struct", nullable, fields=self.fields(schema, pointer, location, depth + 1))

    def _array(self, schema: Mapping[str, Any], pointer: str, location: str, depth: int, nullable: bool) -> Shape:
        items = schema.get("items")
        if "prefixItems" in schema or not isinstance(items, dict):
            return Shape("json", nullable)
        item = self.shape(items, f"{pointer}/-", f"{location}/items", depth + 1, 0)
        if item is None or item.kind == "json":
            return Shape("json", nullable)
        return Shape("array", nullable, item=item)

    def _union(self, schema: Mapping[str, Any], pointer: str, location: str, depth: int, hops: int) -> Shape:
        keyword = "anyOf" if "anyOf" in schema else "oneOf"
        branches = schema.get(keyword)
        if not branches:
            return Shape("json", nullable=True)
        nullable = any(_only_null(branch) for branch in branches)
        shapes = [
            self.shape(branch, pointer, f"{location}/{keyword}/{index}", depth, hops)
            for index, branch in enumerate(branches)
            if not _only_null(branch)
        ]
        found = [shape for shape in shapes if shape is not None]
        nullable = nullable or any(shape.nullable for shape in found)
        if found and all(dataclasses.replace(shape, nullable=False) == _plain(found[0]) for shape in found):
            return dataclasses.replace(found[0], nullable=nullable)
        return Shape("json", nullable=True if not found else nullable)


def _plain(shape: Shape) -> Shape:
    return dataclasses.replace(shape, nullable=False)
