"""Tenants' own event types and tracking plans at the edge (docs/schemas.md, "Sending").

A custom event is ``{"event_type": "<the tenant's type>", ...envelope..., ...its own fields...}``. The
envelope (``event_id``, ``timestamp``, ``user_id``, ``anonymous_id``, ``context``) is checked by the rules of
every built-in type (``models.CustomEvent``, an ``EventBase``: ``tenant`` and ``received_at`` refused, as
``schema_version`` here), the rest against the latest version of the tenant's schema
(``schemas/validator.py``). The stored line follows the contract with compaction (docs/schemas.md, "The
stored line of a custom event"): ``schema_version`` as text, a ``string`` or ``timestamp`` field as sent,
every other kind as canonical JSON text, undeclared fields of an open top level together in ``extra``.

A ``track`` event (ours, or a Segment ``track`` message) whose name has a plan has its ``properties``
checked against it, errors pointing under ``/properties``; one without a plan follows the tenant's
policy for unplanned names (accept by default, or reject).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from event_collector.ingest.models import CustomEvent
from event_collector.ingest.validation import AcceptedEvent, error_messages, stored_event
from event_collector.json_values import canonical_json
from event_collector.schemas.cache import TenantLookup
from event_collector.schemas.names import EXTRA_FIELD
from event_collector.schemas.registry import RegisteredSchema
from event_collector.schemas.validator import SchemaNotCompiled, compiled

SCHEMA_VERSION_FIELD = "schema_version"
TEXT_KINDS = frozenset({"string", "timestamp"})  # stored as sent; every other kind as canonical JSON text


def validate_custom_event(
    raw: Mapping[str, Any],
    schema: RegisteredSchema,
    *,
    tenant: str,
    received_at: int,
    clock_offset: int,
    generated_event_id: str,
) -> AcceptedEvent | list[str]:
    """The stored line of a custom event of ``schema`` (its type's latest version), or why not."""
    if SCHEMA_VERSION_FIELD in raw:
        return [f"'{SCHEMA_VERSION_FIELD}' is set by the server and must not be sent"]
    try:
        event = CustomEvent.model_validate(raw)
    except ValidationError as error:
        return error_messages(error)
    own = event.model_extra or {}
    try:
        checker = compiled(schema)
    except SchemaNotCompiled as error:
        return [f"event_type: version {schema.version} of {schema.name!r} cannot be used: {error}"]
    checked = checker.check(own)
    if isinstance(checked, list):
        return checked
    fields: dict[str, Any] = {
        "user_id": event.user_id,
        "anonymous_id": event.anonymous_id,
        "context": event.context,
        SCHEMA_VERSION_FIELD: str(schema.version),
    }
    extra = dict(checked)
    for field in checker.fields:
        value = extra.pop(field.name, None)
        if value is not None:
            fields[field.name] = value if field.shape.kind in TEXT_KINDS else stored_json_text(value)
    if extra:
        fields[EXTRA_FIELD] = extra
    return stored_event(
        schema.name,
        event_id=event.event_id or generated_event_id,
        tenant=tenant,
        received_at=received_at,
        timestamp=None if event.timestamp is None else event.timestamp + clock_offset,
        fields=fields,
    )


def stored_json_text(value: Any) -> str:
    """``canonical_json(value)``, without the encoder for a number (the same text: json writes an integer
    and a finite float by their ``repr``; tests/event_collector/ingest/test_custom_events.py holds them equal)."""
    kind = type(value)
    if kind is int or kind is float:
        return repr(value)
    return canonical_json(value)


def track_plan_problems(
    name: str, properties: Mapping[str, Any], schemas: TenantLookup | None, *, name_field: str = "name"
) -> list[str]:
    """Why a ``track`` event named ``name`` is refused by its tenant's plans (empty if it is not);
    ``name_field``: the field that carried the name (``event`` in a Segment message)."""
    if schemas is None:
        return []
    plan = schemas.track_plan(name)
    if plan is None:
        if schemas.unplanned == "reject":
            quoted = canonical_json(name)
            return [f"{name_field}: no tracking plan for {quoted} and this tenant rejects unplanned events"]
        return []
    problems = _plan_check(plan, name, properties, name_field)
    newer = schemas.newer(plan) if problems else None  # refused by the kept version: the one registered since
    return problems if newer is None else _plan_check(newer, name, properties, name_field)


def _plan_check(plan: RegisteredSchema, name: str, properties: Mapping[str, Any], name_field: str) -> list[str]:
    try:
        checked = compiled(plan).check(properties, "/properties")
    except SchemaNotCompiled as error:
        return [f"{name_field}: version {plan.version} of the plan for {canonical_json(name)} cannot be used: {error}"]
    return checked if isinstance(checked, list) else []
