"""The Glue catalog's shape: every table the lake exposes, as data (docs/compaction.md).

Two tables per event type, both partitioned by tenant and time, and the ledger:

- ``<event_type>_raw``: the fan-out's hourly GZIP JSON objects under
  ``events/<event_type>/`` (OpenX JSON SerDe), partitions down to the hour;
- ``<event_type>``: the compacted, deduplicated Parquet under
  ``compacted/<event_type>/``, partitions by day;
- ``compaction_ledger``: the ids compacted per tenant and day (``ledger/``).

This module only describes tables; the Glue adapter applies the descriptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from event_collector.event_types import DECLARED_FIELDS
from event_collector.identifiers import is_event_type
from event_collector.lake.layout import COMPACTED_ROOT, EVENTS_ROOT, LEDGER_ROOT, table_location

# Columns every event has, in file order; everything else is text.
CORE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_id", "string"),
    ("event_type", "string"),
    ("received_at", "bigint"),
    ("timestamp", "bigint"),
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


def raw_table(event_type: str, lake_bucket: str) -> TableSpec:
    _require_event_type(event_type)
    return TableSpec(
        name=f"{event_type}_raw",
        location=table_location(lake_bucket, EVENTS_ROOT, event_type),
        columns=(*CORE_COLUMNS, *((name, "string") for name in declared_columns(event_type))),
        partition_keys=RAW_PARTITION_KEYS,
        data_format="json",
    )


def compacted_table(event_type: str, lake_bucket: str, extra_columns: Sequence[str] = ()) -> TableSpec:
    """``extra_columns``: text columns found in the data beyond the type's declared fields."""
    _require_event_type(event_type)
    text = sorted({*declared_columns(event_type), *extra_columns} - {name for name, _ in CORE_COLUMNS} - {"tenant"})
    return TableSpec(
        name=event_type,
        location=table_location(lake_bucket, COMPACTED_ROOT, event_type),
        columns=(*CORE_COLUMNS, *((name, "string") for name in text)),
        partition_keys=COMPACTED_PARTITION_KEYS,
        data_format="parquet",
    )


def ledger_table(lake_bucket: str) -> TableSpec:
    """Every event id compacted, per tenant and day: what later runs deduplicate against."""
    return TableSpec(
        name=LEDGER_TABLE,
        location=table_location(lake_bucket, LEDGER_ROOT),
        columns=LEDGER_COLUMNS,
        partition_keys=COMPACTED_PARTITION_KEYS,
        data_format="parquet",
    )
