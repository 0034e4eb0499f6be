"""Validate and enrich events one by one: the enriched line that is stored, or the reasons it is not.

One bad event never rejects its batch (partial acceptance); every rejection
names its index and its reasons. The server alone sets ``tenant``,
``received_at``, generated ``event_id`` s and the skew-corrected ``timestamp``.

An ``event_type`` that is not built-in is looked up among the tenant's own types (``schemas``, read
through the container's cache only when an event needs it: a batch of built-in types other than
``track`` never reads it) and checked by ``custom.py``, which builds on :func:`stored_event`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from event_collector.errors import ClientInputError
from event_collector.event_types import COUNTER_FIELDS, DECLARED_FIELDS, EARLIEST_TIMESTAMP_MS
from event_collector.identifiers import is_client_id, is_event_type
from event_collector.ingest.models import EVENT_MODELS, RejectedEvent, Track
from event_collector.json_values import canonical_json, compact_json
from event_collector.schemas.cache import TenantLookup

MAX_EVENTS_PER_BATCH = 500
MAX_BODY_BYTES = 1024 * 1024
# An event's limit, measured on the event as the client sent it: its compact JSON in UTF-8 (``sent_size``).
MAX_EVENT_BYTES = 32 * 1024
# The stored line is larger (enrichment; nested values stored as JSON text, so their quotes and backslashes
# are escaped again; a Segment page's copied columns): at most about 4x an event within MAX_EVENT_BYTES.
# This bound is a safety net far under Firehose's 1,000 KiB record, never reached by such an event.
MAX_STORED_LINE_BYTES = 256 * 1024
# Clients may be ahead of the server by a little; far-future events are errors.
MAX_FUTURE_SKEW_MS = 24 * 3600 * 1000


def stored_value(value: Any) -> str:
    """A field as the lake stores it: text as is; anything else (``properties`` and every other nested
    value) as canonical JSON text, so the stored line holds only text and the two epoch numbers, and
    what was accepted is what every reader gets back, exactly (docs/guarantees.md)."""
    return value if isinstance(value, str) else canonical_json(value)


@dataclass(frozen=True)
class AcceptedEvent:
    event_type: str
    line: bytes
    tenant: str
    received_at: int
    counter_key: str | None  # the value of the type's counter field (COUNTER_FIELDS), if it has one
    # The stored record ``line`` encodes, for what reads its fields (a suppressed user's events: privacy/).
    record: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class ValidatedBatch:
    accepted: list[AcceptedEvent]
    rejected: list[RejectedEvent]


def error_messages(error: ValidationError) -> list[str]:
    """Each problem pydantic found, as ``<field path>: <message>`` (the texts every 4xx names)."""
    messages = []
    for item in error.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        messages.append(f"{location}: {message}" if location else message)
    return messages


def sent_size(raw: Any) -> int:
    """An event's size as sent: its compact JSON encoding in UTF-8 (no insignificant whitespace, no
    escapes JSON does not require), so a client's spacing or ``\\u`` escapes never count, and neither does
    how the lake escapes nested values (docs/api.md, "Limits")."""
    return len(compact_json(raw).encode("utf-8", errors="surrogatepass"))


def size_problem(raw: Any) -> list[str]:
    size = sent_size(raw)
    if size > MAX_EVENT_BYTES:
        return [f"event is {size} bytes as sent (compact JSON); the limit is {MAX_EVENT_BYTES}"]
    return []


def event_id_of(raw: Any, name: str = "event_id") -> str | None:
    """The event id a rejected event carried, to name it in the answer, if it is a valid one."""
    value = raw.get(name) if isinstance(raw, dict) else None
    return value if is_client_id(value) else None


def validate_event(
    raw: Any,
    *,
    tenant: str,
    received_at: int,
    clock_offset: int,
    generated_event_id: str,
    schemas: TenantLookup | None = None,
) -> AcceptedEvent | list[str]:
    """Return the enriched event, or the list of reasons it was rejected. ``schemas``: the tenant's own
    types and track plans (None: built-in types only, no plan)."""
    if not isinstance(raw, dict):
        return ["event must be a JSON object"]
    event_type = raw.get("event_type")
    model = EVENT_MODELS.get(event_type) if isinstance(event_type, str) else None
    if model is None:
        return _validate_custom(raw, event_type, tenant, received_at, clock_offset, generated_event_id, schemas)
    too_large = size_problem(raw)
    if too_large:
        return too_large
    try:
        event = model.model_validate(raw)
    except ValidationError as error:
        return error_messages(error)
    if schemas is not None and isinstance(event, Track):
        from event_collector.ingest.custom import track_plan_problems  # custom.py builds on this module

        problems = track_plan_problems(event.name, event.properties, schemas)
        if problems:
            return problems

    return stored_event(
        event.event_type,
        event_id=event.event_id or generated_event_id,
        tenant=tenant,
        received_at=received_at,
        timestamp=None if event.timestamp is None else event.timestamp + clock_offset,
        fields=event.payload(),
    )


def _validate_custom(
    raw: dict[str, Any],
    event_type: Any,
    tenant: str,
    received_at: int,
    clock_offset: int,
    generated_event_id: str,
    schemas: TenantLookup | None,
) -> AcceptedEvent | list[str]:
    # A built-in type not sent here (Segment's screen) or a name no type can have is never looked up.
    known = isinstance(event_type, str) and is_event_type(event_type) and event_type not in DECLARED_FIELDS
    schema = schemas.event_type(event_type) if schemas is not None and known else None
    if schema is None:
        others = " or a type registered for this tenant" if schemas is not None else ""
        return [f"event_type: must be one of {', '.join(sorted(EVENT_MODELS))}{others}"]
    too_large = size_problem(raw)
    if too_large:
        return too_large
    from event_collector.ingest.custom import validate_custom_event  # custom.py builds on this module

    outcome = validate_custom_event(
        raw,
        schema,
        tenant=tenant,
        received_at=received_at,
        clock_offset=clock_offset,
        generated_event_id=generated_event_id,
    )
    newer = schemas.newer(schema) if isinstance(outcome, list) and schemas is not None else None
    if newer is None:
        return outcome
    return validate_custom_event(  # refused by the kept version: the one registered since decides
        raw,
        newer,
        tenant=tenant,
        received_at=received_at,
        clock_offset=clock_offset,
        generated_event_id=generated_event_id,
    )


def stored_event(
    event_type: str,
    *,
    event_id: str,
    tenant: str,
    received_at: int,
    timestamp: int | None,
    fields: dict[str, Any],
) -> AcceptedEvent | list[str]:
    """The line the lake stores for an accepted event (every API's events go through here), or why not:
    ``timestamp`` already corrected for the client's clock; ``fields`` stored as text (``stored_value``)."""
    timestamp = received_at if timestamp is None else timestamp
    if timestamp > received_at + MAX_FUTURE_SKEW_MS:
        return ["timestamp: more than 24 hours in the future"]
    if timestamp < EARLIEST_TIMESTAMP_MS:
        return ["timestamp: before 2000-01-01 once corrected by sent_at"]
    record = {
        "event_id": event_id,
        "event_type": event_type,
        "tenant": tenant,
        "received_at": received_at,
        "timestamp": timestamp,
        **{name: stored_value(value) for name, value in fields.items() if value is not None},
    }
    # Compact, UTF-8 as is (lone surrogates were refused earlier).
    line = compact_json(record).encode("utf-8") + b"\n"
    if len(line) > MAX_STORED_LINE_BYTES:
        return [f"event is {len(line)} bytes once stored; the limit is {MAX_STORED_LINE_BYTES}"]
    counted = record.get(COUNTER_FIELDS.get(event_type, ""))
    return AcceptedEvent(
        event_type=event_type,
        line=line,
        tenant=tenant,
        received_at=received_at,
        counter_key=counted if isinstance(counted, str) else None,
        record=record,
    )


def validate_batch(
    events: list[Any],
    *,
    tenant: str,
    received_at: int,
    sent_at: int | None = None,
    request_id: str | None = None,
    schemas: TenantLookup | None = None,
) -> ValidatedBatch:
    """Validate and enrich every event; ``request_id`` (random when absent) prefixes generated event ids;
    ``schemas``: the tenant's own types and track plans, read once, when an event first needs them.

    A generated id is ``<request id>-<index>``: unique without one UUID per event,
    and it tells which request an event came from.
    """
    request_id = request_id or uuid.uuid4().hex
    if len(events) > MAX_EVENTS_PER_BATCH:
        raise ClientInputError(
            413, "too_many_events", f"A batch holds at most {MAX_EVENTS_PER_BATCH} events; got {len(events)}"
        )
    if not events:
        raise ClientInputError(400, "empty_batch", "'events' must hold at least one event")
    clock_offset = 0 if sent_at is None else received_at - sent_at
    accepted: list[AcceptedEvent] = []
    rejected: list[RejectedEvent] = []
    for index, raw in enumerate(events):
        outcome = validate_event(
            raw,
            tenant=tenant,
            received_at=received_at,
            clock_offset=clock_offset,
            generated_event_id=f"{request_id}-{index}",
            schemas=schemas,
        )
        if isinstance(outcome, AcceptedEvent):
            accepted.append(outcome)
        else:
            rejected.append(RejectedEvent(index=index, event_id=event_id_of(raw), errors=outcome))
    return ValidatedBatch(accepted=accepted, rejected=rejected)
