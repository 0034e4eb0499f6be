"""Event and API models (pydantic v2); the OpenAPI document is generated from them.

Every built-in event type is a model with ``extra="forbid"``: a field the
type does not declare is an error, so typos never pass silently.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    WithJsonSchema,
    model_validator,
)

from event_collector.event_types import DECLARED_FIELDS, EARLIEST_TIMESTAMP_MS, LATEST_TIMESTAMP_MS
from event_collector.identifiers import EVENT_TYPE_PATTERN, MAX_CLIENT_ID_LENGTH, has_control_characters, is_client_id
from event_collector.json_values import is_valid_unicode, problems_in_value
from event_collector.schemas.registry import RegisteredSchema, TenantSchemas, UnplannedPolicy

# The server owns these; a client that sends them gets a clear per-event error.
SERVER_OWNED_FIELDS = ("tenant", "received_at")


def _printable(value: str) -> str:
    if has_control_characters(value):
        raise ValueError("must not contain control characters")
    if not is_valid_unicode(value):
        raise ValueError("must be valid Unicode")
    return value


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MILLISECOND = timedelta(milliseconds=1)


def epoch_millis_of(moment: datetime) -> int:
    """``moment`` (with a time zone) as epoch milliseconds, exactly: integer arithmetic on the datetime,
    never float seconds (``timestamp() * 1000`` is 1 ms short for about 1 instant in 170). Digits below
    the millisecond are dropped toward the past (a floor), for every form (docs/api.md)."""
    return (moment - EPOCH) // _ONE_MILLISECOND


def _epoch_millis(value: Any) -> int:
    """Epoch milliseconds (an integer) or an ISO 8601 string with a time zone, as epoch milliseconds."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("must be an ISO 8601 date-time") from None
        if parsed.tzinfo is None:
            raise ValueError("must carry a time zone (for example 2026-01-31T12:00:00Z)")
        value = epoch_millis_of(parsed)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be epoch milliseconds (an integer) or an ISO 8601 string")
    if not EARLIEST_TIMESTAMP_MS <= value < LATEST_TIMESTAMP_MS:
        raise ValueError("must be between 2000-01-01 and 2100-01-01")
    return value


PrintableText = Annotated[str, AfterValidator(_printable)]


# An event id (``event_id``, Segment's ``messageId``): data, never part of a path or key, so any printable text
# (identifiers.CLIENT_ID_PATTERN, which the fan-out checks, is the same rule).
def _client_id(value: str) -> str:
    if not is_client_id(value):  # printable already: what is left is a bidirectional formatting character
        raise ValueError(
            "must not contain bidirectional formatting characters (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069)"
        )
    return value


ClientId = Annotated[
    PrintableText,
    AfterValidator(_client_id),
    Field(
        min_length=1,
        max_length=MAX_CLIENT_ID_LENGTH,
        description=(
            f"1-{MAX_CLIENT_ID_LENGTH} characters of printable text (no control or bidirectional formatting characters)"
        ),
    ),
]
Url = Annotated[PrintableText, Field(min_length=1, max_length=2048)]
# Epoch milliseconds, or an ISO 8601 string with a time zone; stored as epoch milliseconds.
Timestamp = Annotated[
    int,
    BeforeValidator(_epoch_millis),
    WithJsonSchema({"oneOf": [{"type": "integer"}, {"type": "string", "format": "date-time"}]}),
]


def _properties_are_lake_safe(value: dict[str, Any]) -> dict[str, Any]:
    problems = problems_in_value(value)
    if problems:
        raise ValueError("; ".join(problems[:5]))
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _SeedBody(BaseModel):
    """The original collector's bodies: unknown fields are ignored, as they were there."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# Data fields take any printable text, as the original collector did (empty included); only values
# that build storage paths or keys are restricted (tenant, event_type, event_id).
SeedId = Annotated[PrintableText, Field(max_length=1024)]
SeedText = Annotated[PrintableText, Field(max_length=8192)]


class PageViewFields(_SeedBody):
    """The seed-compatible body of ``POST /web/page_view``."""

    url: SeedText
    session_id: SeedId
    referral_url: SeedText | None = None
    ipaddress: Annotated[PrintableText, Field(max_length=256)] | None = None
    useragent: SeedText | None = None


class ButtonClickFields(_SeedBody):
    """The seed-compatible body of ``POST /button/click``."""

    session_id: SeedId
    button_id: SeedId


LakeObject = Annotated[dict[str, Any], AfterValidator(_properties_are_lake_safe)]
Identity = Annotated[PrintableText, Field(min_length=1, max_length=256)]


class EventBase(_Strict):
    event_type: str
    event_id: ClientId | None = Field(default=None, description="Idempotency key; generated when absent")
    timestamp: Timestamp | None = Field(default=None, description="Client time of the event")
    user_id: Identity | None = Field(default=None, description="Your id of the user, once known")
    anonymous_id: Identity | None = Field(default=None, description="A browser's or device's id before that")
    context: LakeObject | None = Field(
        default=None, description="Where it happened: page, user agent, library, campaign ... (stored as JSON text)"
    )

    @model_validator(mode="before")
    @classmethod
    def _refuse_server_owned_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in SERVER_OWNED_FIELDS:
                if name in data:
                    raise ValueError(f"'{name}' is set by the server and must not be sent")
        return data

    def payload(self) -> dict[str, Any]:
        """The type's own fields, as stored (absent optionals left out)."""
        return self.model_dump(exclude={"event_type", "event_id", "timestamp"}, exclude_none=True)


