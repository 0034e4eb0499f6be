"""Fan-out against moto's S3: partitioning, GZIP and plain input, quarantine, idempotency, failures."""

from __future__ import annotations

import gzip
import io
import json
import re
from typing import Any

import pytest

from event_collector.aws.s3 import S3ObjectStore
from event_collector.lake.fan_out import FanOut, FanOutFailed, fan_out_event
from tests.conftest import LAKE_BUCKET, RAW_BUCKET, fail_calls

HOUR_12 = 1_780_000_000_000  # 2026-05-28T20:26:40Z
HOUR_13 = HOUR_12 + 3600 * 1000
SAFE_KEY = re.compile(
    r"^(events/[a-z][a-z0-9_]*/tenant=[a-z0-9][a-z0-9-]+/year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/[0-9a-f]{32}\.json\.gz"
    r"|quarantine/\d{4}/\d{2}/\d{2}/\d{2}/[0-9a-f]{32}\.json\.gz)$"
)


def event(
    tenant: str = "acme", event_type: str = "page_view", received_at: Any = HOUR_12, **extra: Any
) -> dict[str, Any]:
    return {
        "event_id": f"{tenant}-{received_at}-{len(extra)}",
        "event_type": event_type,
        "tenant": tenant,
        "received_at": received_at,
        **extra,
    }


def lines(*events: Any) -> bytes:
    return b"".join((e if isinstance(e, bytes) else json.dumps(e).encode()) + b"\n" for e in events)


def put_raw(aws, body: bytes, key: str = "raw/2026/05/28/20/stream-1-2026-05-28-20-26-40-abc") -> str:
    aws.s3.put_object(Bucket=RAW_BUCKET, Key=key, Body=body)
    return key


def lake(aws) -> dict[str, bytes]:
    objects = aws.s3.list_objects_v2(Bucket=LAKE_BUCKET).get("Contents", [])
    return {o["Key"]: aws.s3.get_object(Bucket=LAKE_BUCKET, Key=o["Key"])["Body"].read() for o in objects}


def decoded(blob: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(blob).splitlines()]


@pytest.fixture
def fan_out(aws) -> FanOut:
    return FanOut(S3ObjectStore(aws.s3), LAKE_BUCKET)


MIXED = [
    event("acme", "page_view", HOUR_12, url="/a"),
    event("acme", "page_view", HOUR_12 + 1, url="/b"),
    event("acme", "button_click", HOUR_12, button_id="buy"),
    event("globex", "page_view", HOUR_12, url="/a"),
    event("acme", "page_view", HOUR_13, url="/late"),
]


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_given_a_raw_object_when_fanned_out_then_each_group_lands_in_its_partition(aws, fan_out, compress):
    body = lines(*MIXED)
    key = put_raw(aws, gzip.compress(body) if compress else body)

    report = fan_out.process(RAW_BUCKET, key)

    objects = lake(aws)
    prefixes = sorted(k.rsplit("/", 1)[0] for k in objects)
    assert prefixes == [
        "events/button_click/tenant=acme/year=2026/month=05/day=28/hour=20",
        "events/page_view/tenant=acme/year=2026/month=05/day=28/hour=20",
        "events/page_view/tenant=acme/year=2026/month=05/day=28/hour=21",
        "events/page_view/tenant=globex/year=2026/month=05/day=28/hour=20",
    ]
    acme_20 = next(v for k, v in objects.items() if "page_view/tenant=acme" in k and "hour=20" in k)
    assert [line["url"] for line in decoded(acme_20)] == ["/a", "/b"]
    assert all(SAFE_KEY.match(k) for k in objects)
    assert (report.lines_in, report.lines_out, report.lines_quarantined) == (5, 5, 0)


@pytest.mark.parametrize(
    "body", [b"", lines(event())[:-1], lines(event())], ids=["empty", "no-trailing-newline", "trailing-newline"]
)
def test_given_edge_shapes_when_fanned_out_then_lines_are_counted_exactly(aws, fan_out, body):
    report = fan_out.process(RAW_BUCKET, put_raw(aws, body))

    expected = 1 if body else 0
    assert (report.lines_in, report.lines_out) == (expected, expected)
    assert len(lake(aws)) == expected


