"""Segment's HTTP Tracking API: its messages validated and mapped onto our event types (docs/clients.md).

| Segment ``type`` | stored ``event_type`` | its own fields |
|---|---|---|
| ``track`` | ``track`` | ``name`` (``event``), ``properties`` |
| ``page`` | ``page_view`` | ``name``, ``category``, ``properties``; ``url``, ``referral_url``, |
|  |  | ``useragent``, ``ipaddress`` copied from ``properties``/``context`` when they are text |
| ``screen`` | ``screen`` | ``name``, ``category``, ``properties`` |
| ``identify`` | ``identify`` | ``traits`` |
| ``group`` | ``group`` | ``group_id``, ``traits`` |
| ``alias`` | ``alias`` | ``previous_id`` |

Every type also keeps ``user_id``, ``anonymous_id``, ``context`` and
``integrations``; any other top-level field a library adds is kept whole in
``extra``, and so are another type's fields (``traits`` on a ``track``) and
``timestamp`` and ``sentAt`` as the client wrote them,
so nothing a client sent is dropped, but for a ``writeKey``: a credential is
never stored. ``messageId`` is the event id (a resend
deduplicates); the ``timestamp`` column is epoch milliseconds corrected by
``sentAt``, as our own API's ``sent_at`` corrects it. As Segment requires, each message names a user
(``userId`` or ``anonymousId``), a track its ``event``, an alias its
``previousId`` and ``userId``. A ``track`` is checked against the tenant's plan for its ``event``, or its
policy for unplanned names (``custom.track_plan_problems``), as our own ``track`` is.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from event_collector.errors import ClientInputError
from event_collector.ingest.models import ClientId, Identity, LakeObject, PrintableText, RejectedEvent, Timestamp
from event_collector.ingest.validation import (
    AcceptedEvent,
    ValidatedBatch,
    error_messages,
    event_id_of,
    size_problem,
    stored_event,
)
from event_collector.json_values import problems_in_value
from event_collector.schemas.cache import TenantLookup

SegmentType = Literal["track", "page", "screen", "identify", "group", "alias"]
EVENT_TYPES: dict[str, str] = {
    "track": "track",
    "page": "page_view",
    "screen": "screen",
    "identify": "identify",
    "group": "group",
    "alias": "alias",
}
MAX_BATCH_BYTES = 500 * 1024  # Segment's limit for a batch (and ours for every Segment route)
MAX_MESSAGES = 2500


def _text_id(value: Any) -> Any:
    """Segment's libraries send ids as strings; some send numbers, which are ids all the same."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


SegmentId = Annotated[Identity, BeforeValidator(_text_id)]
Label = Annotated[PrintableText, Field(max_length=1024)]


