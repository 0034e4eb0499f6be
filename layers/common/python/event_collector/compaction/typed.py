"""A tenant's own event type in the lake: its stored text turned into the columns its schema gives.

The raw lake keeps every field of a custom event as text (docs/schemas.md, "The stored line of a custom
event"), so :mod:`.rows` reads it as it reads every type; here each text becomes its column's type from
the type's latest schema (``schemas/columns.py``), which every older event fits (versions only add
optional fields):

- ``string`` and JSON text as stored; ``timestamp`` through ``formats.date_time_millis`` (the edge
  asserted it with the same function); ``bigint`` exactly, from the integer's text; ``double`` as
  Python parses the number; ``boolean``;
- a struct or an array from its canonical JSON, field by field (nested date-times parsed, nested JSON
  text re-serialized canonically);
- ``schema_version`` (decimal text) as a ``bigint``; the envelope (``user_id``, ``anonymous_id``,
  ``context``) and ``extra`` as stored.

A value that does not fit its column (a text that does not convert, a null where the column takes
none, a field the latest schema does not declare, a version newer than the one read) raises
:class:`ConversionError` naming the type, the field and the event: the unit fails and is retried, it
never writes a silent NULL.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa

from event_collector.compaction.rows import SEQUENCE
from event_collector.json_values import INT64_MAX, INT64_MIN, canonical_json
from event_collector.lake.catalog import CUSTOM_LEADING_COLUMNS, SCHEMA_VERSION
from event_collector.schemas.columns import Column, columns
from event_collector.schemas.fields import Field, Shape, event_fields
from event_collector.schemas.formats import date_time_millis
from event_collector.schemas.registry import RegisteredSchema

_LEADING_ARROW = {"string": pa.string(), "bigint": pa.int64()}


class TypeSchemas(Protocol):
    """Where compaction finds a custom type's latest schema (``aws/schemas_table.py`` in the cloud)."""

    def type_schema(self, event_type: str) -> RegisteredSchema | None: ...


class ConversionError(ValueError):
    """A stored value that does not fit its typed column: the unit fails rather than store a NULL."""


@dataclass(frozen=True)
class TypedTable:
    """A custom type's compacted table: the leading columns every custom type has, then its own."""

    event_type: str
    version: int  # the latest version, whose columns these are
    fields: tuple[Field, ...]
    own_columns: tuple[Column, ...]  # the schema's fields in ``properties`` order, then ``extra``

    @property
    def glue_columns(self) -> tuple[tuple[str, str], ...]:
        """The schema's own columns as the catalog registers them (after the leading ones)."""
        return tuple((column.name, column.glue_type) for column in self.own_columns)

    @property
    def field_shapes(self) -> dict[str, Shape]:
        return {field.name: field.shape for field in self.fields}

    @property
    def arrow_schema(self) -> pa.Schema:
        """Leading columns as every type's (nullable; ``schema_version`` is always there), then the schema's."""
        leading = [
            pa.field(name, _LEADING_ARROW[kind], nullable=name != SCHEMA_VERSION)
            for name, kind in CUSTOM_LEADING_COLUMNS
        ]
        return pa.schema([*leading, *(column.arrow_field for column in self.own_columns)])


def typed_table(registered: RegisteredSchema) -> TypedTable:
    """The table of a registered type's latest version (:class:`InvalidSchema` if it is not one)."""
    document = registered.document
    return TypedTable(registered.name, registered.version, event_fields(document), columns(document))


def read_types(schemas: TypeSchemas | None, event_types: Sequence[str]) -> dict[str, TypedTable]:
    """Each custom type's table, its schema read once; a type without one fails loudly (its events
    cannot be typed, and writing them as text would give its table columns no schema has)."""
    found = {}
    for event_type in event_types:
        registered = schemas.type_schema(event_type) if schemas is not None else None
        if registered is None:
            raise ConversionError(f"event type {event_type!r} is neither built in nor registered: cannot compact it")
        found[event_type] = typed_table(registered)
    return found


