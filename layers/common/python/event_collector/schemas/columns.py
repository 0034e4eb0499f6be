"""A tenant's schema as typed lake columns: name, Arrow type, Glue (Athena) type, nullable.

One column per top-level field, in the order of the schema's ``properties``, then ``extra``: the
fields an open schema admits without declaring them, as one canonical JSON object (NULL when there
are none; always there, so that opening or closing the top level never changes the table). Each
field's kind (``fields.py``) is its column's type (docs/schemas.md):

=========== ============================== ===========================
kind        Arrow                          Glue / Athena
=========== ============================== ===========================
string      ``string``                     ``string``
bigint      ``int64``                      ``bigint``
double      ``float64``                    ``double``
boolean     ``bool``                       ``boolean``
timestamp   ``timestamp[ms, tz=UTC]``      ``timestamp``
json        ``string`` (canonical JSON)    ``string``
struct      ``struct<...>``                ``struct<name:type,...>``
array       ``list<item>``                 ``array<type>``
=========== ============================== ===========================

A ``json`` column holds the value's canonical JSON (``json_values.canonical_json``), strings quoted,
so ``"1"`` and ``1`` stay apart. A column (a struct's field, an array's item) is nullable unless the
field is required and its schema refuses null. These are the event's own fields: the core columns
(``lake/catalog.py``) and ``schema_version`` come first, from the catalog.

Imports pyarrow: compaction's, never the request path's (``fields.py`` is what the collector reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from event_collector.schemas.evolution import compatibility_problems
from event_collector.schemas.fields import Field, InvalidSchema, Shape, event_fields
from event_collector.schemas.names import EXTRA_FIELD

TIMESTAMP = pa.timestamp("ms", tz="UTC")
_SCALARS: dict[str, tuple[pa.DataType, str]] = {
    "string": (pa.string(), "string"),
    "json": (pa.string(), "string"),
    "bigint": (pa.int64(), "bigint"),
    "double": (pa.float64(), "double"),
    "boolean": (pa.bool_(), "boolean"),
    "timestamp": (TIMESTAMP, "timestamp"),
}
ARRAY_ITEM = "item"  # the name Arrow gives a list's items (Parquet files call them "element")


@dataclass(frozen=True)
class Column:
    name: str
    arrow_type: pa.DataType
    glue_type: str
    nullable: bool

    @property
    def arrow_field(self) -> pa.Field:
        return pa.field(self.name, self.arrow_type, nullable=self.nullable)


EXTRA_COLUMN = Column(EXTRA_FIELD, pa.string(), "string", nullable=True)


def columns(schema: Any) -> tuple[Column, ...]:
    """The columns of an accepted schema's own fields; :class:`InvalidSchema` if it is not one."""
    return (*(column_of(field) for field in event_fields(schema)), EXTRA_COLUMN)


def column_of(field: Field) -> Column:
    arrow_type, glue_type = types_of(field.shape)
    return Column(field.name, arrow_type, glue_type, field.nullable)


def types_of(shape: Shape) -> tuple[pa.DataType, str]:
    """The Arrow and Glue types of a shape."""
    if shape.kind == "struct":
        children = [column_of(field) for field in shape.fields]
        return (
            pa.struct([child.arrow_field for child in children]),
            "struct<" + ",".join(f"{child.name}:{child.glue_type}" for child in children) + ">",
        )
    if shape.kind == "array" and shape.item is not None:
        item_arrow, item_glue = types_of(shape.item)
        return pa.list_(pa.field(ARRAY_ITEM, item_arrow, nullable=shape.item.nullable)), f"array<{item_glue}>"
    return _SCALARS[shape.kind]


def arrow_schema(found: Sequence[Column]) -> pa.Schema:
    return pa.schema([column.arrow_field for column in found])


def added_columns(older: Any, newer: Any) -> tuple[Column, ...]:
    """The columns ``newer`` has and ``older`` lacks, in ``newer``'s order: what a Glue table of ``older``
    gains (awswrangler appends them). ``InvalidSchema`` unless ``newer`` may follow ``older``."""
    _compatible(older, newer)
    old_names = {column.name for column in columns(older)}
    return tuple(column for column in columns(newer) if column.name not in old_names)


def widened_columns(older: Any, newer: Any) -> tuple[Column, ...]:
    """The columns both have whose type ``newer`` widens: a struct (maybe inside arrays) that gained
    optional fields. Its Glue type must be replaced (a table's existing columns otherwise keep their
    types); Athena reads a Parquet struct's fields by name, so older files read with NULL for them.
    A struct whose fields were only reordered is not widened. ``InvalidSchema`` as :func:`added_columns`."""
    old_fields, new_fields = _compatible(older, newer)
    by_name = {field.name: field for field in old_fields}
    return tuple(
        column_of(field)
        for field in new_fields
        if field.name in by_name and _grew(by_name[field.name].shape, field.shape)
    )


def _grew(old: Shape, new: Shape) -> bool:
    if old.kind == new.kind == "array" and old.item is not None and new.item is not None:
        return _grew(old.item, new.item)
    if old.kind == new.kind == "struct":
        before = {field.name: field for field in old.fields}
        return len(new.fields) > len(old.fields) or any(
            _grew(before[field.name].shape, field.shape) for field in new.fields if field.name in before
        )
    return False


def _compatible(older: Any, newer: Any) -> tuple[tuple[Field, ...], tuple[Field, ...]]:
    old_fields, new_fields = event_fields(older), event_fields(newer)
    problems = list(compatibility_problems(old_fields, new_fields))
    if problems:
        raise InvalidSchema(problems)
    return old_fields, new_fields