class SegmentMessage(BaseModel):
    """One message as Segment's libraries send it; unknown top-level fields are kept (``extra``)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    type: SegmentType
    messageId: ClientId | None = None
    timestamp: Timestamp | None = None
    sentAt: Timestamp | None = None
    userId: SegmentId | None = None
    anonymousId: SegmentId | None = None
    event: Annotated[PrintableText, Field(min_length=1, max_length=128)] | None = None
    name: Label | None = None
    category: Label | None = None
    properties: LakeObject | None = None
    traits: LakeObject | None = None
    context: LakeObject | None = None
    integrations: LakeObject | None = None
    groupId: SegmentId | None = None
    previousId: SegmentId | None = None

    @model_validator(mode="after")
    def _required_by_type(self) -> SegmentMessage:
        if self.type == "alias":
            if self.previousId is None or self.userId is None:
                raise ValueError("an alias names its previousId and userId")
        elif self.userId is None and self.anonymousId is None:
            raise ValueError("a message names its user: userId or anonymousId")
        if self.type == "track" and self.event is None:
            raise ValueError("a track message names its event")
        if self.type == "group" and self.groupId is None:
            raise ValueError("a group message names its groupId")
        problems = problems_in_value(self.model_extra or {})
        if problems:
            raise ValueError("; ".join(problems[:5]))
        return self


def _copied_text(*candidates: Any) -> str | None:
    """The first candidate that is printable text of at most 8,192 characters (a derived column)."""
    from event_collector.identifiers import has_control_characters

    for value in candidates:
        if isinstance(value, str) and value and len(value) <= 8192 and not has_control_characters(value):
            return value
    return None


# The fields of one message type or another, and those each type stores in columns of its own; a message that
# carries another type's field (``traits`` on a track) keeps it in ``extra``, never drops it.
TYPE_FIELDS = ("event", "name", "category", "properties", "traits", "groupId", "previousId")
OWN_FIELDS: dict[str, frozenset[str]] = {
    "track": frozenset({"event", "properties"}),
    "page": frozenset({"name", "category", "properties"}),
    "screen": frozenset({"name", "category", "properties"}),
    "identify": frozenset({"traits"}),
    "group": frozenset({"traits", "groupId"}),
    "alias": frozenset({"previousId"}),
}


def stored_fields(message: SegmentMessage, as_sent: dict[str, Any] | None = None) -> dict[str, Any]:
    """``as_sent``: the message's fields exactly as the client wrote them, where a column holds them
    converted (the ISO ``timestamp`` and ``sentAt``); kept in ``extra``, with every field the type has no
    column for."""
    own = OWN_FIELDS[message.type]
    others = {name: getattr(message, name) for name in TYPE_FIELDS if name not in own}
    extra = {
        **(message.model_extra or {}),
        **{name: value for name, value in others.items() if value is not None},
        **(as_sent or {}),
    }
    extra.pop("writeKey", None)  # a credential (Segment's browser library puts it in each message): never stored
    fields: dict[str, Any] = {
        "user_id": message.userId,
        "anonymous_id": message.anonymousId,
        "context": message.context,
        "integrations": message.integrations,
        "extra": extra or None,
    }
    if message.type == "track":
        fields |= {"name": message.event, "properties": message.properties or {}}
    elif message.type in ("page", "screen"):
        fields |= {"name": message.name, "category": message.category, "properties": message.properties}
    elif message.type in ("identify", "group"):
        fields["traits"] = message.traits
    if message.type == "group":
        fields["group_id"] = message.groupId
    if message.type == "alias":
        fields["previous_id"] = message.previousId
    if message.type == "page":
        properties, context = message.properties or {}, message.context or {}
        given_page = context.get("page")
        page: dict[str, Any] = given_page if isinstance(given_page, dict) else {}
        fields |= {
            "url": _copied_text(properties.get("url"), page.get("url")),
            "referral_url": _copied_text(properties.get("referrer"), page.get("referrer")),
            "useragent": _copied_text(context.get("userAgent")),
            "ipaddress": _copied_text(context.get("ip")),
        }
    return fields


def validate_messages(
    messages: list[Any],
    *,
    tenant: str,
    received_at: int,
    sent_at: int | None = None,
    message_type: str | None = None,
    request_id: str | None = None,
    schemas: TenantLookup | None = None,
) -> ValidatedBatch:
    """Each message on its own, as our own API's events are. ``message_type``: the type a single-message
    route implies (``/v1/track``); ``sent_at``: the batch's ``sentAt``, when a message has none;
    ``schemas``: the tenant's track plans (None: none)."""
    request_id = request_id or uuid.uuid4().hex
    if not messages:
        raise ClientInputError(400, "empty_batch", "'batch' must hold at least one message")
    if len(messages) > MAX_MESSAGES:
        raise ClientInputError(413, "too_many_events", f"A batch holds at most {MAX_MESSAGES} messages")
    accepted: list[AcceptedEvent] = []
    rejected: list[RejectedEvent] = []
    for index, raw in enumerate(messages):
        outcome = _one(raw, index, tenant, received_at, sent_at, message_type, request_id, schemas)
        if isinstance(outcome, AcceptedEvent):
            accepted.append(outcome)
        else:
            rejected.append(RejectedEvent(index=index, event_id=event_id_of(raw, "messageId"), errors=outcome))
    return ValidatedBatch(accepted=accepted, rejected=rejected)


def _one(
    raw: Any,
    index: int,
    tenant: str,
    received_at: int,
    sent_at: int | None,
    message_type: str | None,
    request_id: str,
    schemas: TenantLookup | None,
) -> AcceptedEvent | list[str]:
    if not isinstance(raw, dict):
        return ["a message must be a JSON object"]
    too_large = size_problem(raw)  # Segment's 32 KB, on the message as sent (with a batch's defaults)
    if too_large:
        return too_large
    if message_type is not None:
        if raw.get("type", message_type) != message_type:
            return [f"type: this route takes {message_type} messages"]
        raw = {**raw, "type": message_type}
    try:
        message = SegmentMessage.model_validate(raw)
    except ValidationError as error:
        return error_messages(error)
    if schemas is not None and message.type == "track" and message.event is not None:
        from event_collector.ingest.custom import track_plan_problems  # with the first plan: not at cold start

        problems = track_plan_problems(message.event, message.properties or {}, schemas, name_field="event")
        if problems:
            return problems
    clock = message.sentAt if message.sentAt is not None else sent_at
    offset = 0 if clock is None else received_at - clock
    as_sent = {name: raw[name] for name in ("timestamp", "sentAt") if isinstance(raw.get(name), str)}
    return stored_event(
        EVENT_TYPES[message.type],
        event_id=message.messageId or f"{request_id}-{index}",
        tenant=tenant,
        received_at=received_at,
        timestamp=None if message.timestamp is None else message.timestamp + offset,
        fields=stored_fields(message, as_sent),
    )