class PageView(EventBase, PageViewFields):
    model_config = ConfigDict(extra="forbid", frozen=True)
    event_type: Literal["page_view"]


class ButtonClick(EventBase, ButtonClickFields):
    model_config = ConfigDict(extra="forbid", frozen=True)
    event_type: Literal["button_click"]


class Track(EventBase):
    """A generic named event with free-form properties (like Segment's ``track``)."""

    event_type: Literal["track"]
    name: Annotated[PrintableText, Field(min_length=1, max_length=128)]
    properties: LakeObject = Field(default_factory=dict)


_BUILT_IN_TYPES: list[JsonValue] = [name for name in sorted(DECLARED_FIELDS)]  # noqa: C416 - typed for pydantic


class CustomEvent(EventBase):
    """An event of a type the tenant registered (``event-collector-admin put-schema``): this envelope, and the
    type's own fields, checked against the latest version of its JSON Schema (docs/schemas.md). Another
    tenant's type is unknown here, as a type never registered."""

    # defer_build: built with a container's first custom event, not at every cold start (bench/cold_import_bench.py)
    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)
    event_type: str = Field(
        pattern=EVENT_TYPE_PATTERN,
        description="A type this tenant registered",
        json_schema_extra={"not": {"enum": _BUILT_IN_TYPES}},
    )


EVENT_MODELS: dict[str, type[EventBase]] = {
    "page_view": PageView,
    "button_click": ButtonClick,
    "track": Track,
}


class EventBatch(_Strict):
    """Body of ``POST /v1/events``. Events are validated one by one so that
    one bad event does not reject the rest."""

    events: list[Any] = Field(
        description=(
            "Events of a built-in type ("
            + ", ".join(sorted(EVENT_MODELS))
            + ") or of a type the tenant registered with its JSON Schema (CustomEvent)"
        ),
        json_schema_extra={"items": {"type": "object"}},
    )
    sent_at: Timestamp | None = Field(default=None, description="Client clock when sending, for skew correction")


class SegmentBatch(BaseModel):
    """Body of Segment's ``POST /v1/batch``: messages of any type; ``context`` and ``integrations`` here
    apply to every message that does not set its own (docs/clients.md)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    batch: list[Any] = Field(json_schema_extra={"items": {"type": "object"}})
    sentAt: Timestamp | None = Field(default=None, description="Client clock when sending")
    context: dict[str, Any] | None = None
    integrations: dict[str, Any] | None = None


class RejectedEvent(BaseModel):
    index: int
    event_id: str | None = None
    errors: list[str]


# Events of a suppressed user are answered as accepted (the client must not resend them) and not stored; the
# answer says how many, only when there are some (docs/privacy.md).
Suppressed = Annotated[
    int,
    Field(
        exclude_if=lambda count: count == 0,
        description="Of the accepted events, how many were not stored: their user is suppressed (absent when 0)",
    ),
]


class BatchResult(BaseModel):
    accepted: int
    rejected: list[RejectedEvent]
    suppressed: Suppressed = 0


class SegmentResult(BaseModel):
    """What Segment's API answers (``success``), with our per-message results besides."""

    success: Literal[True] = True
    accepted: int
    rejected: list[RejectedEvent]
    suppressed: Suppressed = 0


class ReceivedMessage(BaseModel):
    message: Literal["Received"] = "Received"


class CountResult(BaseModel):
    count: int


class HourlyCount(BaseModel):
    hour: str = Field(description="Start of the hour, ISO 8601 UTC")
    count: int


class CountsResult(BaseModel):
    event_type: str
    key: str | None
    total: int = Field(
        description=(
            "Running total of the key (or of the whole type) over the days kept; real-time: it includes every "
            "event whose request was answered 200 (unless the stack counts delivered data: CountingMode)"
        )
    )
    hourly: list[HourlyCount]
    overflow: int | None = Field(
        default=None,
        description="Without 'key': events of keys over the per-hour cardinality limit, counted together",
    )


class SchemaView(BaseModel):
    """The latest version of one of a tenant's schemas (docs/schemas.md)."""

    version: int = Field(description="The latest version (versions are numbered 1, 2, ...)")
    registered_at: int = Field(description="When it was registered, epoch milliseconds")
    document: dict[str, Any] = Field(description="The JSON Schema (draft 2020-12) as registered")

    @classmethod
    def of(cls, schema: RegisteredSchema) -> SchemaView:
        return cls(version=schema.version, registered_at=schema.registered_at, document=dict(schema.document))


class SchemasResult(BaseModel):
    """A tenant's own event types and tracking plans, as the collector validates events against them."""

    types: dict[str, SchemaView] = Field(description="Event types the tenant registered, by name")
    tracks: dict[str, SchemaView] = Field(description="Tracking plans of track events' properties, by event name")
    unplanned: UnplannedPolicy = Field(description="What happens to a track event whose name has no plan")

    @classmethod
    def of(cls, schemas: TenantSchemas) -> SchemasResult:
        return cls(
            types={name: SchemaView.of(schema) for name, schema in sorted(schemas.types.items())},
            tracks={name: SchemaView.of(schema) for name, schema in sorted(schemas.tracks.items())},
            unplanned=schemas.unplanned,
        )


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class ErrorBody(BaseModel):
    error: str = Field(description="Stable machine-readable code")
    message: str
    details: Any = None
