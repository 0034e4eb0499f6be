"""Raw lake lines into Arrow tables, exactly.

The collector stores every field as text except the two epoch numbers
(``ingest.validation.stored_value``), so pyarrow's JSON reader can parse a
chunk with the core columns typed and every other column as a plain string:
nothing numeric is ever parsed by a fast, inexact path. A chunk that does not
fit that shape (lines written before nested values were stored as text) is
parsed line by line with Python's own ``json`` instead, which is exact for
every number, and its nested values are re-serialized canonically.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from event_collector.json_values import canonical_json

CORE_TEXT = ("event_id", "event_type")
CORE_TIMES = ("received_at", "timestamp")
SEQUENCE = "_seq"  # the row's position in the unit's input: ties between equal receive times go to the first
READ_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_type", pa.string()),
        ("tenant", pa.string()),
        ("received_at", pa.int64()),
        ("timestamp", pa.int64()),
    ]
)
BLOCK_BYTES = 4 * 1024 * 1024  # larger than any line the fan-out keeps (1 MiB)


def read_chunk(data: bytes) -> pa.Table:
    """Whole lines in, one table out: core columns typed, every other column text, no ``tenant``."""
    try:
        table = pj.read_json(
            io.BytesIO(data),
            read_options=pj.ReadOptions(block_size=BLOCK_BYTES),
            parse_options=pj.ParseOptions(explicit_schema=READ_SCHEMA, unexpected_field_behavior="infer"),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return exact_chunk(data)
    others = [field for field in table.schema if field.name not in READ_SCHEMA.names]
    if any(not (pa.types.is_string(field.type) or pa.types.is_null(field.type)) for field in others):
        return exact_chunk(data)
    return normalize(table)


def exact_chunk(data: bytes) -> pa.Table:
    rows: list[dict[str, Any]] = []
    for line in data.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        rows.append({name: value if name in CORE_TIMES else text(value) for name, value in record.items()})
    names = sorted({name for row in rows for name in row} - set(READ_SCHEMA.names))
    schema = pa.schema([*READ_SCHEMA, *((name, pa.string()) for name in names)])
    return normalize(pa.Table.from_pylist(rows, schema=schema))


def text(value: Any) -> str | None:
    """A non-core field as stored: strings as they are, anything else as canonical JSON text."""
    if value is None or isinstance(value, str):
        return value
    return canonical_json(value)


def normalize(table: pa.Table) -> pa.Table:
    """Drop ``tenant`` (a partition column), fill a missing ``timestamp`` with ``received_at``, and make
    every non-core column text (a column that was null throughout reads as null text)."""
    if "tenant" in table.column_names:
        table = table.drop_columns(["tenant"])
    timestamp = pc.coalesce(table["timestamp"], table["received_at"])
    table = table.set_column(table.column_names.index("timestamp"), "timestamp", timestamp)
    for index, field in enumerate(table.schema):
        if field.name not in CORE_TIMES and not pa.types.is_string(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(pa.string()))
    return table


def text_columns(schema: pa.Schema) -> list[str]:
    return [name for name in schema.names if name not in (*CORE_TEXT, *CORE_TIMES, SEQUENCE)]


def output_schema(text_names: list[str]) -> pa.Schema:
    """The compacted file's columns: core first, then every text column in name order."""
    return pa.schema(
        [
            ("event_id", pa.string()),
            ("event_type", pa.string()),
            ("received_at", pa.int64()),
            ("timestamp", pa.int64()),
            *((name, pa.string()) for name in sorted(text_names)),
        ]
    )


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The table's rows with exactly the schema's columns, in its order (absent columns as nulls)."""
    columns = [
        table[name].cast(field.type)
        if name in table.column_names
        else pa.chunked_array([pa.nulls(table.num_rows, field.type)])
        for name, field in zip(schema.names, schema, strict=True)
    ]
    return pa.Table.from_arrays(columns, schema=schema)
