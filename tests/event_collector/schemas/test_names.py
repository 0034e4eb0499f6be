"""Field and type names: every column name is Glue's as it is, and nothing a tenant names takes a name the
envelope, the server or the lake already uses."""

from __future__ import annotations

import awswrangler as wr
import pytest
from hypothesis import given

from event_collector.event_types import COMMON_FIELDS, DECLARED_FIELDS
from event_collector.ingest.models import SERVER_OWNED_FIELDS, EventBase
from event_collector.lake.catalog import (
    COMPACTED_PARTITION_KEYS,
    CORE_COLUMNS,
    LEDGER_TABLE,
    RAW_PARTITION_KEYS,
    daily_counts_table,
    raw_table,
)
from event_collector.schemas.names import (
    LAKE_TABLES,
    RAW_TABLE_SUFFIX,
    RESERVED_FIELDS,
    event_type_problems,
    field_name_problem,
    is_field_name,
    top_level_field_problem,
)
from tests.event_collector.schemas.helpers import field_names


def test_given_the_envelope_the_server_and_the_lake_when_listed_then_every_name_they_use_is_reserved():
    used = {
        *EventBase.model_fields,
        *SERVER_OWNED_FIELDS,
        *COMMON_FIELDS,
        *(name for name, _ in CORE_COLUMNS),
        *RAW_PARTITION_KEYS,
        *COMPACTED_PARTITION_KEYS,
        "schema_version",
        "extra",
    }

    assert used <= RESERVED_FIELDS


def test_given_the_catalog_when_a_type_names_its_tables_then_the_names_refused_are_the_ones_it_uses():
    assert raw_table("order_completed", "lake").name == "order_completed" + RAW_TABLE_SUFFIX
    assert LEDGER_TABLE in LAKE_TABLES
    assert daily_counts_table("lake").name in LAKE_TABLES


@given(field_names)
def test_given_any_column_name_when_awswrangler_sanitizes_it_then_it_is_unchanged(name):
    assert is_field_name(name)
    assert wr.catalog.sanitize_column_name(name) == name


@pytest.mark.parametrize("name", ["orderId", "1st", "_seq", "order-id", "order id", "é", "a" * 65, ""])
def test_given_a_name_glue_would_rename_or_refuse_when_checked_then_it_is_not_a_column_name(name):
    problem = field_name_problem(name)

    assert problem is not None
    assert repr(name) in problem


@pytest.mark.parametrize("name", sorted(RESERVED_FIELDS))
def test_given_a_reserved_name_when_a_top_level_field_takes_it_then_it_is_refused_as_reserved(name):
    assert top_level_field_problem(name) == (
        f"{name!r} is reserved: every event already has it, or the server or the lake sets it"
    )


@pytest.mark.parametrize("name", ["order_completed", "signup", "a", "checkout_step_2"])
def test_given_a_free_identifier_when_registered_as_a_type_then_nothing_is_wrong(name):
    assert event_type_problems(name) == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        *((name, "is a built-in event type") for name in DECLARED_FIELDS),
        ("compaction_ledger", "would name a table the lake already has"),
        ("daily_counts", "would name a table the lake already has"),
        ("page_view_raw", "would name a table the lake already has"),
        ("orders_raw", "would name a table the lake already has"),
        ("Order", "is not an event type name"),
        ("order-completed", "is not an event type name"),
        ("", "is not an event type name"),
    ],
)
def test_given_a_taken_or_malformed_name_when_registered_as_a_type_then_it_is_refused_saying_why(name, reason):
    [problem] = event_type_problems(name)

    assert reason in problem