BAD_LINES = [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b"   ", "empty line"),
    (json.dumps(event(tenant="../other")).encode(), "tenant"),
    (json.dumps(event(tenant="acme/../../globex")).encode(), "tenant"),
    (json.dumps(event(tenant="ACME")).encode(), "tenant"),
    (json.dumps(event(event_type="../../quarantine")).encode(), "event_type"),
    (json.dumps(event(event_type="page view")).encode(), "event_type"),
    (json.dumps({k: v for k, v in event().items() if k != "received_at"}).encode(), "received_at"),
    (json.dumps(event(received_at="2026-05-28")).encode(), "received_at"),
    (json.dumps(event(received_at=True)).encode(), "received_at"),
    (json.dumps(event(received_at=5)).encode(), "received_at out of range"),
    (json.dumps({**event(), "event_id": "a\nb"}).encode(), "event_id"),
    (b"\xff\xfe not utf-8", "not valid JSON"),
]


def test_given_bad_lines_when_fanned_out_then_each_is_quarantined_with_its_reason(aws, fan_out):
    good = [event(url=str(i)) for i in range(3)]
    body = lines(good[0], *[line for line, _ in BAD_LINES], good[1], good[2])

    report = fan_out.process(RAW_BUCKET, put_raw(aws, body))

    assert report.lines_in == report.lines_out + report.lines_quarantined
    assert (report.lines_out, report.lines_quarantined) == (3, len(BAD_LINES))
    objects = lake(aws)
    (quarantine_key,) = [k for k in objects if k.startswith("quarantine/")]
    assert quarantine_key.startswith("quarantine/2026/05/28/20/")
    entries = decoded(objects[quarantine_key])
    for entry, (line, reason) in zip(entries, BAD_LINES, strict=True):
        assert reason in entry["reason"]
        assert entry["source_key"].startswith("raw/")
        assert entry.get("line", "").encode() == line or entry.get("line_base64")
    assert [e["line_number"] for e in entries] == list(range(2, 2 + len(BAD_LINES)))
    assert all(SAFE_KEY.match(k) for k in objects), objects.keys()
    assert not any("globex" in k or "other" in k for k in objects)


def test_given_an_overlong_line_when_fanned_out_then_it_is_quarantined_not_held(aws, fan_out, monkeypatch):
    monkeypatch.setattr("event_collector.lake.fan_out.MAX_LINE_BYTES", 300)
    body = lines(event(), b"x" * 5000, event(url="after"))

    report = fan_out.process(RAW_BUCKET, put_raw(aws, body))

    assert (report.lines_in, report.lines_out, report.lines_quarantined) == (3, 2, 1)
    quarantined = decoded(next(v for k, v in lake(aws).items() if k.startswith("quarantine/")))
    assert quarantined[0]["truncated"] is True


def test_given_the_same_object_twice_when_fanned_out_then_output_is_byte_identical_and_not_duplicated(aws, fan_out):
    key = put_raw(aws, gzip.compress(lines(*MIXED, b"bad line")))

    fan_out.process(RAW_BUCKET, key)
    first = lake(aws)
    fan_out.process(RAW_BUCKET, key)

    assert lake(aws) == first


def test_given_an_s3_error_mid_way_when_retried_then_the_final_state_is_complete(aws, fan_out):
    key = put_raw(aws, lines(*MIXED))
    reference = FanOut(S3ObjectStore(aws.s3), LAKE_BUCKET)
    reference.process(RAW_BUCKET, key)
    expected = lake(aws)
    for lake_key in expected:
        aws.s3.delete_object(Bucket=LAKE_BUCKET, Key=lake_key)

    calls = [0]

    def fail_third_put(params, **_):
        calls[0] += 1
        if calls[0] == 3:
            raise RuntimeError("injected S3 failure")

    aws.s3.meta.events.register("before-call.s3.PutObject", fail_third_put)
    with pytest.raises(Exception, match="injected"):
        fan_out.process(RAW_BUCKET, key)
    assert 0 < len(lake(aws)) < len(expected)

    fan_out.process(RAW_BUCKET, key)

    assert lake(aws) == expected


def s3_event(*keys: str, encoded: bool = True) -> dict[str, Any]:
    from urllib.parse import quote_plus

    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": RAW_BUCKET}, "object": {"key": quote_plus(key) if encoded else key}},
            }
            for key in keys
        ]
    }


