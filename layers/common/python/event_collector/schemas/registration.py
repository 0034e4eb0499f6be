"""Registering a schema: a tenant's event type or tracking plan, accepted as its next version or refused.

Pure: the registry (``registry.SchemaRegistry``) is passed in, and the time. What is checked, in order
(docs/schemas.md, "Registering"):

- the name: a type's follows ``names.event_type_problems`` (an identifier, no built-in type, no table the
  lake has); a track event's name is printable text of 1-128 characters;
- for a type, its owner: the first tenant to register a type name owns it, and to any other the name is
  taken (the message never names the owner);
- the document: a type's by ``evolution.decide`` against its latest version (the document's rules, then
  what a new version may change); a tracking plan's by the document's rules without the lake's name rules,
  since its ``properties`` stay JSON text in the ``track`` table (``read_schema(lake_names=False)``), and any
  valid plan may follow another.

The same document as the latest version is accepted as that version, and nothing is stored. Two
registrations of one schema at once race for the same version number: the loser reads again and decides
again, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from event_collector.errors import StorageError
from event_collector.identifiers import TENANT_ID_PATTERN, is_tenant_id
from event_collector.json_values import canonical_json, compact_json, is_valid_unicode
from event_collector.schemas import evolution
from event_collector.schemas.fields import read_schema
from event_collector.schemas.names import event_type_problems, track_name_problem
from event_collector.schemas.registry import (
    RegisteredSchema,
    SchemaKind,
    SchemaRegistry,
    TypeTaken,
    VersionTaken,
)
from event_collector.schemas.validator import compile_problems

MAX_VERSION = 999_999  # aws/schemas_table.py keeps six digits
TYPE_TAKEN = "this event type is registered by another tenant: choose another name"


@dataclass(frozen=True)
class Registered:
    kind: SchemaKind
    name: str
    version: int  # the version stored, or the latest one when unchanged
    unchanged: bool  # the document is the latest version's: nothing was stored
    added: tuple[str, ...]  # the fields it adds, as JSON pointers into an event (or into a track's properties)


@dataclass(frozen=True)
class Refused:
    messages: tuple[str, ...]  # one per problem, each naming its field (``/total: ...``) or place (``#/...``)


Registration = Registered | Refused


def register(
    registry: SchemaRegistry, tenant: str, kind: SchemaKind, name: str, document: Any, now_ms: int
) -> Registration:
    """Store ``document`` as the next version of the tenant's ``kind`` schema ``name``, or say why not."""
    problems = _name_problems(tenant, kind, name)
    if problems:
        return Refused(tuple(problems))
    for attempt in range(2):
        try:
            return _register_once(registry, tenant, kind, name, document, now_ms)
        except TypeTaken:
            return Refused((TYPE_TAKEN,))
        except VersionTaken:
            if attempt:
                raise StorageError("registering the schema failed: another registration of it kept winning") from None
    raise AssertionError("unreachable")  # pragma: no cover


def _name_problems(tenant: str, kind: SchemaKind, name: str) -> list[str]:
    if not is_tenant_id(tenant):
        return [f"{tenant!r} is not a tenant id: it must match {TENANT_ID_PATTERN}"]
    if kind == "type":
        return event_type_problems(name)
    problem = track_name_problem(name)
    return [problem] if problem else []


def _register_once(
    registry: SchemaRegistry, tenant: str, kind: SchemaKind, name: str, document: Any, now_ms: int
) -> Registration:
    if kind == "type" and registry.owner_of(name) not in (None, tenant):
        return Refused((TYPE_TAKEN,))
    versions = registry.versions(tenant, kind, name)
    latest = versions[-1] if versions else None
    decision = _decide(kind, name, document, latest)
    if isinstance(decision, Refused):
        return decision
    not_compiled = compile_problems(document)  # the collector's validator: a pattern Python's re takes may not compile
    if not_compiled:
        return Refused(tuple(not_compiled))
    if decision.unchanged:
        return decision
    if decision.version > MAX_VERSION:
        return Refused((f"{name!r} has {MAX_VERSION} versions, the most it can have: register a new name",))
    registry.put_version(RegisteredSchema(tenant, kind, name, decision.version, document, now_ms))
    return decision


def _decide(kind: SchemaKind, name: str, document: Any, latest: RegisteredSchema | None) -> Registration:
    if not _is_text(document):
        return Refused(("#: a schema's strings must be valid Unicode (no lone surrogates)",))
    if kind == "type":
        stored = evolution.SchemaVersion(latest.version, latest.document) if latest else None
        decided = evolution.decide(document, stored)
        if isinstance(decided, evolution.Refused):
            return Refused(tuple(decided.messages))
        return Registered(kind, name, decided.version, decided.unchanged, decided.added)
    reading = read_schema(document, lake_names=False)
    if reading.problems:
        return Refused(tuple(map(str, reading.problems)))
    if latest is None:
        return Registered(kind, name, 1, False, tuple(_all_pointers(reading.fields)))
    if canonical_json(document) == canonical_json(latest.document):
        return Registered(kind, name, latest.version, True, ())
    older = read_schema(latest.document, lake_names=False).fields
    return Registered(kind, name, latest.version + 1, False, tuple(evolution.added_fields(older, reading.fields)))


def _all_pointers(fields: Any) -> list[str]:
    return list(evolution.added_fields((), fields))


def _is_text(document: Any) -> bool:
    """Whether the document can be stored as UTF-8 text (JSON's ``"\\ud800"`` reads as a lone surrogate)."""
    try:
        return is_valid_unicode(compact_json(document))
    except (TypeError, ValueError):
        return True  # not JSON at all: the document's own rules say so
