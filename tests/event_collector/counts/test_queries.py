"""Count queries: instants read exactly, errors naming the parameter the client sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_collector.counts.queries import parse_instant, read_total
from event_collector.errors import ClientInputError
from event_collector.event_types import EARLIEST_TIMESTAMP_MS, LATEST_TIMESTAMP_MS

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@given(st.integers(min_value=EARLIEST_TIMESTAMP_MS, max_value=LATEST_TIMESTAMP_MS - 1))
def test_given_any_epoch_millis_when_parsed_then_the_exact_instant(millis):
    parsed = parse_instant(str(millis), "from")

    assert (parsed - EPOCH) // timedelta(milliseconds=1) == millis
    assert (parsed - EPOCH) % timedelta(milliseconds=1) == timedelta(0)


def test_given_an_iso_instant_with_milliseconds_when_parsed_then_exact():
    assert parse_instant("2004-09-18T00:45:12.024Z", "to") == EPOCH + timedelta(milliseconds=1_095_468_312_024)


class NoCounters:
    def total(self, pk: str) -> int:
        raise AssertionError("never read for an invalid key")

    def hourly(self, pk: str, first_hour: str, last_hour: str) -> dict[str, int]:
        raise AssertionError("never read for an invalid key")


@pytest.mark.parametrize(("parameter", "event_type"), [("button_id", "button_click"), ("url", "page_view")])
@pytest.mark.parametrize("value", ["\x00", "a\nb", "\ud800", "x" * 8193])
def test_given_a_bad_seed_key_when_read_then_the_error_names_the_parameter_sent(parameter, event_type, value):
    with pytest.raises(ClientInputError) as refused:
        read_total(NoCounters(), "acme", event_type, value, parameter=parameter)

    assert refused.value.message.startswith(f"'{parameter}' must be")
