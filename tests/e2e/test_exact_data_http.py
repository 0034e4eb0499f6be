"""Exact data over real HTTP, through the local mode (issue 10, docs/guarantees.md).

One local stack for the module. Each test sends through the API (our routes,
Segment's and the seed's), waits for the fan-out (``/__local/drain``), runs the
real compaction state machine (``/__local/compact``) and reads what a reader of
the lake would read: the compacted Parquet rows, ``GET /v1/counts`` and the
seed count routes.

- Exact values: hostile numbers, strings and nestings come back from the
  compacted tables byte-identical once re-serialized canonically; a
  millisecond ISO timestamp is stored as exactly its epoch milliseconds.
- One row per (tenant, event_id): across event types, across the UTC day
  boundary (within the dedup window), per tenant; the compaction report counts
  the copies it dropped.
- Counters: keys that a naive encoding would merge count separately; beyond
  the per-hour cardinality limit new keys count under the overflow key while
  every event still reaches the lake.
- Seed routes: any printable text is accepted and counted; bad bodies get 422
  naming the field.

Tenants and event types are split so the tests do not disturb each other's
counters: the cardinality limit is exercised on ``demo-two``/``button_click``
only, which no other test here uses.
"""

from __future__ import annotations

import base64
import http.client
import json
import math
import random
import struct
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from event_collector_cli.compacted import read_compacted
from tests.local.conftest import RunningStack, start_stack, stop_stack

DEMO, DEMO_TWO = 0, 1
DAY_MS = 86_400_000
# docs/counters.md: CounterKeysPerHour, default 1,000 (the local mode runs the template's defaults).
COUNTER_KEYS_PER_HOUR = 1000
# docs/api.md and ingest/models.py: properties nest at most 8 levels.
MAX_NESTING = 8


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("exact-data"))
    yield running
    stop_stack(running)


# -- helpers ---------------------------------------------------------------------------------------


