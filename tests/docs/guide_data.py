"""The known data set of docs/querying.md: what the guide's expected outputs are computed from.

Each batch goes through the collector's own code below its HTTP edge: validation (``validate_batch`` for
``/v1/events``, ``segment.validate_messages`` for Segment's routes: ids, skew correction by ``sent_at``,
Segment's mapping to our types and columns) with a fixed ``received_at``, then its ``EventIngestor`` and
Firehose adapter, put to the local stack's delivery stream, whose object in the raw bucket runs the real
fan-out; the test then runs the real compaction. Only the receive time is not the server's clock: the
guide's expected output shows days and weeks, which must not change with the date the test runs on.

The data, tenant ``demo`` unless named (people: user ``u1``, ``u3``, ``u4``, anonymous ``a2``):

- Mon 2026-11-02: u1 views / and /pricing, clicks sign-up, then signs up (Segment's Node library, plan pro,
  3 seats); a2 views / and /pricing and clicks sign-up; u3 views /pricing and clicks read-docs; u1's first
  page view is sent again 6 minutes later (same event_id: a duplicate). ``demo-two``: one view of /.
- Tue 2026-11-03: u1 views /docs and sends "Invited Teammate" (our JS SDK); a2 views /.
- Mon 2026-11-09: u1 views / and, 5 minutes late, /docs; u4 views /pricing, clicks sign-up and signs up
  (Segment's /v1/track, analytics.js, plan team, 10 seats); a2's view of /pricing arrives 3 hours late.
- Mon 2026-11-16: u3's click on read-docs arrives 2 days late (made on Sat 2026-11-14); u1 views /docs and
  u4 views / from a client whose clock is one hour behind (``sent_at`` corrects it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from event_collector.aws.firehose import FirehoseRecordSink
from event_collector.ingest import segment
from event_collector.ingest.delivery import EventIngestor
from event_collector.ingest.validation import ValidatedBatch, validate_batch
from tests.local.conftest import RunningStack

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def at(text: str) -> int:
    """Epoch milliseconds of a UTC time written ``2026-11-02T10:00:00``."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def page_view(event_id: str, url: str, session: str, person: str, timestamp: int) -> dict[str, Any]:
    return {"event_type": "page_view", "event_id": event_id, "url": url, "session_id": session,
            **who(person), "timestamp": timestamp}  # fmt: skip


def click(event_id: str, button: str, session: str, person: str, timestamp: int) -> dict[str, Any]:
    return {"event_type": "button_click", "event_id": event_id, "button_id": button, "session_id": session,
            **who(person), "timestamp": timestamp}  # fmt: skip


def who(person: str) -> dict[str, str]:
    return {"anonymous_id": person} if person.startswith(("a", "x")) else {"user_id": person}


def events_batch(
    tenant: str, received: int, events: list[dict[str, Any]], sent_at: int | None = None
) -> ValidatedBatch:
    return validate_batch(events, tenant=tenant, received_at=received, sent_at=sent_at)


def segment_batch(
    tenant: str, received: int, messages: list[dict[str, Any]], route_type: str | None = None
) -> ValidatedBatch:
    return segment.validate_messages(messages, tenant=tenant, received_at=received, message_type=route_type)


def batches() -> list[ValidatedBatch]:
    d1, d2, d3, d4 = (
        at("2026-11-02T10:00:00"),
        at("2026-11-03T09:00:00"),
        at("2026-11-09T14:00:00"),
        at("2026-11-16T08:00:00"),
    )
    return [
        events_batch("demo", d1, [
            page_view("g-01", "/", "s1", "u1", d1 - 2 * SECOND),
            page_view("g-02", "/pricing", "s1", "u1", d1 - SECOND),
            click("g-03", "sign-up", "s1", "u1", d1 - 500),
            page_view("g-04", "/", "s2", "a2", d1 - 10 * SECOND),
            page_view("g-05", "/pricing", "s2", "a2", d1 - 5 * SECOND),
            click("g-06", "sign-up", "s2", "a2", d1 - 4 * SECOND),
            page_view("g-07", "/pricing", "s3", "u3", d1 - 3 * SECOND),
            click("g-08", "read-docs", "s3", "u3", d1 - 2 * SECOND),
        ]),
        segment_batch("demo", d1 + 5 * MINUTE, [
            {"type": "track", "messageId": "g-09", "event": "Signed Up", "userId": "u1",
             "properties": {"plan": "pro", "seats": 3}, "context": {"library": {"name": "analytics-node"}},
             "timestamp": "2026-11-02T10:04:59.000Z", "sentAt": "2026-11-02T10:05:00.000Z"},
        ]),
        events_batch("demo", d1 + 6 * MINUTE, [page_view("g-01", "/", "s1", "u1", d1 - 2 * SECOND)]),  # resent
        events_batch("demo-two", d1 + 2 * HOUR, [page_view("t-01", "/", "x1", "x1", d1 + 2 * HOUR - SECOND)]),
        events_batch("demo", d2, [
            page_view("g-10", "/docs", "s4", "u1", d2 - SECOND),
            {"event_type": "track", "event_id": "g-11", "name": "Invited Teammate", "user_id": "u1",
             "properties": {"plan": "pro", "invitee": {"role": "admin"}},
             "context": {"library": {"name": "event-collector-js", "version": "1"}}, "timestamp": d2 - SECOND},
            page_view("g-12", "/", "s5", "a2", d2 - 2 * SECOND),
        ]),
        events_batch("demo", d3, [
            page_view("g-13", "/", "s6", "u1", d3 - SECOND),
            page_view("g-14", "/pricing", "s7", "u4", d3 - 3 * SECOND),
            click("g-15", "sign-up", "s7", "u4", d3 - 2 * SECOND),
            page_view("g-16", "/pricing", "s8", "a2", d3 - 3 * HOUR),
            page_view("g-18", "/docs", "s6", "u1", d3 - 5 * MINUTE),
        ]),
        segment_batch("demo", d3 + 10 * MINUTE, [
            {"messageId": "g-17", "event": "Signed Up", "userId": "u4", "properties": {"plan": "team", "seats": 10},
             "context": {"library": {"name": "analytics.js"}}, "timestamp": "2026-11-09T14:09:30.000Z",
             "sentAt": "2026-11-09T14:10:00.000Z"},
        ], route_type="track"),
        events_batch("demo", d4, [click("g-19", "read-docs", "s9", "u3", d4 - 2 * DAY)]),
        events_batch("demo", d4 + 30 * MINUTE, [  # the client's clock is one hour behind
            page_view("g-20", "/docs", "s10", "u1", d4 - 30 * MINUTE - SECOND),
            page_view("g-21", "/", "s11", "u4", d4 - 30 * MINUTE - 2 * SECOND),
        ], sent_at=d4 - 30 * MINUTE),
    ]  # fmt: skip


def deliver(stack: RunningStack) -> None:
    """Every batch through the collector's ingestor to the stack's Firehose (no counters: not read here)."""
    ingestor = EventIngestor(FirehoseRecordSink(stack.aws("firehose"), stack.info["delivery_stream"]))
    for batch in batches():
        result = ingestor.ingest(batch)
        assert (result.accepted, result.rejected) == (len(batch.accepted), []), result
