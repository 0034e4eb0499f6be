"""Every key the lake writes parses back to what made it, and only keys the lake could write parse at all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_collector.identifiers import EVENT_TYPE_PATTERN, TENANT_ID_PATTERN
from event_collector.lake.layout import (
    Day,
    HourPartition,
    compacted_object_key,
    event_object_key,
    ledger_object_key,
    parse_compacted_object_key,
    parse_event_object_key,
    parse_ledger_object_key,
    parse_run_item_key,
    run_item_key,
)

tenants = st.from_regex(TENANT_ID_PATTERN, fullmatch=True)
event_types = st.from_regex(EVENT_TYPE_PATTERN, fullmatch=True)
names = st.from_regex(r"[0-9a-f]{8,64}", fullmatch=True)
run_ids = st.from_regex(r"[A-Za-z0-9_-]{1,80}", fullmatch=True)
millis = st.integers(min_value=946_684_800_000, max_value=4_102_444_799_999)
days = st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2099, 12, 31).date()).map(Day.of)


@given(event_types, tenants, millis, names)
def test_given_any_event_object_when_its_key_is_parsed_then_partition_and_source_come_back(
    event_type, tenant, moment, source
):
    partition = HourPartition.of(event_type, tenant, moment)
    key = event_object_key(partition, source)

    parsed = parse_event_object_key(key)

    assert parsed is not None
    assert (parsed.partition, parsed.source, parsed.key) == (partition, source, key)
    assert parsed.partition.start <= datetime.fromtimestamp(moment / 1000, UTC) < parsed.partition.end


@given(event_types, tenants, days, names, st.integers(min_value=0, max_value=999_999))
def test_given_any_compacted_file_when_its_key_is_parsed_then_its_parts_come_back(event_type, tenant, day, unit, part):
    key = compacted_object_key(event_type, tenant, day, unit, part)

    parsed = parse_compacted_object_key(key)

    assert parsed is not None
    assert (parsed.event_type, parsed.tenant, parsed.day, parsed.unit, parsed.part) == (
        event_type,
        tenant,
        day,
        unit,
        part,
    )


@given(tenants, days, names, run_ids)
def test_given_any_ledger_or_run_item_when_parsed_then_its_parts_come_back(tenant, day, unit, run_id):
    assert parse_ledger_object_key(ledger_object_key(tenant, day, unit)) == (tenant, day, unit)
    assert parse_run_item_key(run_item_key(run_id, tenant)) == (run_id, tenant)


PARSERS = (parse_event_object_key, parse_compacted_object_key, parse_ledger_object_key)


def _rebuilt(key: str) -> str | None:
    if (event := parse_event_object_key(key)) is not None:
        return event_object_key(event.partition, event.source)
    if (compacted := parse_compacted_object_key(key)) is not None:
        parts = (compacted.event_type, compacted.tenant, compacted.day, compacted.unit, compacted.part)
        return compacted_object_key(*parts)
    if (ledger := parse_ledger_object_key(key)) is not None:
        return ledger_object_key(*ledger)
    return None


@given(st.text(max_size=200) | st.from_regex(r"(events|compacted|ledger)/.{0,160}", fullmatch=True))
def test_given_any_text_when_parsed_as_a_lake_key_then_only_keys_the_lake_writes_are_accepted(key):
    rebuilt = _rebuilt(key)

    assert rebuilt is None or rebuilt == key


@pytest.mark.parametrize(
    "key",
    [
        "events/track/tenant=acme/year=2026/month=11/day=20/hour=09/0123456789abcdef.json.gz\n",
        "events/track/tenant=acme/year=٢٠٢٦/month=11/day=20/hour=09/0123456789abcdef.json.gz",
        "events/track/tenant=acme/year=2026/month=11/day=20/hour=٠٩/0123456789abcdef.json.gz",
        "events/track/tenant=acme/year=2026/month=02/day=30/hour=09/0123456789abcdef.json.gz",
        "events/track/tenant=acme/year=2026/month=11/day=20/hour=24/0123456789abcdef.json.gz",
        "events/track/tenant=../year=2026/month=11/day=20/hour=09/0123456789abcdef.json.gz",
        "events/Track/tenant=acme/year=2026/month=11/day=20/hour=09/0123456789abcdef.json.gz",
        "compacted/track/tenant=acme/year=2026/month=11/day=20/0123456789abcdef-1.parquet\n",
        "ledger/tenant=acme/year=2026/month=11/day=20/0123456789abcdef.parquet/x",
    ],
)
def test_given_near_miss_keys_when_parsed_then_none_is_a_lake_object(key):
    assert all(parse(key) is None for parse in PARSERS)


@pytest.mark.parametrize(
    ("year", "month", "day"), [("٢٠٢٦", "11", "20"), ("2026", "1", "20"), ("2026", "13", "01"), ("20261", "01", "01")]
)
def test_given_a_day_that_is_not_zero_padded_ascii_when_made_then_refused(year, month, day):
    with pytest.raises(ValueError, match=r"zero-padded|month|day"):
        Day(year, month, day)