def canonical(value: Any) -> str:
    """The lake's documented text form of a nested value (docs/compaction.md, Columns): sorted keys, no
    spaces, UTF-8 as is, shortest round-trip floats, exact integers. Written out here, not imported, so a
    change to the product's encoder cannot silently change what the test expects."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def basic(stack: RunningStack, tenant_index: int) -> str:
    tenant, key = stack.demo_auth(tenant_index)
    return "Basic " + base64.b64encode(f"{tenant}:{key}".encode()).decode()


def post(stack: RunningStack, path: str, data: bytes, tenant_index: int = DEMO) -> tuple[int, Any]:
    """POST bytes exactly as given (the body's encoding is part of what is tested)."""
    connection = http.client.HTTPConnection("127.0.0.1", stack.api_port, timeout=60)
    try:
        connection.request(
            "POST",
            path,
            body=data,
            headers={"Content-Type": "application/json", "Authorization": basic(stack, tenant_index)},
        )
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        connection.close()


def send_events(stack: RunningStack, events: list[dict[str, Any]], tenant_index: int = DEMO) -> dict[str, Any]:
    status, answer = post(
        stack, "/v1/events", json.dumps({"events": events}, ensure_ascii=False).encode(), tenant_index
    )
    assert status == 200, answer
    assert answer["rejected"] == [], answer
    return dict(answer)


def get(stack: RunningStack, path: str, tenant_index: int = DEMO) -> Any:
    answer = stack.request("GET", path, auth=stack.demo_auth(tenant_index))
    assert answer.status == 200, answer.body
    return answer.json()


def total(stack: RunningStack, event_type: str, key: str, tenant_index: int = DEMO) -> int:
    query = urllib.parse.urlencode({"event_type": event_type, "key": key})
    return int(get(stack, f"/v1/counts?{query}", tenant_index)["total"])


def settle(stack: RunningStack) -> dict[str, Any]:
    """Wait for every fan-out, run one compaction (the open hour included) and return its report."""
    drained = stack.request("POST", "/__local/drain").json()
    assert drained["async_failures"] == [], drained
    compaction = stack.request("POST", "/__local/compact", body={}).json()
    assert compaction["status"] == "SUCCEEDED", compaction
    assert compaction["report"]["failed"] == 0, compaction
    return dict(compaction["report"])


def compacted(stack: RunningStack) -> list[dict[str, Any]]:
    """Every row of every compacted table (all event types), with its partition values."""
    return read_compacted(stack.aws("s3"), stack.info["lake_bucket"])


def rows_of(stack: RunningStack, event_id: str) -> list[dict[str, Any]]:
    return [row for row in compacted(stack) if row["event_id"] == event_id]


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def raw_keys(stack: RunningStack) -> set[str]:
    pages = stack.aws("s3").get_paginator("list_objects_v2").paginate(Bucket=stack.info["raw_bucket"], Prefix="raw/")
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def send_and_capture_line(stack: RunningStack, event: dict[str, Any], tenant_index: int = DEMO) -> dict[str, Any]:
    """Send one event over HTTP and return the line the collector stored for it (the Firehose object it
    wrote, found as the one raw object that appeared)."""
    before = raw_keys(stack)
    send_events(stack, [event], tenant_index)
    added = raw_keys(stack) - before
    assert len(added) == 1, added
    body = stack.aws("s3").get_object(Bucket=stack.info["raw_bucket"], Key=added.pop())["Body"].read()
    lines = [json.loads(line) for line in body.splitlines() if line.strip()]
    assert [line["event_id"] for line in lines] == [event["event_id"]]
    return dict(lines[0])


def deliver_late_copy(stack: RunningStack, line: dict[str, Any], received_at: int) -> None:
    """A late Firehose delivery of the same stored line with another ``received_at``: written to the raw
    bucket under its hour, as Firehose would (the API cannot be asked to receive at another time: the
    server's clock sets ``received_at``). The S3 notification runs the real fan-out."""
    late = {**line, "received_at": received_at, "timestamp": received_at}
    hour = datetime.fromtimestamp(received_at / 1000, tz=UTC)
    key = f"raw/{hour:%Y/%m/%d/%H}/late-delivery-{uuid.uuid4().hex}"
    data = (json.dumps(late, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    stack.aws("s3").put_object(Bucket=stack.info["raw_bucket"], Key=key, Body=data)


def start_of_utc_day(epoch_ms: int) -> int:
    return epoch_ms // DAY_MS * DAY_MS


def utc_day(epoch_ms: int) -> tuple[int, int, int]:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.year, moment.month, moment.day


def partition_day(row: dict[str, Any]) -> tuple[int, int, int]:
    return int(row["year"]), int(row["month"]), int(row["day"])


# -- 1. exact values -------------------------------------------------------------------------------

RNG_SEED = 20261126


def random_doubles(count: int) -> list[float]:
    """Doubles from random bit patterns (every exponent, subnormals included) and from uniform draws."""
    rng = random.Random(RNG_SEED)  # noqa: S311 - reproducible test data, not secrets
    values: list[float] = []
    while len(values) < count:
        value = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(value):
            values.append(value)
    values += [rng.uniform(-1e6, 1e6) for _ in range(count // 2)]
    values += [rng.random() for _ in range(count // 2)]
    return values


def random_int64s(count: int) -> list[int]:
    rng = random.Random(RNG_SEED + 1)  # noqa: S311 - reproducible test data, not secrets
    return [rng.randint(-(2**63), 2**63 - 1) for _ in range(count)]


def nested(levels: int) -> Any:
    """A value ``levels`` containers deep below the ``properties`` object, alternating lists and objects."""
    value: Any = "bottom"
    for level in range(levels):
        value = [value] if level % 2 else {f"level{levels - level}": value}
    return value


PLANES = [
    "\u00e9",  # plane 0 (BMP)
    "\U0001f600",  # 1: emoji
    "\U00020000",  # 2: CJK extension B
    "\U00030000",  # 3: CJK extension G
    *(chr(plane * 0x10000 + 0x1234) for plane in range(4, 14)),  # 4-13: unassigned, still valid scalars
    "\U000e0041",  # 14: tag character
    "\U000f0000",  # 15: private use
    "\U0010ffff",  # 16: the last code point
]
CONTROLS = [chr(code) for code in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]]

HOSTILE_PROPERTIES: list[dict[str, Any]] = [
    {  # floats at both ends of the range
        "min_subnormal": 5e-324,
        "neg_min_subnormal": -5e-324,
        "max_subnormal": 2.225073858507201e-308,
        "min_normal": 2.2250738585072014e-308,
        "max": 1.7976931348623157e308,
        "neg_max": -1.7976931348623157e308,
        "neg_zero": -0.0,
        "zero": 0.0,
        "one_tenth": 0.1,
        "third": 1 / 3,
        "float_2_53": 9007199254740992.0,
        "float_1e16": 1e16,
        "float_1e22": 1e22,
        "float_1e23": 1e23,
        "in_a_list": [5e-324, -0.0, 0.1, 1.7976931348623157e308, 2.2250738585072014e-308],
    },
    {"random_bit_patterns": random_doubles(300)[:300]},
    {"random_uniform": random_doubles(300)[300:]},
    {  # integers: beyond 2**53, at both ends of 64 bits; booleans and null stay what they are
        "two_53": 2**53,
        "two_53_plus_1": 2**53 + 1,
        "neg_two_53_plus_1": -(2**53 + 1),
        "int64_max": 2**63 - 1,
        "int64_min": -(2**63),
        "two_62_odd": 2**62 + 12345,
        "zero": 0,
        "minus_one": -1,
        "true": True,
        "false": False,
        "null": None,
        "random_int64": random_int64s(100),
    },
    {  # every control character, NUL included, alone and inside text
        "controls": CONTROLS,
        "all_controls": "".join(CONTROLS),
        "nul_inside": "a\x00b\x00",
        "line_separators": "a\u2028b\u2029c\r\n",
    },
    {  # every Unicode plane, combining marks, noncharacters, look-alikes that must stay apart
        "planes": PLANES,
        "all_planes": "".join(PLANES),
        "combining": "e\u0301 a\u0300\u0301\u0302\u0303\u0304 Z\u0351\u0352\u0353\u0354",
        "noncharacters": "\ufffe\uffff\U0001fffe\U0010fffe",
        "bom": "\ufeffbom",
        "rtl_override": "\u202eabc\u202c",
        "zwj_family": "\U0001f469\u200d\U0001f469\u200d\U0001f467",
        "flag": "\U0001f1eb\U0001f1f7",
        "escapes_as_text": '\\u0000 \\n " \\ </script>',
        "e\u0301": "decomposed key",
        "\u00e9": "composed key",
        "\x00": "NUL as a key",
        "\U0001f600": "emoji as a key",
        " ": "space as a key",
        "a.b": "dot in a key",
    },
    {  # nesting to the limit, and empty containers
        "deepest": nested(MAX_NESTING - 1),
        "empty_object": {},
        "empty_list": [],
        "empty_string": "",
        "empties": [[], {}, [[]], [{}], {"a": {}}, {"b": []}, ""],
    },
    {},  # no properties at all
]

# Refused by the API (docs/api.md); asserted refused, and then absent from the lake.
REFUSED_PROPERTIES: list[dict[str, Any]] = [
    {"too_big": 2**63},
    {"too_small": -(2**63) - 1},
    {"too_deep": nested(MAX_NESTING + 1)},
    {"lone_surrogate": "\ud800"},
]

HOSTILE_NAMES = ["e\u0301 combining", "\U0001f600 \U00020000 astral", "\u202ertl", "plain", "tab\u00a0nbsp"]


def track_event(event_id: str, properties: dict[str, Any], index: int) -> dict[str, Any]:
    return {
        "event_type": "track",
        "event_id": event_id,
        "name": HOSTILE_NAMES[index % len(HOSTILE_NAMES)],
        "properties": properties,
        "context": properties,  # a second nested column, stored the same way
    }


def segment_track(message_id: str, properties: dict[str, Any], index: int) -> dict[str, Any]:
    return {
        "type": "track",
        "messageId": message_id,
        "event": HOSTILE_NAMES[index % len(HOSTILE_NAMES)],
        "userId": f"user-\U0001f600-{index}",
        "properties": properties,
        "context": properties,
    }


def assert_exact(row: dict[str, Any], sent: dict[str, Any], label: str) -> None:
    for column in ("properties", "context"):
        stored = row[column]
        # Byte-identical to the canonical text of what was accepted ...
        assert stored == canonical(sent[column]), f"{label}: {column} differs"
        # ... and, parsed again by any exact JSON reader, the same values (-0.0, 1 vs 1.0, key order aside).
        assert canonical(json.loads(stored)) == canonical(sent[column]), f"{label}: {column} does not round-trip"


def test_given_hostile_values_through_our_route_and_segment_when_compacted_then_each_comes_back_exactly(stack):
    run = uuid.uuid4().hex[:8]
    ours = [track_event(f"exact-ours-{run}-{n}", props, n) for n, props in enumerate(HOSTILE_PROPERTIES)]
    refused = [track_event(f"exact-refused-{run}-{n}", props, n) for n, props in enumerate(REFUSED_PROPERTIES)]
    segment = [segment_track(f"exact-segment-{run}-{n}", props, n) for n, props in enumerate(HOSTILE_PROPERTIES)]

    # Our route: raw UTF-8 (astral characters as 4 bytes); Segment's: \u escapes (astral as surrogate pairs).
    # The refused events go as \u escapes (a lone surrogate has no UTF-8 form), after the accepted ones.
    parts = [json.dumps(event, ensure_ascii=False) for event in ours] + [json.dumps(event) for event in refused]
    ours_body = ('{"events": [' + ", ".join(parts) + "]}").encode("utf-8")
    status, answer = post(stack, "/v1/events", ours_body)
    assert status == 200, answer
    assert answer["accepted"] == len(ours), answer
    assert [item["index"] for item in answer["rejected"]] == list(range(len(ours), len(ours) + len(refused)))
    status, answer = post(stack, "/v1/batch", json.dumps({"batch": segment}, ensure_ascii=True).encode())
    assert status == 200, answer
    assert (answer["accepted"], answer["rejected"]) == (len(segment), []), answer

    settle(stack)

    rows = {row["event_id"]: row for row in compacted(stack) if run in row["event_id"]}
    assert len(rows) == len(ours) + len(segment)  # the refused ones are nowhere
    for event in ours:
        row = rows[event["event_id"]]
        assert (row["event_type"], row["name"]) == ("track", event["name"])
        assert_exact(row, event, event["event_id"])
    for message in segment:
        row = rows[message["messageId"]]
        assert (row["event_type"], row["name"], row["user_id"]) == ("track", message["event"], message["userId"])
        assert_exact(row, message, message["messageId"])


def test_given_hostile_floats_when_read_back_then_every_double_has_its_exact_bits(stack):
    """The same guarantee, stated on the bits: each double parsed from the stored text is the double sent."""
    event_id = new_id("exact-bits")
    doubles = [5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -0.0, 0.1, *random_doubles(200)]
    send_events(stack, [{"event_type": "track", "event_id": event_id, "name": "bits", "properties": {"d": doubles}}])

    settle(stack)

    (row,) = rows_of(stack, event_id)
    back = json.loads(row["properties"])["d"]
    assert [struct.pack("<d", value) for value in back] == [struct.pack("<d", value) for value in doubles]


MILLISECOND_TIMESTAMPS = [
    ("2004-09-18T00:45:12.024Z", 1_095_468_312_024),
    ("2004-09-18T02:45:12.024+02:00", 1_095_468_312_024),
    ("2009-02-13T23:31:30.123Z", 1_234_567_890_123),
    ("2020-01-01T00:00:00.001Z", 1_577_836_800_001),
    ("2016-12-31T23:59:59.999Z", 1_483_228_799_999),
]


def test_given_millisecond_iso_timestamps_when_compacted_then_the_stored_epoch_ms_are_exact(stack):
    run = uuid.uuid4().hex[:8]
    ours = [
        {"event_type": "track", "event_id": f"ms-ours-{run}-{n}", "name": "ms", "timestamp": text}
        for n, (text, _) in enumerate(MILLISECOND_TIMESTAMPS)
    ]
    segment = [
        {"type": "track", "messageId": f"ms-segment-{run}-{n}", "event": "ms", "userId": "u", "timestamp": text}
        for n, (text, _) in enumerate(MILLISECOND_TIMESTAMPS)
    ]
    send_events(stack, ours)
    status, answer = post(stack, "/v1/batch", json.dumps({"batch": segment}).encode())
    assert (status, answer["rejected"]) == (200, []), answer

    settle(stack)

    stored = {row["event_id"]: row["timestamp"] for row in compacted(stack) if run in row["event_id"]}
    expected = {
        **{f"ms-ours-{run}-{n}": millis for n, (_, millis) in enumerate(MILLISECOND_TIMESTAMPS)},
        **{f"ms-segment-{run}-{n}": millis for n, (_, millis) in enumerate(MILLISECOND_TIMESTAMPS)},
    }
    assert stored == expected


# -- 2. one row per (tenant, event_id) -------------------------------------------------------------


def test_given_one_event_id_under_three_event_types_when_compacted_then_one_row_in_all_tables(stack):
    event_id = new_id("cross-type")
    send_events(stack, [{"event_type": "track", "event_id": event_id, "name": "first"}])
    send_events(stack, [{"event_type": "page_view", "event_id": event_id, "url": "https://e2e/", "session_id": "s"}])
    status, answer = post(
        stack, "/v1/screen", json.dumps({"messageId": event_id, "userId": "u", "name": "segment screen"}).encode()
    )
    assert (status, answer["accepted"]) == (200, 1), answer

    report = settle(stack)

    rows = rows_of(stack, event_id)
    assert [(row["tenant"], row["event_type"]) for row in rows] == [("demo", "track")]  # the earliest copy
    assert report["duplicates_removed"] == 2
    last = stack.request("GET", "/dashboard/api/compaction").json()["compaction"]
    assert last["duplicates_removed"] == 2
    assert [t["duplicates_removed"] for t in last["by_tenant"] if t["tenant"] == "demo"] == [2]


def test_given_one_event_id_under_another_type_in_a_later_run_when_compacted_then_still_one_row(stack):
    event_id = new_id("cross-type-later")
    send_events(stack, [{"event_type": "track", "event_id": event_id, "name": "first"}])
    settle(stack)
    # button_id: its own key, so the counter tests below see none of this.
    send_events(stack, [{"event_type": "button_click", "event_id": event_id, "button_id": event_id, "session_id": "s"}])

    report = settle(stack)

    assert [row["event_type"] for row in rows_of(stack, event_id)] == ["track"]
    assert report["duplicates_already_compacted"] == 1


def test_given_the_same_event_id_from_two_tenants_when_compacted_then_one_row_each(stack):
    event_id = new_id("two-tenants")
    send_events(stack, [{"event_type": "track", "event_id": event_id, "name": "one"}], DEMO)
    send_events(stack, [{"event_type": "track", "event_id": event_id, "name": "two"}], DEMO_TWO)
    send_events(stack, [{"event_type": "page_view", "event_id": event_id, "url": "https://x/", "session_id": "s"}])

    report = settle(stack)

    rows = rows_of(stack, event_id)
    assert sorted((row["tenant"], row["name"]) for row in rows) == [("demo", "one"), ("demo-two", "two")]
    assert report["duplicates_removed"] == 1  # demo's page_view copy only


def test_given_event_ids_that_look_like_paths_when_compacted_then_stored_as_sent_and_no_key_changes(stack):
    # Event ids are data: any printable text of 1-256 characters. They never enter an S3 or DynamoDB key.
    suffix = uuid.uuid4().hex[:8]
    ids = [f"../../other-tenant/{suffix}", f"a/b#c?d=e {suffix}", f"%2e%2e/{suffix}", f"\u00e9v\u00e9nement/{suffix}"]
    events = [{"event_type": "track", "event_id": event_id, "name": "path-like"} for event_id in ids]
    assert send_events(stack, events)["accepted"] == len(ids)

    settle(stack)

    for event_id in ids:
        assert [row["tenant"] for row in rows_of(stack, event_id)] == ["demo"]
    s3 = stack.aws("s3")
    lake_keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.info["lake_bucket"])
        for item in page.get("Contents", [])
    ]
    assert not [key for key in lake_keys if suffix in key or ".." in key.split("/")]


def test_given_client_timestamps_either_side_of_midnight_when_resent_then_one_row(stack):
    event_id = new_id("midnight-timestamps")
    send_events(
        stack, [{"event_type": "track", "event_id": event_id, "name": "n", "timestamp": "2024-02-29T23:59:59.900Z"}]
    )
    status, answer = post(
        stack,
        "/v1/track",
        json.dumps(
            {"messageId": event_id, "userId": "u", "event": "n", "timestamp": "2024-03-01T00:00:00.100Z"}
        ).encode(),
    )
    assert (status, answer["accepted"]) == (200, 1), answer

    report = settle(stack)

    assert len(rows_of(stack, event_id)) == 1
    assert report["duplicates_removed"] == 1


def test_given_copies_received_either_side_of_midnight_in_one_run_when_compacted_then_one_row_the_earliest(stack):
    event_id = new_id("midnight-one-run")
    line = send_and_capture_line(stack, {"event_type": "track", "event_id": event_id, "name": "n"})
    day_before = start_of_utc_day(line["received_at"]) - 100  # 23:59:59.900 of the day before
    deliver_late_copy(stack, line, day_before)

    report = settle(stack)

    rows = rows_of(stack, event_id)
    assert [row["received_at"] for row in rows] == [day_before]
    assert partition_day(rows[0]) == utc_day(day_before)
    assert report["duplicates_removed"] == 1


def test_given_a_copy_from_before_midnight_arriving_in_a_later_run_when_compacted_then_one_row(stack):
    event_id = new_id("midnight-later-run")
    line = send_and_capture_line(stack, {"event_type": "track", "event_id": event_id, "name": "n"})
    settle(stack)
    deliver_late_copy(stack, line, start_of_utc_day(line["received_at"]) - 100)

    report = settle(stack)

    assert [row["received_at"] for row in rows_of(stack, event_id)] == [line["received_at"]]
    assert report["duplicates_already_compacted"] == 1


def test_given_a_copy_beyond_the_dedup_window_when_compacted_then_it_is_kept_as_documented(stack):
    """docs/guarantees.md, Known limits: DedupWindowDays (default 1) either side; three days apart is two rows."""
    event_id = new_id("beyond-window")
    line = send_and_capture_line(stack, {"event_type": "track", "event_id": event_id, "name": "n"})
    settle(stack)
    deliver_late_copy(stack, line, line["received_at"] - 3 * DAY_MS)

    report = settle(stack)

    assert sorted(row["received_at"] for row in rows_of(stack, event_id)) == [
        line["received_at"] - 3 * DAY_MS,
        line["received_at"],
    ]
    assert report["duplicates_already_compacted"] == 0


# -- 3. counters -----------------------------------------------------------------------------------

COLLIDING_KEYS = [
    "a#b",
    "a",
    "#b",
    "a#",
    "b",
    "a##b",
    "#",
    "a:b",
    "a:",
    ":b",
    ":",
    "k:a",
    "k:",
    "h:" + "0" * 64,
    "o:",
    "*",
    "keys",
    "demo#button_click#k:a",  # looks like a whole counter key
    "A",
    "\u00e9",
    "e\u0301",
    "\uff21",  # fullwidth A
    "x" * 999,
    "x" * 1000,  # the longest key kept as it is (1,000 UTF-8 bytes)
    "x" * 1001,  # hashed from here
    "x" * 1023 + "1",
    "x" * 1023 + "2",  # differs from the previous one only at the end
    "\U0001f600",
    "\U0001f600\U0001f600",
    "\U0001f600\U0001f601",
    "\U0001f601\U0001f600",
    "\U0001f600" * 250,  # 1,000 bytes
    "\U0001f600" * 249 + "xxxx",  # also 1,000 bytes
    "\U0001f600" * 251,  # 1,004 bytes: hashed
    "\U0001f600" * 1023 + "\U0001f600",  # 4 KiB, differs from the next only in its last character
    "\U0001f600" * 1023 + "\U0001f601",
]


def test_given_keys_a_naive_encoding_would_merge_when_counted_then_each_counts_separately(stack):
    assert len(set(COLLIDING_KEYS)) == len(COLLIDING_KEYS)
    # Key number n is sent n + 1 times: any two keys sharing a counter would show as a sum.
    events = [
        {"event_type": "button_click", "button_id": key, "session_id": "s"}
        for n, key in enumerate(COLLIDING_KEYS)
        for _ in range(n + 1)
    ]
    for start in range(0, len(events), 200):
        send_events(stack, events[start : start + 200])
    empty_key_clicks = 3
    for _ in range(empty_key_clicks):  # the empty key exists only on the seed route (as in the original)
        assert (
            stack.request(
                "POST", "/button/click", body={"button_id": "", "session_id": "s"}, auth=stack.demo_auth()
            ).status
            == 200
        )

    stack.drain()

    counted = {key: total(stack, "button_click", key) for key in COLLIDING_KEYS}
    assert counted == {key: n + 1 for n, key in enumerate(COLLIDING_KEYS)}
    expected_seed = {key: n + 1 for n, key in enumerate(COLLIDING_KEYS) if n < 8 or n == len(COLLIDING_KEYS) - 1}
    expected_seed[""] = empty_key_clicks
    seed_counts = {
        key: get(stack, "/button/click/count?" + urllib.parse.urlencode({"button_id": key}))["count"]
        for key in expected_seed
    }
    assert seed_counts == expected_seed
    settle(stack)


def test_given_more_new_keys_in_an_hour_than_the_limit_when_counted_then_the_rest_count_as_overflow(stack):
    """2 x limit + 1 distinct keys, so whichever UTC hours the requests land in, some hour is over the
    limit; the expected figures are derived from the hourly series the API itself returns."""
    run = uuid.uuid4().hex[:8]
    keys = [f"card-{run}-{n}" for n in range(2 * COUNTER_KEYS_PER_HOUR + 1)]
    ids = keys  # each event's id is its key
    for start in range(0, len(keys), 500):  # in order, each object counted before the next is sent
        batch = [
            {"event_type": "button_click", "event_id": ids[n], "button_id": keys[n], "session_id": "s"}
            for n in range(start, min(start + 500, len(keys)))
        ]
        assert send_events(stack, batch, DEMO_TWO)["accepted"] == len(batch)
        stack.drain()

    counts = get(stack, "/v1/counts?event_type=button_click", DEMO_TWO)
    per_hour = [hour["count"] for hour in counts["hourly"] if hour["count"]]
    assert sum(per_hour) == counts["total"] == len(keys)  # the type's total counts every event
    expected_overflow = sum(max(0, n - COUNTER_KEYS_PER_HOUR) for n in per_hour)
    assert expected_overflow >= 1
    assert counts["overflow"] == expected_overflow
    picks = sorted({*range(0, len(keys), 50), COUNTER_KEYS_PER_HOUR - 1, COUNTER_KEYS_PER_HOUR, len(keys) - 1})
    sampled = {n: total(stack, "button_click", keys[n], DEMO_TWO) for n in picks}
    assert set(sampled.values()) <= {0, 1}  # a key counts alone (1) or under the overflow (0), never merged
    assert sampled[0] == 1  # the first new key of its hour always gets a counter
    if len(per_hour) == 1:  # the usual case, one hour: its first `limit` keys got counters, the later ones not
        assert sampled == {n: int(n < COUNTER_KEYS_PER_HOUR) for n in picks}

    report = settle(stack)  # ... and every event is in the lake all the same

    stored = {
        row["event_id"]
        for row in compacted(stack)
        if row["tenant"] == "demo-two" and row["event_id"].startswith(f"card-{run}-")
    }
    assert stored == set(ids)
    assert report["rows_out"] >= len(ids)


# -- 4. seed compatibility -------------------------------------------------------------------------

SEED_VALUES = [
    "with spaces",
    "hash#tag",
    "slash/and/more",
    "../../etc/passwd",
    "caf\u00e9 \u00fc\u00df \u4e2d\u6587",
    "emoji \U0001f600\U0001f44d",
    "q?x=1&y=%20",
    "  leading and trailing  ",
]


def test_given_seed_routes_with_any_printable_text_when_sent_then_accepted_counted_and_stored(stack):
    run = uuid.uuid4().hex[:8]
    buttons = [f"{value} {run}" for value in SEED_VALUES]
    urls = [f"https://example.com/{value} {run}" for value in SEED_VALUES]
    for button in buttons:
        for _ in range(2):
            answer = stack.request(
                "POST", "/button/click", body={"button_id": button, "session_id": button}, auth=stack.demo_auth()
            )
            assert (answer.status, answer.json()) == (200, {"message": "Received"})
    for url in urls:
        body = {"url": url, "session_id": url, "referral_url": url, "useragent": url, "ignored_field": 1}
        answer = stack.request("POST", "/web/page_view", body=body, auth=stack.demo_auth())
        assert (answer.status, answer.json()) == (200, {"message": "Received"})

    stack.drain()

    for button in buttons:
        assert get(stack, "/button/click/count?" + urllib.parse.urlencode({"button_id": button})) == {"count": 2}
        assert total(stack, "button_click", button) == 2
    for url in urls:
        assert get(stack, "/web/page_view/count?" + urllib.parse.urlencode({"url": url})) == {"count": 1}
        assert total(stack, "page_view", url) == 1
    settle(stack)
    rows = [row for row in compacted(stack) if row["tenant"] == "demo"]
    assert sorted(
        row["button_id"] for row in rows if row["event_type"] == "button_click" and run in (row["button_id"] or "")
    ) == sorted(buttons * 2)
    stored_views = {row["url"]: row for row in rows if row["event_type"] == "page_view" and run in (row["url"] or "")}
    assert set(stored_views) == set(urls)
    assert all(row["session_id"] == row["referral_url"] == row["useragent"] == url for url, row in stored_views.items())


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/button/click", {"session_id": "s"}, "button_id"),
        ("/button/click", {"button_id": "b"}, "session_id"),
        ("/button/click", {"button_id": 5, "session_id": "s"}, "button_id"),
        ("/button/click", {"button_id": "tab\there", "session_id": "s"}, "button_id"),
        ("/button/click", {"button_id": "x" * 1025, "session_id": "s"}, "button_id"),
        ("/web/page_view", {"session_id": "s"}, "url"),
        ("/web/page_view", {"url": "https://x/", "session_id": ["s"]}, "session_id"),
        ("/web/page_view", {"url": "https://x/", "session_id": "s", "ipaddress": "\x00"}, "ipaddress"),
    ],
)
def test_given_a_bad_seed_body_when_sent_then_422_names_the_field(stack, path, body, field):
    answer = stack.request("POST", path, body=body, auth=stack.demo_auth())

    assert answer.status == 422, answer.body
    assert answer.headers["Content-Type"].startswith("application/json")
    error = answer.json()
    assert error["error"] == "invalid_request"
    assert any(detail.startswith(f"{field}:") for detail in error["details"]), error
    assert field in error["message"]
