"""What the API accepted is what it stores: instants to the exact millisecond, event ids as sent, and the
32 KiB limit measured on the event as the client sent it (not on the escaped line the lake stores)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from event_collector.event_types import EARLIEST_TIMESTAMP_MS, LATEST_TIMESTAMP_MS
from event_collector.ingest.models import epoch_millis_of
from event_collector.ingest.segment import validate_messages
from event_collector.ingest.validation import (
    MAX_EVENT_BYTES,
    AcceptedEvent,
    ValidatedBatch,
    sent_size,
    validate_batch,
    validate_event,
)

RECEIVED = LATEST_TIMESTAMP_MS - 1  # every instant in range is in its past
NS_PER_MS = 10**6
NAIVE_EPOCH = datetime(1970, 1, 1)


def iso(epoch_ns: int, digits: int, offset_minutes: int | None, compact_offset: bool = False) -> str:
    """``epoch_ns`` written as ISO 8601 with ``digits`` fractional digits (cut, not rounded) at a UTC
    offset (``None``: ``Z``), built with integer arithmetic only."""
    local_ns = epoch_ns + (offset_minutes or 0) * 60 * 10**9
    whole = NAIVE_EPOCH + timedelta(seconds=local_ns // 10**9)
    fraction = f"{local_ns % 10**9:09d}"[:digits]
    text = whole.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if digits else "")
    if offset_minutes is None:
        return text + "Z"
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return text + (f"{sign}{hours:02d}{minutes:02d}" if compact_offset else f"{sign}{hours:02d}:{minutes:02d}")


def expected_millis(epoch_ns: int, digits: int) -> int:
    """What the text holds, to the millisecond: digits past the millisecond dropped toward the past."""
    unit = 10 ** (9 - digits)
    return epoch_ns // unit * unit // NS_PER_MS


INSTANTS_NS = st.integers(min_value=EARLIEST_TIMESTAMP_MS * NS_PER_MS, max_value=LATEST_TIMESTAMP_MS * NS_PER_MS - 1)
DIGITS = st.integers(min_value=0, max_value=9)
OFFSETS = st.one_of(st.none(), st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59))


def stored(batch: ValidatedBatch) -> list[dict[str, Any]]:
    assert not batch.rejected, batch.rejected
    return [json.loads(event.line) for event in batch.accepted]


@given(epoch_ns=INSTANTS_NS, digits=DIGITS, offset=OFFSETS, compact_offset=st.booleans())
@example(epoch_ns=1_095_468_312_024 * NS_PER_MS, digits=3, offset=None, compact_offset=False)  # was stored ...023
@example(epoch_ns=1_095_468_312_024_999_999, digits=9, offset=-570, compact_offset=False)
def test_given_any_iso_instant_when_sent_as_timestamp_then_the_exact_millisecond_is_stored(
    epoch_ns, digits, offset, compact_offset
):
    text = iso(epoch_ns, digits, offset, compact_offset)
    expected = expected_millis(epoch_ns, digits)

    (line,) = stored(
        validate_batch([{"event_type": "track", "name": "n", "timestamp": text}], tenant="acme", received_at=RECEIVED)
    )

    assert line["timestamp"] == expected, text


@given(timestamp_ns=INSTANTS_NS, sent_ns=INSTANTS_NS, digits=DIGITS, offset=OFFSETS)
def test_given_iso_timestamp_and_sent_at_when_corrected_then_the_arithmetic_is_exact(
    timestamp_ns, sent_ns, digits, offset
):
    timestamp, sent_at = expected_millis(timestamp_ns, digits), expected_millis(sent_ns, digits)
    corrected = timestamp + (RECEIVED - sent_at)
    event = {"event_type": "track", "name": "n", "timestamp": iso(timestamp_ns, digits, offset)}

    outcome = validate_event(
        event, tenant="acme", received_at=RECEIVED, clock_offset=RECEIVED - sent_at, generated_event_id="r-0"
    )
    batch = validate_batch([event], tenant="acme", received_at=RECEIVED, sent_at=sent_at)

    if EARLIEST_TIMESTAMP_MS <= corrected <= RECEIVED + 24 * 3600 * 1000:
        assert isinstance(outcome, AcceptedEvent)
        assert json.loads(outcome.line)["timestamp"] == corrected
        assert stored(batch)[0]["timestamp"] == corrected
    else:
        assert isinstance(outcome, list)


@given(timestamp_ns=INSTANTS_NS, sent_ns=INSTANTS_NS, digits=DIGITS, offset=OFFSETS)
def test_given_segment_iso_timestamp_and_sent_at_when_stored_then_exact_and_the_text_is_kept(
    timestamp_ns, sent_ns, digits, offset
):
    timestamp_text, sent_text = iso(timestamp_ns, digits, offset), iso(sent_ns, digits, None)
    corrected = expected_millis(timestamp_ns, digits) + (RECEIVED - expected_millis(sent_ns, digits))
    message = {"type": "track", "event": "e", "userId": "u", "timestamp": timestamp_text, "sentAt": sent_text}

    batch = validate_messages([message], tenant="acme", received_at=RECEIVED)

    if EARLIEST_TIMESTAMP_MS <= corrected <= RECEIVED + 24 * 3600 * 1000:
        (line,) = stored(batch)
        assert line["timestamp"] == corrected
        assert json.loads(line["extra"]) == {"timestamp": timestamp_text, "sentAt": sent_text}
    else:
        assert batch.rejected


def test_given_every_millisecond_of_a_second_when_sent_as_iso_then_each_is_stored_exactly():
    base = 1_095_468_312_000  # 2004-09-18T00:45:12Z
    events = [
        {"event_type": "track", "name": "n", "timestamp": iso((base + ms) * NS_PER_MS, 3, None)} for ms in range(500)
    ]
    events_late = [
        {"event_type": "track", "name": "n", "timestamp": iso((base + ms) * NS_PER_MS, 3, 330)}
        for ms in range(500, 1000)
    ]

    lines = stored(validate_batch(events, tenant="acme", received_at=RECEIVED)) + stored(
        validate_batch(events_late, tenant="acme", received_at=RECEIVED)
    )

    assert [line["timestamp"] for line in lines] == [base + ms for ms in range(1000)]


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("2004-09-18T00:45:12.024Z", 1_095_468_312_024),
        ("2004-09-18T00:45:12.0249999Z", 1_095_468_312_024),  # below the millisecond: toward the past
        ("2004-09-18T00:45:12.024999999+00:00", 1_095_468_312_024),
        ("2004-09-18T06:15:12.0245+05:30", 1_095_468_312_024),
        ("2004-09-17T15:15:12.0001-09:30", 1_095_468_312_000),
        ("2004-09-18T00:45:12Z", 1_095_468_312_000),
        ("2004-09-18T00:45:12.9Z", 1_095_468_312_900),
    ],
)
def test_given_iso_forms_when_converted_then_exact_milliseconds(text, millis):
    assert epoch_millis_of(datetime.fromisoformat(text.replace("Z", "+00:00"))) == millis
    (line,) = stored(
        validate_batch([{"event_type": "track", "name": "n", "timestamp": text}], tenant="acme", received_at=RECEIVED)
    )
    assert line["timestamp"] == millis


@pytest.mark.parametrize(
    "value", ["2004-09-18T00:45:12.024", 1.5e12, "1095468312024", True, "1999-12-31T23:59:59.999Z"]
)
def test_given_a_timestamp_that_is_not_an_exact_instant_when_sent_then_refused_not_guessed(value):
    batch = validate_batch(
        [{"event_type": "track", "name": "n", "timestamp": value}], tenant="acme", received_at=RECEIVED
    )

    assert not batch.accepted
    assert batch.rejected[0].errors[0].startswith("timestamp")


# --- event ids: data, any printable text of 1-256 characters ---------------------------------------------

GOOD_IDS = ["a b", "a/b", "../../other-tenant/x", "#1", "user@example.com", "a+b=c", "é😀中", " ", "x" * 256, "\u00a0"]
BAD_IDS = [
    "",
    "x" * 257,
    "a\x00b",
    "a\nb",
    "\x7f",
    "\x85",
    "a\u2028",
    "\ud800",
    "e\u202eevil",
    "a\u200fb",
    "\u2066x\u2069",
    12,
    None,
]


@pytest.mark.parametrize("event_id", GOOD_IDS)
def test_given_any_printable_event_id_when_sent_then_stored_exactly_on_both_apis(event_id):
    (line,) = stored(
        validate_batch(
            [{"event_type": "track", "name": "n", "event_id": event_id}], tenant="acme", received_at=RECEIVED
        )
    )
    (message,) = stored(
        validate_messages(
            [{"type": "track", "event": "e", "userId": "u", "messageId": event_id}], tenant="acme", received_at=RECEIVED
        )
    )

    assert line["event_id"] == message["event_id"] == event_id


@given(event_id=st.text(st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp"]), min_size=1, max_size=256))
def test_given_any_printable_text_as_message_id_when_sent_then_it_is_the_stored_event_id(event_id):
    (line,) = stored(
        validate_messages(
            [{"type": "identify", "userId": "u", "messageId": event_id}], tenant="acme", received_at=RECEIVED
        )
    )
    assert line["event_id"] == event_id


@pytest.mark.parametrize("event_id", BAD_IDS)
def test_given_an_event_id_that_is_not_printable_text_of_1_to_256_when_sent_then_rejected_and_named(event_id):
    ours = validate_batch(
        [{"event_type": "track", "name": "n", "event_id": event_id}], tenant="acme", received_at=RECEIVED
    )
    segment = validate_messages(
        [{"type": "track", "event": "e", "userId": "u", "messageId": event_id}], tenant="acme", received_at=RECEIVED
    )

    if event_id is None:  # absent: generated
        assert ours.accepted
        assert segment.accepted
        return
    assert not ours.accepted
    assert not segment.accepted
    assert ours.rejected[0].errors[0].startswith("event_id")
    assert segment.rejected[0].errors[0].startswith("messageId")
    assert ours.rejected[0].event_id is None  # an invalid id is never echoed


# --- 32 KiB per event, as sent ---------------------------------------------------------------------------


def sized(message: dict[str, Any], size: int, char: str) -> dict[str, Any]:
    """``message`` with a property padded with ``char`` so that its compact JSON is exactly ``size`` bytes
    (the property's name takes up what the padding cannot)."""
    per_char = sent_size(char) - 2
    for name in ("s" * length for length in range(1, per_char + 1)):
        count, rest = divmod(size - sent_size({**message, "properties": {name: ""}}), per_char)
        if rest == 0:
            padded = {**message, "properties": {name: char * count}}
            assert sent_size(padded) == size
            return padded
    raise AssertionError("no padding fits")


TRACK = {"type": "track", "event": "Checkout", "userId": "u-1", "messageId": "m-1"}
OURS = {"event_type": "track", "name": "Checkout", "event_id": "e-1"}


@pytest.mark.parametrize("char", ["x", '"', "\\", "é", "\x01", "😀"])
def test_given_a_segment_message_of_32_kib_as_sent_when_escaping_grows_it_once_stored_then_still_accepted(char):
    at_limit = sized(TRACK, MAX_EVENT_BYTES, char)
    over = sized(TRACK, MAX_EVENT_BYTES + 1, "x")

    batch = validate_messages([at_limit, over], tenant="acme", received_at=RECEIVED)

    assert [rejected.index for rejected in batch.rejected] == [1]
    assert f"{MAX_EVENT_BYTES + 1} bytes as sent" in batch.rejected[0].errors[0]
    (line,) = stored(ValidatedBatch(batch.accepted, []))
    assert json.loads(line["properties"]) == at_limit["properties"]


@pytest.mark.parametrize("char", ['"', "x"])
def test_given_an_event_just_over_32_kib_as_sent_when_sent_on_either_api_then_it_alone_is_rejected(char):
    per_char = sent_size(char) - 2
    ours = validate_batch(
        [sized(OURS, MAX_EVENT_BYTES, char), sized(OURS, MAX_EVENT_BYTES + per_char, char)],
        tenant="acme",
        received_at=RECEIVED,
    )
    segment = validate_messages(
        [sized(TRACK, MAX_EVENT_BYTES + per_char, char), sized(TRACK, MAX_EVENT_BYTES - per_char, char)],
        tenant="acme",
        received_at=RECEIVED,
    )

    assert [rejected.index for rejected in ours.rejected] == [1]
    assert [rejected.index for rejected in segment.rejected] == [0]
    if char == '"':  # every quote is escaped twice once stored: the line is about twice what was sent
        assert len(ours.accepted[0].line) > 2 * MAX_EVENT_BYTES - 1024
        assert len(segment.accepted[0].line) > 2 * MAX_EVENT_BYTES - 1024


def test_given_whitespace_or_escapes_in_the_body_when_measured_then_only_the_compact_encoding_counts():
    event = {"event_type": "track", "name": "n", "properties": {"s": "é" * 10}}

    assert sent_size(event) == len(json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode())
    assert sent_size(event) < len(json.dumps(event, indent=4).encode())