def convert(rows: pa.Table, typed: TypedTable) -> pa.Table:
    """Rows of one custom type (text columns, as :mod:`.rows` reads them) as the typed table's columns.

    Columns kept as stored (the core ones, the envelope, strings, JSON text, ``extra``) are taken as
    Arrow columns; the others are converted value by value."""
    schema, shapes = typed.arrow_schema, typed.field_shapes
    ids = rows["event_id"]
    known = set(schema.names)
    for name in rows.column_names:
        if name not in known and name != SEQUENCE and rows[name].null_count < rows.num_rows:
            row = rows[name].is_valid().to_pylist().index(True)
            raise _error(typed, name, ids[row].as_py(), "is not a field of the type's latest schema")
    arrays = []
    for field in schema:
        if field.name in rows.column_names:
            column = rows[field.name]
        else:
            column = pa.chunked_array([pa.nulls(rows.num_rows, pa.string())])
        shape = shapes.get(field.name)
        if field.name != SCHEMA_VERSION and (shape is None or shape.kind in ("string", "json")):
            if not field.nullable and column.null_count:
                row = column.is_null().to_pylist().index(True)
                raise _error(typed, field.name, ids[row].as_py(), "is missing, and its column takes no null")
            arrays.append(column.cast(field.type))
        else:
            arrays.append(_column(typed, field, column.to_pylist(), ids))
    return pa.Table.from_arrays(arrays, schema=schema)


def _column(typed: TypedTable, field: pa.Field, values: list[Any], ids: pa.ChunkedArray) -> pa.Array:
    if field.name == SCHEMA_VERSION:
        convert_one: Callable[[Any], Any] = lambda text: _version(text, typed.version)  # noqa: E731
    else:
        shape = typed.field_shapes[field.name]
        convert_one = lambda text: _from_text(text, shape)  # noqa: E731
    converted: list[Any] = []
    for row, value in enumerate(values):
        if value is None:
            if not field.nullable:
                raise _error(typed, field.name, ids[row].as_py(), "is missing, and its column takes no null")
            converted.append(None)
            continue
        try:
            converted.append(convert_one(value))
        except (ValueError, TypeError) as problem:
            raise _error(typed, field.name, ids[row].as_py(), str(problem)) from None
    return pa.array(converted, field.type)


def _error(typed: TypedTable, field: str, event_id: str, problem: str) -> ConversionError:
    return ConversionError(f"event type {typed.event_type!r}, field {field!r}, event {event_id!r}: {problem}")


def _version(text: Any, latest: int) -> int:
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        raise ValueError(f"{text!r} is not a schema version")
    version = int(text)
    if not 1 <= version <= latest:
        raise ValueError(f"version {version} is newer than the latest read ({latest}): retried once it is read")
    return version


def _from_text(text: Any, shape: Shape) -> Any:
    """A top-level field's stored text (a string, a date-time, or canonical JSON) as its column's value."""
    if not isinstance(text, str):
        raise TypeError(f"{text!r} is not stored text")
    if shape.kind in ("string", "json"):
        return text
    if shape.kind == "timestamp":
        return _timestamp(text)
    return _value(json.loads(text), shape, "")


def _timestamp(text: Any) -> int:
    millis = date_time_millis(text) if isinstance(text, str) else None
    if millis is None:
        raise ValueError(f"{text!r} is not a date-time")
    return millis


def _value(value: Any, shape: Shape, path: str) -> Any:
    """A parsed JSON value as a column of ``shape`` holds it (``path``: where it is, for errors)."""
    if value is None:
        if not shape.nullable:
            raise ValueError(f"null at {path or '/'}, where the column takes none")
        return None
    kind = shape.kind
    if kind == "json":
        return canonical_json(value)
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "timestamp":
        return _timestamp(value)
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "bigint" and not isinstance(value, bool):
        return _bigint(value)
    if kind == "double" and isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number):
            return number
    if kind == "struct" and isinstance(value, dict):
        return _struct(value, shape, path)
    if kind == "array" and isinstance(value, list) and shape.item is not None:
        return [_value(item, shape.item, f"{path}/-") for item in value]
    raise ValueError(f"{json.dumps(value)[:80]} at {path or '/'} is not {shape.describe()}")


def _bigint(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # draft 2020-12's integer 1.0: exact, the float's own value
    if isinstance(value, int) and INT64_MIN <= value <= INT64_MAX:
        return value
    raise ValueError(f"{value!r} is not a 64-bit integer")


def _struct(value: dict[str, Any], shape: Shape, path: str) -> dict[str, Any]:
    declared = {field.name: field for field in shape.fields}
    undeclared = sorted(set(value) - set(declared))
    if undeclared:
        raise ValueError(f"{path or '/'} has {undeclared[0]!r}, which its struct does not declare")
    found = {}
    for name, field in declared.items():
        item = value.get(name)
        if item is None and not field.nullable:
            raise ValueError(f"{path}/{name} is missing, and its column takes no null")
        found[name] = None if item is None else _value(item, field.shape, f"{path}/{name}")
    return found
