"""The Glue catalog's shape: every table the lake exposes, as data (docs/compaction.md).

Two tables per event type, both partitioned by tenant and time, and the ledger:

- ``<event_type>_raw``: the fan-out's hourly GZIP JSON objects under
  ``events/<event_type>/`` (OpenX JSON SerDe), partitions down to the hour;
- ``<event_type>``: the compacted, deduplicated Parquet under
  ``compacted/<event_type>/``, partitions by day;
- ``compaction_ledger``: the ids compacted per tenant and day (``ledger/``);
- ``daily_counts``: the daily rollup (``rollups/daily_counts/``), one row per tenant, day, event type and
  key (compaction/rollup.py).

A tenant's own event type (docs/schemas.md) has the same two tables, with its schema's columns: the
raw one every field as text (as stored), the compacted one typed (``struct``, ``timestamp``...) after
the leading columns every custom type has (:data:`CUSTOM_LEADING_COLUMNS`). Its compacted table is
``typed``: an existing column may only change type by widening a struct (``glue_type_change``).

This module only describes tables; the Glue adapter applies the descriptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from event_collector.event_types import COMMON_FIELDS, DECLARED_FIELDS
from event_collector.identifiers import is_event_type
from event_collector.lake.layout import (
    COMPACTED_ROOT,
    DAILY_COUNTS,
    EVENTS_ROOT,
    LEDGER_ROOT,
    ROLLUPS_ROOT,
    table_location,
)

# Columns every event has, in file order; everything else is text.
CORE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_id", "string"),
    ("event_type", "string"),
    ("received_at", "bigint"),
    ("timestamp", "bigint"),
)
SCHEMA_VERSION = "schema_version"
# A custom type's first columns: the core ones, the version each event was validated against, and the
# envelope's text every event may carry (event_types.COMMON_FIELDS), before the schema's own columns.
CUSTOM_LEADING_COLUMNS: tuple[tuple[str, str], ...] = (
    *CORE_COLUMNS,
    (SCHEMA_VERSION, "bigint"),
    *((name, "string") for name in COMMON_FIELDS),
)
RAW_PARTITION_KEYS = ("tenant", "year", "month", "day", "hour")
COMPACTED_PARTITION_KEYS = ("tenant", "year", "month", "day")


@dataclass(frozen=True)
class TableSpec:
    name: str
    location: str
    columns: tuple[tuple[str, str], ...]
    partition_keys: tuple[str, ...]
    data_format: Literal["json", "parquet"]
    typed: bool = False  # columns typed by a tenant's schema: an existing column's type only widens

    def partition_location(self, values: Sequence[str]) -> str:
        return self.location + "".join(f"{k}={v}/" for k, v in zip(self.partition_keys, values, strict=True))


LEDGER_TABLE = "compaction_ledger"
LEDGER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_id", "string"),
    ("event_type", "string"),
    ("received_at", "bigint"),
    ("counter_key", "string"),  # the type's counter field's value: what the counters are recounted from
)


def declared_columns(event_type: str) -> list[str]:
    """The type's own fields, in name order (``properties`` and other nested values are JSON text)."""
    return sorted(DECLARED_FIELDS.get(event_type, ()))


def _require_event_type(event_type: str) -> None:
    if not is_event_type(event_type):
        raise ValueError("event_type must be a validated identifier")


def raw_table(event_type: str, lake_bucket: str, own_columns: Sequence[str] | None = None) -> TableSpec:
    """``own_columns``: a custom type's own columns (its fields, then ``extra``), stored as text."""
    _require_event_type(event_type)
    if own_columns is None:
        columns = (*CORE_COLUMNS, *((name, "string") for name in declared_columns(event_type)))
    else:
        leading = ((name, "string" if name == SCHEMA_VERSION else kind) for name, kind in CUSTOM_LEADING_COLUMNS)
        columns = (*leading, *((name, "string") for name in own_columns))
    return TableSpec(
        name=f"{event_type}_raw",
        location=table_location(lake_bucket, EVENTS_ROOT, event_type),
        columns=columns,
        partition_keys=RAW_PARTITION_KEYS,
        data_format="json",
    )


