"""Validation and the stored line: what the API accepted is what the lake line holds, exactly."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_collector.errors import ClientInputError
from event_collector.ingest.validation import stored_value, validate_batch, validate_event
from event_collector.json_values import canonical_json

RECEIVED = 1_780_000_000_000
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_given_any_properties_when_stored_then_the_line_holds_their_canonical_text_and_parses_back_equal(properties):
    outcome = validate_event(
        {"event_type": "track", "name": "n", "properties": properties},
        tenant="acme",
        received_at=RECEIVED,
        clock_offset=0,
        generated_event_id="r-0",
    )
    if isinstance(outcome, list):  # only size or character rules may refuse it, and they say so
        assert outcome
        return

    stored = json.loads(outcome.line)

    assert stored["properties"] == canonical_json(properties)
    assert json.loads(stored["properties"]) == properties
    assert outcome.line.endswith(b"\n")
    assert outcome.line.count(b"\n") == 1


def test_given_text_when_stored_then_it_is_kept_as_is_and_other_values_become_json_text():
    assert stored_value("  é\u00a0 ") == "  é\u00a0 "
    assert stored_value(1.0) == "1.0"
    assert stored_value({"b": 1, "a": [True, None]}) == canonical_json({"b": 1, "a": [True, None]})


def test_given_a_batch_when_validated_then_generated_ids_name_the_request_and_sent_at_corrects_the_clock():
    batch = validate_batch(
        [{"event_type": "track", "name": "a", "timestamp": RECEIVED - 60_000}, {"event_type": "nope"}],
        tenant="acme",
        received_at=RECEIVED,
        sent_at=RECEIVED - 5_000,
        request_id="req",
    )

    (accepted,) = batch.accepted
    line = json.loads(accepted.line)
    assert line["event_id"] == "req-0"
    assert line["timestamp"] == RECEIVED - 60_000 + 5_000  # the client's clock was 5 s behind
    assert [rejected.index for rejected in batch.rejected] == [1]
    assert "event_type" in batch.rejected[0].errors[0]


@pytest.mark.parametrize(("events", "status"), [([], 400), ([{"event_type": "track", "name": "n"}] * 501, 413)])
def test_given_an_empty_or_oversized_batch_when_validated_then_a_client_error_with_its_status(events, status):
    with pytest.raises(ClientInputError) as raised:
        validate_batch(events, tenant="acme", received_at=RECEIVED)
    assert raised.value.status == status
