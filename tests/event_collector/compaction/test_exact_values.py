"""Property: whatever the API accepted comes back from the compacted Parquet tables exactly.

Arbitrary accepted events go through the real collector handler, Firehose
(moto), the fan-out and Compact, and are read back from the Parquet files:

- our own API: ``track``, ``page_view`` and ``button_click`` with every field
  (``event_id``, ``timestamp`` as epoch milliseconds or ISO 8601 with any
  offset and 0-9 fractional digits, ``sent_at``, ``user_id``,
  ``anonymous_id``, ``context``, the seed fields);
- Segment's API: every message type with ``messageId``, ``userId``,
  ``anonymousId``, ``timestamp``/``sentAt``, ``traits``, ``context``,
  ``integrations`` and fields of its own;
- every number (64-bit integers, floats at both ends of the range,
  subnormals, -0.0), every string (control characters, every Unicode plane),
  nesting up to the full depth the API accepts, and raw number spellings
  (``1E+2``, ``-0``, ``0.1e1``) that only a hand-written body has.

Nested values must be byte-identical once re-serialized canonically; text
columns identical strings; ``timestamp`` the exact millisecond the client
sent (corrected by the same exact arithmetic for ``sent_at``). What the API
refuses (nesting one level deeper, ``1e-400``, integers past 64 bits) must get
a 4xx and never reach the tables.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from event_collector.aws.compaction_state import CompactionStateTable
from event_collector.aws.glue import GlueCatalog
from event_collector.aws.s3 import S3ObjectStore
from event_collector.compaction.compact import Compaction, compact_tenant
from event_collector.compaction.contracts import CompactRequest
from event_collector.event_types import EARLIEST_TIMESTAMP_MS
from event_collector.json_values import INT64_MAX, INT64_MIN, MAX_NESTING_DEPTH, canonical_json
from event_collector.lake.layout import compacted_type_prefix, run_item_key
from event_collector_cli.compacted import read_compacted
from tests.conftest import LAKE_BUCKET, api_request, call

# Text the API takes in typed fields: printable (no C0/C1 controls, no line or paragraph separators).
PRINTABLE = st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp"])
# An event id also refuses the bidirectional formatting characters (identifiers.CLIENT_ID_PATTERN).
ID_CHARACTERS = st.characters(
    exclude_categories=["Cs", "Cc", "Zl", "Zp"],
    exclude_characters="\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
)
TEXT = st.text(PRINTABLE, min_size=1, max_size=40)
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)  # values inside objects: anything valid
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=INT64_MIN, max_value=INT64_MAX),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -0.0, 0.1, 1e16]),
    ANY_TEXT,
)
KEYS = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=30)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=4)),
    max_leaves=12,
)


def nest(value: Any, levels: int, key: str) -> Any:
    for level in range(levels):
        value = {key: value} if level % 2 else [value]
    return value


# Objects the API takes (every level up to MAX_NESTING_DEPTH), sometimes as deep as it goes: a value of an
# object sits 1 level down, so a leaf 7 containers below is at the deepest level taken.
DEEPEST = st.builds(
    lambda key, leaf, levels: {key: nest(leaf, levels, key)},
    KEYS,
    SCALARS,
    st.integers(min_value=MAX_NESTING_DEPTH - 2, max_value=MAX_NESTING_DEPTH - 1),
)
OBJECTS = st.one_of(st.dictionaries(KEYS, VALUES, max_size=6), DEEPEST)


def depth(value: object, level: int = 0) -> int:
    if isinstance(value, dict):
        return max([level, *(depth(v, level + 1) for v in value.values())])
    if isinstance(value, list):
        return max([level, *(depth(v, level + 1) for v in value)])
    return level


# Instants: epoch milliseconds, or ISO 8601 at any offset with 0-9 fractional digits (cut toward the past).
LATEST_SENT_MS = 1_735_689_600_000  # 2025-01-01: in the past of any clock these tests run under
INSTANTS_NS = st.integers(min_value=EARLIEST_TIMESTAMP_MS * 10**6, max_value=LATEST_SENT_MS * 10**6)


def iso(epoch_ns: int, digits: int, offset_minutes: int | None) -> str:
    local_ns = epoch_ns + (offset_minutes or 0) * 60 * 10**9
    whole = datetime(1970, 1, 1) + timedelta(seconds=local_ns // 10**9)
    text = whole.strftime("%Y-%m-%dT%H:%M:%S") + (f".{local_ns % 10**9:09d}"[: digits + 1] if digits else "")
    if offset_minutes is None:
        return text + "Z"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{text}{'-' if offset_minutes < 0 else '+'}{hours:02d}:{minutes:02d}"


@st.composite
def instants(draw: st.DrawFn) -> tuple[Any, int]:
    """(what the client sends, the epoch milliseconds it means)."""
    epoch_ns = draw(INSTANTS_NS)
    if draw(st.booleans()):
        return epoch_ns // 10**6, epoch_ns // 10**6
    digits = draw(st.integers(min_value=0, max_value=9))
    offset = draw(st.one_of(st.none(), st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59)))
    unit = 10 ** (9 - digits)
    return iso(epoch_ns, digits, offset), epoch_ns // unit * unit // 10**6


OPTIONAL_IDENTITY = st.one_of(st.none(), st.text(PRINTABLE, min_size=1, max_size=256))
OURS = st.fixed_dictionaries(
    {"event_type": st.sampled_from(["track", "page_view", "button_click"]), "id": st.text(ID_CHARACTERS, max_size=200)},
    optional={
        "timestamp": instants(),
        "user_id": OPTIONAL_IDENTITY,
        "anonymous_id": OPTIONAL_IDENTITY,
        "context": OBJECTS,
        "name": TEXT,
        "properties": OBJECTS,
        "url": st.text(PRINTABLE, max_size=300),
        "session_id": st.text(PRINTABLE, max_size=100),
        "referral_url": st.text(PRINTABLE, max_size=100),
        "ipaddress": st.text(PRINTABLE, max_size=100),
        "useragent": st.text(PRINTABLE, max_size=100),
        "button_id": st.text(PRINTABLE, max_size=100),
    },
)
FIELDS_OF = {
    "track": ("name", "properties"),
    "page_view": ("url", "session_id", "referral_url", "ipaddress", "useragent"),
    "button_click": ("button_id", "session_id"),
}
REQUIRED = {"track": {"name": "n"}, "page_view": {"url": "u", "session_id": "s"}, "button_click": {"button_id": "b", "session_id": "s"}}  # fmt: skip


def our_event(drawn: dict[str, Any], event_id: str) -> tuple[dict[str, Any], int | None]:
    """The event to send (only the fields its type takes, ``None`` left out) and the timestamp it means."""
    kind = drawn["event_type"]
    event: dict[str, Any] = {"event_type": kind, "event_id": event_id, **REQUIRED[kind]}
    for name in (*FIELDS_OF[kind], "user_id", "anonymous_id", "context"):
        if drawn.get(name) is not None:
            event[name] = drawn[name]
    sent, meant = drawn.get("timestamp") or (None, None)
    if sent is not None:
        event["timestamp"] = sent
    return event, meant


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def compact_and_read(aws: Any, tenant: str, event_types: set[str]) -> dict[str, dict[str, Any]]:
    """Deliver, compact ``tenant`` (each example sends as a tenant of its own, so compaction reads only what
    the example sent) and read its rows back from Parquet, by event id."""
    aws.deliver()
    run = uuid.uuid4().hex[:12]
    compaction = Compaction(
        lake_bucket=LAKE_BUCKET,
        store=S3ObjectStore(aws.s3),
        state=CompactionStateTable(aws.dynamodb, os.environ["COMPACTION_STATE_TABLE_NAME"]),
        catalog=GlueCatalog(boto3.Session(), os.environ["GLUE_DATABASE_NAME"]),
    )
    request = CompactRequest(item_key=run_item_key(run, tenant), run_id=run, cutoff=datetime(2100, 1, 1, tzinfo=UTC))
    compact_tenant(request, compaction, datetime.now(UTC))
    rows: dict[str, dict[str, Any]] = {}
    for event_type in event_types:
        for row in read_compacted(aws.s3, LAKE_BUCKET, compacted_type_prefix(event_type, tenant)):
            rows[row["event_id"]] = row
    return rows


def assert_column(row: dict[str, Any], name: str, sent: Any) -> None:
    """A text column holds the text sent; any other value its canonical JSON, which parses back equal."""
    if sent is None:
        assert row.get(name) is None, name
    elif isinstance(sent, str):
        assert row[name] == sent, name
    else:
        assert row[name] == canonical_json(sent), name
        assert canonical_json(json.loads(row[name])) == canonical_json(sent), name


@SETTINGS
@given(batch=st.lists(OURS, min_size=1, max_size=4), sent_at=st.one_of(st.none(), instants()))
def test_given_any_event_of_ours_when_compacted_then_every_field_comes_back_exactly(
    collector, aws, lambda_context, batch, sent_at
):
    run = uuid.uuid4().hex[:12]
    tenant = f"t-{run}"
    events = [our_event(drawn, f"{run}-{n}-{drawn['id']}") for n, drawn in enumerate(batch)]
    body: dict[str, Any] = {"events": [event for event, _ in events]}
    if sent_at is not None:
        body["sent_at"] = sent_at[0]
    raw = json.dumps(body, ensure_ascii=False).encode()

    status, _, answer = call(collector, api_request("POST", "/v1/events", raw_body=raw, tenant=tenant), lambda_context)

    accepted_ids = {event["event_id"] for event, _ in events}
    for rejected in answer.get("rejected") or answer.get("details") or []:
        # Only a timestamp that sent_at moves out of range may be refused; nothing else drawn is invalid.
        assert all(error.startswith("timestamp") for error in rejected["errors"]), rejected
        accepted_ids.discard(rejected["event_id"])
    assert status == (200 if accepted_ids else 400), answer
    rows = compact_and_read(aws, tenant, {event["event_type"] for event, _ in events})
    for event, meant in events:
        if event["event_id"] not in accepted_ids:
            assert event["event_id"] not in rows
            continue
        row = rows[event["event_id"]]
        assert row["event_type"] == event["event_type"]
        if meant is None:
            assert row["timestamp"] == row["received_at"]
        else:
            assert row["timestamp"] == meant + (0 if sent_at is None else row["received_at"] - sent_at[1])
        for name in (*FIELDS_OF[event["event_type"]], "user_id", "anonymous_id", "context"):
            assert_column(row, name, event.get(name, {} if name == "properties" else None))


SEGMENT_TYPES = {"track": "track", "page": "page_view", "screen": "screen", "identify": "identify",
                 "group": "group", "alias": "alias"}  # fmt: skip
SEGMENT = st.fixed_dictionaries(
    {"type": st.sampled_from(sorted(SEGMENT_TYPES)), "messageId": st.text(ID_CHARACTERS, max_size=200)},
    optional={
        "userId": st.text(PRINTABLE, min_size=1, max_size=256),
        "anonymousId": st.text(PRINTABLE, min_size=1, max_size=256),
        "timestamp": instants().map(lambda pair: (iso(pair[1] * 10**6, 3, None), pair[1])),
        "event": TEXT,
        "name": TEXT,
        "category": TEXT,
        "properties": OBJECTS,
        "traits": OBJECTS,
        "context": OBJECTS,
        "integrations": OBJECTS,
        "groupId": TEXT,
        "previousId": TEXT,
        "library_field": VALUES,  # a field of the library's own: kept in extra
    },
)
COLUMNS = {"userId": "user_id", "anonymousId": "anonymous_id", "groupId": "group_id", "previousId": "previous_id"}
OWN_FIELDS = ("event", "name", "category", "properties", "traits", "groupId", "previousId")
OWN_COLUMNS = {
    "track": {"event", "properties"},
    "page": {"name", "category", "properties"},
    "screen": {"name", "category", "properties"},
    "identify": {"traits"},
    "group": {"traits", "groupId"},
    "alias": {"previousId"},
}


def segment_message(drawn: dict[str, Any], message_id: str) -> tuple[dict[str, Any], int | None]:
    kind = drawn["type"]
    message = {name: value for name, value in drawn.items() if name != "timestamp"}
    message["messageId"] = message_id
    message.setdefault("userId", "u")
    if kind == "track":
        message.setdefault("event", "e")
    if kind == "group":
        message.setdefault("groupId", "g")
    if kind == "alias":
        message.setdefault("previousId", "p")
    sent, meant = drawn.get("timestamp") or (None, None)
    if sent is not None:
        message["timestamp"] = sent
    return message, meant


@SETTINGS
@given(batch=st.lists(SEGMENT, min_size=1, max_size=4), sent_at=instants().map(lambda pair: pair[1]))
def test_given_any_segment_message_when_compacted_then_every_field_comes_back_exactly(
    collector, aws, lambda_context, batch, sent_at
):
    run = uuid.uuid4().hex[:12]
    tenant = f"t-{run}"
    messages = [segment_message(drawn, f"{run}-{n}-{drawn['messageId']}") for n, drawn in enumerate(batch)]
    sent_at_text = iso(sent_at * 10**6, 3, None)
    raw = json.dumps({"batch": [m for m, _ in messages], "sentAt": sent_at_text}, ensure_ascii=False).encode()

    status, _, answer = call(collector, api_request("POST", "/v1/batch", raw_body=raw, tenant=tenant), lambda_context)

    accepted_ids = {message["messageId"] for message, _ in messages}
    for rejected in answer.get("rejected") or answer.get("details") or []:
        assert all(error.startswith("timestamp") for error in rejected["errors"]), rejected
        accepted_ids.discard(rejected["event_id"])
    assert status == (200 if accepted_ids else 400), answer
    rows = compact_and_read(aws, tenant, {SEGMENT_TYPES[message["type"]] for message, _ in messages})
    for message, meant in messages:
        if message["messageId"] not in accepted_ids:
            assert message["messageId"] not in rows
            continue
        row = rows[message["messageId"]]
        kind = message["type"]
        assert row["event_type"] == SEGMENT_TYPES[kind]
        if meant is not None:
            assert row["timestamp"] == meant + row["received_at"] - sent_at
        own = OWN_COLUMNS[kind]
        for field in ("userId", "anonymousId", "context", "integrations", *sorted(own - {"event"})):
            column = COLUMNS.get(field, field)
            assert_column(row, column, message.get(field, {} if (kind, field) == ("track", "properties") else None))
        if kind == "track":
            assert row["name"] == message["event"]
        # Everything else the client sent is kept whole in extra: fields of the library's own, the fields of
        # other message types, the timestamp as written.
        extra = {name: message[name] for name in (*OWN_FIELDS, "library_field") if name in message and name not in own}
        if isinstance(message.get("timestamp"), str):
            extra["timestamp"] = message["timestamp"]
        assert_column(row, "extra", extra or None)


# Raw number spellings only a hand-written body has: what each means once accepted, or that it is refused.
SPELLINGS = [
    ("1E+2", 100.0),
    ("-0.0", -0.0),
    ("-0", -0.0),
    ("0.1e1", 1.0),
    ("0e-999", 0.0),
    ("1.0", 1.0),
    ("2.4703282292062328e-324", 5e-324),
    ("1.7976931348623157e308", 1.7976931348623157e308),
    ("9223372036854775807", INT64_MAX),
    ("-9223372036854775808", INT64_MIN),
    ("12345678901234567890.5", 12345678901234567890.5),
]
REFUSED_SPELLINGS = [("1e-400", 400), ("-4e-999", 400), ("1e309", 400), ("NaN", 400), ("9223372036854775808", 400)]


def test_given_raw_number_spellings_when_accepted_then_their_doubles_come_back_exactly(collector, aws, lambda_context):
    run = uuid.uuid4().hex[:12]
    tenant = f"t-{run}"
    texts = [
        f'{{"event_type":"track","event_id":"{run}-{n}","name":"n","properties":{{"v":{text},"d":[{{"x":{text}}}]}}}}'
        for n, (text, _) in enumerate(SPELLINGS)
    ]
    raw = ('{"events":[' + ",".join(texts) + "]}").encode()

    status, _, answer = call(collector, api_request("POST", "/v1/events", raw_body=raw, tenant=tenant), lambda_context)

    assert (status, answer["accepted"]) == (200, len(SPELLINGS)), answer
    rows = compact_and_read(aws, tenant, {"track"})
    for n, (text, value) in enumerate(SPELLINGS):
        expected = canonical_json({"d": [{"x": value}], "v": value})
        assert rows[f"{run}-{n}"]["properties"] == expected, text


@pytest.mark.parametrize(("text", "status"), REFUSED_SPELLINGS)
def test_given_a_number_no_column_holds_exactly_when_sent_then_4xx_and_nothing_stored(
    collector, aws, lambda_context, text, status
):
    raw = f'{{"events":[{{"event_type":"track","name":"n","properties":{{"v":{text}}}}}]}}'.encode()

    answered, _, answer = call(collector, api_request("POST", "/v1/events", raw_body=raw), lambda_context)

    assert answered == status, answer
    named = json.dumps(answer)
    assert "properties.v" in named or "properties: v:" in named  # the parser's or the lake's check, naming it
    aws.assert_nothing_stored_or_counted()


def test_given_nesting_one_level_deeper_than_taken_when_sent_then_4xx_and_nothing_stored(
    collector, aws, lambda_context
):
    deepest = {"k": nest(1, MAX_NESTING_DEPTH - 1, "k")}
    too_deep = {"k": nest(1, MAX_NESTING_DEPTH, "k")}
    assert depth(deepest) == MAX_NESTING_DEPTH
    events = [{"event_type": "track", "name": "n", "properties": too_deep}]

    status, _, answer = call(collector, api_request("POST", "/v1/events", body={"events": events}), lambda_context)

    assert (status, answer["error"]) == (400, "no_valid_events")
    assert "nesting" in answer["details"][0]["errors"][0]
    aws.assert_nothing_stored_or_counted()
    status, _, _ = call(
        collector,
        api_request("POST", "/v1/events", body={"events": [{**events[0], "properties": deepest}]}),
        lambda_context,
    )
    assert status == 200
