"""A date-time is read once, the same way for the edge and the lake: RFC 3339, as floored epoch milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_collector.ingest.models import epoch_millis_of
from event_collector.schemas.formats import date_time_millis


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("2026-01-31T12:00:00Z", 1_769_860_800_000),
        ("2026-01-31t12:00:00z", 1_769_860_800_000),
        ("2026-01-31T13:00:00+01:00", 1_769_860_800_000),
        ("2026-01-31T12:00:00.25Z", 1_769_860_800_250),
        ("2026-01-31T12:00:00.999999999Z", 1_769_860_800_999),
        ("1969-12-31T23:59:59.9999Z", -1),
        ("0001-01-01T00:00:00Z", -62_135_596_800_000),
        ("9999-12-31T23:59:59.999Z", 253_402_300_799_999),
    ],
)
def test_given_an_rfc_3339_date_time_when_read_then_it_is_its_instant_in_epoch_milliseconds_floored(text, millis):
    assert date_time_millis(text) == millis


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-31T12:00:00",  # no offset: which instant?
        "2026-01-31 12:00:00Z",
        "2026-01-31",
        "12:00:00Z",
        "2026-01-31T12:00Z",
        "2026-01-31T12:00:00.Z",
        "2026-01-31T12:00:00+0100",
        "2026-01-31T12:00:00+24:00",
        "2026-01-31T24:00:00Z",
        "2026-12-31T23:59:60Z",  # a leap second: RFC 3339 has it, no column type does
        "2026-02-30T00:00:00Z",
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
        "\uff12\uff10\uff12\uff16-01-31T12:00:00Z",  # fullwidth digits
        "2026-01-31T12:00:00Z ",
        "",
    ],
)
def test_given_text_that_is_no_date_time_the_lake_holds_when_read_then_it_is_none(text):
    assert date_time_millis(text) is None


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)),
    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
)
def test_given_any_instant_written_with_any_offset_when_read_then_it_is_what_the_envelope_timestamp_reads(
    moment, offset_minutes
):
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))

    assert date_time_millis(local.isoformat()) == epoch_millis_of(moment)