def test_given_a_multi_record_event_with_encoded_keys_when_handled_then_every_object_is_fanned_out(aws, fan_out):
    first = put_raw(aws, lines(event("acme")), key="raw/2026/05/28/20/a b+c=d.json")
    second = put_raw(aws, gzip.compress(lines(event("globex"))), key="raw/2026/05/28/20/plain-2")

    reports = fan_out_event(fan_out, s3_event(first, second))

    assert [r.source.key for r in reports] == [first, second]
    tenants = {k.split("tenant=")[1].split("/")[0] for k in lake(aws)}
    assert tenants == {"acme", "globex"}


def test_given_one_missing_object_when_handled_then_the_others_are_done_and_the_invocation_fails(aws, fan_out):
    present = put_raw(aws, lines(event()))

    with pytest.raises(FanOutFailed, match="1 object"):
        fan_out_event(fan_out, s3_event("raw/2026/05/28/20/missing", present))

    assert len(lake(aws)) == 1


def test_given_s3_test_events_and_other_records_when_handled_then_nothing_happens(fan_out, aws):
    assert fan_out_event(fan_out, {"Service": "Amazon S3", "Event": "s3:TestEvent"}) == []
    assert fan_out_event(fan_out, {"Records": [{"eventSource": "aws:sqs"}]}) == []
    assert lake(aws) == {}


def test_given_the_lake_is_unwritable_when_handled_then_the_failure_propagates(aws, fan_out):
    key = put_raw(aws, lines(event()))
    fail_calls(aws.s3, "PutObject", "AccessDenied")

    with pytest.raises(FanOutFailed, match="AccessDenied"):
        fan_out_event(fan_out, s3_event(key))


def rewrite_raw(aws, key: str, keep: list[dict[str, Any]]) -> str:
    """What a regulation's deletion does to a raw object (privacy/passes.py): the same key, fewer lines,
    the first version's ETag kept as metadata; returns the new ETag."""
    from event_collector.lake.rewrites import rewrite_metadata

    store = S3ObjectStore(aws.s3)
    stored = store.read(RAW_BUCKET, key)
    return store.replace(RAW_BUCKET, key, io.BytesIO(lines(*keep)), stored.content_type, rewrite_metadata(stored))


def test_given_a_raw_object_a_deletion_rewrote_when_its_own_notification_arrives_then_nothing_is_fanned_out_again(
    aws, fan_out
):
    from tests.fakes.compaction_state import MemoryCompactionState

    queue = MemoryCompactionState()
    fan_out = FanOut(S3ObjectStore(aws.s3), LAKE_BUCKET, queue=queue)
    key = put_raw(aws, lines(*MIXED))
    fan_out.process(RAW_BUCKET, key, aws.s3.head_object(Bucket=RAW_BUCKET, Key=key)["ETag"])
    before = {k: aws.s3.head_object(Bucket=LAKE_BUCKET, Key=k)["ETag"] for k in lake(aws)}
    queue.pending_objects.clear()  # compacted since
    etag = rewrite_raw(aws, key, MIXED[1:])

    report = fan_out_event(fan_out, s3_event_with_etag(key, etag))

    assert [r.rewrite_skipped for r in report] == [True]
    assert (report[0].lines_in, report[0].written) == (0, [])
    assert {k: aws.s3.head_object(Bucket=LAKE_BUCKET, Key=k)["ETag"] for k in lake(aws)} == before
    assert queue.pending_objects == {}


@pytest.mark.parametrize("notified", ["original", None], ids=["redrive of the original", "backfill"])
def test_given_a_rewritten_raw_object_when_redriven_or_backfilled_then_it_lands_under_its_original_keys(
    aws, fan_out, notified
):
    key = put_raw(aws, lines(*MIXED))
    original = aws.s3.head_object(Bucket=RAW_BUCKET, Key=key)["ETag"]
    fan_out.process(RAW_BUCKET, key, original)
    written = sorted(lake(aws))
    rewrite_raw(aws, key, MIXED[1:])  # the first line (acme's /a at hour 20) removed

    report = fan_out.process(RAW_BUCKET, key, original if notified else None)

    assert not report.rewrite_skipped
    assert sorted(lake(aws)) == written  # the same keys: nothing stored twice
    acme_20 = next(v for k, v in lake(aws).items() if "page_view/tenant=acme" in k and "hour=20" in k)
    assert [line["url"] for line in decoded(acme_20)] == ["/b"]


def s3_event_with_etag(key: str, etag: str) -> dict[str, Any]:
    event = s3_event(key)
    event["Records"][0]["s3"]["object"]["eTag"] = etag.strip('"')
    return event