def compacted_table(
    event_type: str,
    lake_bucket: str,
    extra_columns: Sequence[str] = (),
    *,
    typed_columns: Sequence[tuple[str, str]] | None = None,
) -> TableSpec:
    """``extra_columns``: a built-in type's text columns found in the data beyond its declared fields;
    ``typed_columns``: a custom type's own columns (name, Glue type), after the leading ones."""
    _require_event_type(event_type)
    if typed_columns is not None:
        columns: tuple[tuple[str, str], ...] = (*CUSTOM_LEADING_COLUMNS, *typed_columns)
    else:
        text = sorted({*declared_columns(event_type), *extra_columns} - {name for name, _ in CORE_COLUMNS} - {"tenant"})
        columns = (*CORE_COLUMNS, *((name, "string") for name in text))
    return TableSpec(
        name=event_type,
        location=table_location(lake_bucket, COMPACTED_ROOT, event_type),
        columns=columns,
        partition_keys=COMPACTED_PARTITION_KEYS,
        data_format="parquet",
        typed=typed_columns is not None,
    )


# -- Glue types: what a typed column may become -----------------------------------------------------------

GlueType: TypeAlias = "str | tuple[str, GlueType] | tuple[str, dict[str, GlueType]]"


def parse_glue_type(text: str) -> GlueType:
    """``struct<a:string,b:array<bigint>>`` as ``("struct", {"a": "string", "b": ("array", "bigint")})``."""
    parsed, rest = _parse(text.replace(" ", ""))
    if rest:
        raise ValueError(f"not a Glue type: {text!r}")
    return parsed


def _parse(text: str) -> tuple[GlueType, str]:
    if text.startswith("array<"):
        item, rest = _parse(text[len("array<") :])
        return ("array", item), _closed(rest, text)
    if text.startswith("struct<"):
        fields: dict[str, GlueType] = {}
        rest = text[len("struct<") :]
        while True:
            name, colon, rest = rest.partition(":")
            if not colon or not name:
                raise ValueError(f"not a Glue type: {text!r}")
            fields[name], rest = _parse(rest)
            if rest.startswith(","):
                rest = rest[1:]
                continue
            return ("struct", fields), _closed(rest, text)
    end = min((i for i in (text.find(","), text.find(">")) if i >= 0), default=len(text))
    return text[:end], text[end:]


def _closed(rest: str, text: str) -> str:
    if not rest.startswith(">"):
        raise ValueError(f"not a Glue type: {text!r}")
    return rest[1:]


def glue_type_change(old: str, new: str) -> Literal["same", "widened", "refused"]:
    """How a typed column's registered type ``old`` relates to ``new``: the same (struct fields compared
    by name, as Athena reads Parquet), widened (structs, maybe inside arrays, gained fields), or another
    type, which a table never takes (its files hold the old one)."""
    before, after = parse_glue_type(old), parse_glue_type(new)
    if before == after:
        return "same"
    return "widened" if _widens(before, after) else "refused"


def _widens(old: Any, new: Any) -> bool:
    if isinstance(old, str) or isinstance(new, str) or old[0] != new[0]:
        return bool(old == new)
    if old[0] == "array":
        return _widens(old[1], new[1])
    return all(name in new[1] and _widens(kind, new[1][name]) for name, kind in old[1].items())


def ledger_table(lake_bucket: str) -> TableSpec:
    """Every event id compacted, per tenant and day: what later runs deduplicate against."""
    return TableSpec(
        name=LEDGER_TABLE,
        location=table_location(lake_bucket, LEDGER_ROOT),
        columns=LEDGER_COLUMNS,
        partition_keys=COMPACTED_PARTITION_KEYS,
        data_format="parquet",
    )


DAILY_COUNTS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_type", "string"),
    ("key", "string"),  # the type's counter field's value (COUNTER_FIELDS); NULL without one
    ("events", "bigint"),
    ("sessions", "bigint"),  # distinct session_id
    ("users", "bigint"),  # distinct coalesce(user_id, anonymous_id)
)
DAILY_COUNTS_PARTITION_KEYS = ("tenant", "day")  # day: YYYY-MM-DD, the UTC day of received_at


def daily_counts_table(lake_bucket: str) -> TableSpec:
    """The daily rollup: per tenant and day, one row per event type and key, exact after dedup."""
    return TableSpec(
        name=DAILY_COUNTS,
        location=table_location(lake_bucket, ROLLUPS_ROOT, DAILY_COUNTS),
        columns=DAILY_COUNTS_COLUMNS,
        partition_keys=DAILY_COUNTS_PARTITION_KEYS,
        data_format="parquet",
    )
