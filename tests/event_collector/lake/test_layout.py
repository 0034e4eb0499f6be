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
    compacted_prefix,
    event_object_key,
    ledger_object_key,
    ledger_prefix,
    parse_compacted_object_key,
    parse_event_object_key,
    parse_ledger_object_key,
    parse_quarantine_object_key,
    parse_run_item_key,
    parse_run_result_key,
    quarantine_object_key,
    raw_hour,
    raw_object_key,
    run_item_key,
    run_result_key,
    written_by,
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
def test_given_any_ledger_file_run_item_or_result_when_parsed_then_its_parts_come_back(tenant, day, unit, run_id):
    ledger = parse_ledger_object_key(ledger_object_key(tenant, day, unit))

    assert ledger is not None
    assert (ledger.tenant, ledger.day, ledger.unit) == (tenant, day, unit)
    assert written_by(ledger.key, unit)
    assert parse_run_item_key(run_item_key(run_id, tenant)) == (run_id, tenant)
    assert parse_run_result_key(run_result_key(run_id, tenant)) == (run_id, tenant)
    assert parse_run_item_key(run_result_key(run_id, tenant)) is None
    assert parse_run_result_key(run_item_key(run_id, tenant)) is None


# What Athena's INSERT INTO names its files: <query id>_<uuid>, sometimes with an extension.
athena_names = st.from_regex(
    r"[0-9]{8}_[0-9]{6}_[0-9]{5}_[a-z0-9]{5}_[0-9a-f-]{36}(\.parquet|\.snappy\.parquet)?", fullmatch=True
)


@given(event_types, tenants, days, athena_names, names)
def test_given_a_file_athena_wrote_when_parsed_then_every_reader_sees_it_and_no_unit_owns_it(
    event_type, tenant, day, name, unit
):
    ledger = parse_ledger_object_key(ledger_prefix(tenant, day) + name)
    compacted = parse_compacted_object_key(compacted_prefix(event_type, tenant, day) + name)

    assert ledger is not None
    assert compacted is not None
    assert (ledger.tenant, ledger.day, ledger.unit, ledger.name) == (tenant, day, None, name)
    assert (compacted.event_type, compacted.tenant, compacted.day, compacted.unit) == (event_type, tenant, day, None)
    assert not written_by(ledger.key, unit)
    assert not written_by(compacted.key, unit)


@pytest.mark.parametrize("name", ["_SUCCESS", ".hidden", "_$folder$", "x/y", "", "a b"])
def test_given_a_hidden_or_odd_name_in_a_day_when_parsed_then_it_is_no_file_of_the_day(name):
    day = Day("2026", "11", "20")

    assert parse_ledger_object_key(ledger_prefix("acme", day) + name) is None
    assert parse_compacted_object_key(compacted_prefix("track", "acme", day) + name) is None


@given(millis, names, st.sampled_from(["raw/{:%Y/%m/%d/%H}/stream-1-abc", "elsewhere/{:%Y}/x"]), millis)
def test_given_any_quarantined_object_when_parsed_then_its_hour_and_source_come_back(moment, source, shape, fallback):
    when = datetime.fromtimestamp(moment / 1000, UTC)
    raw_key = shape.format(when)
    other = datetime.fromtimestamp(fallback / 1000, UTC)

    parsed = parse_quarantine_object_key(quarantine_object_key(raw_key, source, other))

    expected = when if raw_key.startswith("raw/") else other
    assert parsed == (Day.of(expected), f"{expected:%H}", source)


@given(millis)
def test_given_any_firehose_key_when_its_hour_is_read_then_the_hour_of_the_key_comes_back(moment):
    when = datetime.fromtimestamp(moment / 1000, UTC)

    assert raw_hour(f"raw/{when:%Y/%m/%d/%H}/delivery-1") == (Day.of(when), f"{when:%H}")
    assert raw_hour(raw_object_key(when, "delivery-1")) == (Day.of(when), f"{when:%H}")  # the two are inverses


@pytest.mark.parametrize("name", ["", "a/b"])
def test_given_a_name_that_is_not_one_object_when_a_raw_key_is_made_then_refused(name):
    with pytest.raises(ValueError, match="not an object name"):
        raw_object_key(datetime(2026, 11, 20, 10, tzinfo=UTC), name)


@pytest.mark.parametrize(
    "key",
    [
        "raw/2026/11/20/24/x",
        "raw/2026/13/20/10/x",
        "raw/2026/02/30/10/x",
        "raw/2026/11/20/1/x",
        "events/2026/11/20/10/x",
    ],
)
def test_given_a_key_without_a_real_hour_when_its_hour_is_read_then_none(key):
    assert raw_hour(key) is None


PARSERS = (
    parse_event_object_key,
    parse_compacted_object_key,
    parse_ledger_object_key,
    parse_quarantine_object_key,
    parse_run_result_key,
)


def _rebuilt(key: str) -> str | None:
    if (event := parse_event_object_key(key)) is not None:
        return event_object_key(event.partition, event.source)
    if (compacted := parse_compacted_object_key(key)) is not None:
        if compacted.unit is None or compacted.part is None:  # Athena's name, kept as it is
            return compacted_prefix(compacted.event_type, compacted.tenant, compacted.day) + compacted.name
        return compacted_object_key(
            compacted.event_type, compacted.tenant, compacted.day, compacted.unit, compacted.part
        )
    if (ledger := parse_ledger_object_key(key)) is not None:
        if ledger.unit is None:
            return ledger_prefix(ledger.tenant, ledger.day) + ledger.name
        return ledger_object_key(ledger.tenant, ledger.day, ledger.unit)
    if (quarantined := parse_quarantine_object_key(key)) is not None:
        day, hour, source = quarantined
        raw = f"raw/{day.year}/{day.month}/{day.day}/{hour}/x"
        return quarantine_object_key(raw, source, datetime(2000, 1, 1, tzinfo=UTC))
    if (result := parse_run_result_key(key)) is not None:
        return run_result_key(*result)
    return None


@given(
    st.text(max_size=200)
    | st.from_regex(r"(events|compacted|ledger|quarantine|compaction/runs)/.{0,160}", fullmatch=True)
)
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
        "ledger/tenant=acme/year=2026/month=11/day=32/0123456789abcdef.parquet",
        "quarantine/2026/11/20/24/0123456789abcdef.json.gz",
        "quarantine/2026/11/20/09/0123456789abcdef.json.gz/",
        "compaction/runs/run 1/results/acme.json",
        "compaction/runs/run-1/results/Acme.json",
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
