"""The admin CLI's schema commands (docs/schemas.md, "Registering"):

- ``put-schema TENANT TYPE FILE``: a JSON Schema (draft 2020-12) for an event type of the tenant's own,
  stored as its next version; ``put-schema TENANT --track NAME FILE``: a tracking plan for the
  ``properties`` of the tenant's ``track`` events called NAME. FILE ``-`` is standard input. A refused
  schema prints each problem on its own line and exits 1;
- ``schemas TENANT [--json]``: the tenant's types and plans, one line each with its latest version, and the
  policy for unplanned track names (``--json``: what ``GET /v1/schemas`` answers);
- ``unplanned-policy TENANT accept|reject``: what happens to a track event whose name has no plan.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

from event_collector.errors import ClientInputError, UnknownTenantError
from event_collector.identifiers import TENANT_ID_PATTERN, is_tenant_id
from event_collector.ingest.models import SchemasResult, SchemaView
from event_collector.json_values import loads_strict
from event_collector.schemas.registration import Refused, register
from event_collector.schemas.registry import UNPLANNED_POLICIES, SchemaKind, SchemaRegistry

COMMANDS = ("put-schema", "schemas", "unplanned-policy")


class Tenants(Protocol):
    def tenant_exists(self, tenant: str) -> bool: ...


@dataclass(frozen=True)
class Printed:
    """What a schema command prints, and its exit status (stdout when 0, else stderr)."""

    text: str
    status: int = 0


def add_commands(commands: Any) -> None:
    """The schema commands, on the admin CLI's subparsers."""
    put = commands.add_parser(
        "put-schema",
        help="register an event type's JSON Schema (or, with --track, a track event's plan) as its next version",
        usage="event-collector-admin put-schema TENANT (TYPE | --track NAME) FILE",
    )
    put.add_argument("tenant")
    put.add_argument("names", nargs="+", metavar="[TYPE] FILE", help="the event type and the schema file (- stdin)")
    put.add_argument("--track", default=None, metavar="NAME", help="a tracking plan for track events of this name")
    listing = commands.add_parser("schemas", help="list a tenant's event types and tracking plans")
    listing.add_argument("tenant")
    listing.add_argument("--json", action="store_true", help="print what GET /v1/schemas answers")
    policy = commands.add_parser("unplanned-policy", help="accept or reject track events whose name has no plan")
    policy.add_argument("tenant")
    policy.add_argument("policy", choices=UNPLANNED_POLICIES)


def is_schema_command(command: str) -> bool:
    return command in COMMANDS


def run(
    registry: SchemaRegistry,
    tenants: Tenants,
    args: argparse.Namespace,
    *,
    stdin: TextIO | None = None,
    clock: Callable[[], float] = time.time,
) -> Printed:
    _require_existing(tenants, args.tenant)
    if args.command == "schemas":
        schemas = SchemasResult.of(registry.tenant_schemas(args.tenant))
        return Printed(json.dumps(schemas.model_dump(mode="json"), indent=2) if args.json else _listing(schemas))
    if args.command == "unplanned-policy":
        registry.set_unplanned(args.tenant, args.policy)
        return Printed(f"{args.tenant}: track events without a plan are now {_POLICY_WORDS[args.policy]}")
    kind, name, path = _what_to_put(args)
    document = _read_document(path, stdin or sys.stdin)
    result = register(registry, args.tenant, kind, name, document, int(clock() * 1000))
    what = f"{_KIND_WORDS[kind]} {name!r}"
    if isinstance(result, Refused):
        return Printed("\n".join([f"error: {what} refused:", *result.messages]), status=1)
    if result.unchanged:
        return Printed(f"{what}: unchanged, still version {result.version}")
    added = f"; new fields: {', '.join(result.added)}" if result.added else ""
    return Printed(f"{what}: registered version {result.version}{added}")


_KIND_WORDS: dict[SchemaKind, str] = {"type": "event type", "track": "track plan"}
_POLICY_WORDS = {"accept": "accepted (unvalidated)", "reject": "rejected"}


def _what_to_put(args: argparse.Namespace) -> tuple[SchemaKind, str, str]:
    if args.track is not None:
        if len(args.names) != 1:
            raise ClientInputError(400, "usage", "put-schema TENANT --track NAME FILE takes no TYPE")
        return "track", args.track, args.names[0]
    if len(args.names) != 2:
        raise ClientInputError(400, "usage", "put-schema TENANT TYPE FILE (or --track NAME FILE) takes a type")
    return "type", args.names[0], args.names[1]


def _read_document(path: str, stdin: TextIO) -> Any:
    """The JSON document in ``path`` (``-``: standard input), or a one-line error saying why not."""
    source = "standard input" if path == "-" else path
    try:
        if path == "-":
            text = stdin.read()
        else:
            with open(path, encoding="utf-8") as file:
                text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ClientInputError(400, "unreadable", f"cannot read {source}: {reason}") from None
    try:
        return loads_strict(text)
    except json.JSONDecodeError as error:
        raise ClientInputError(400, "not_json", f"{source} is not JSON: {error}") from None


def _listing(schemas: SchemasResult) -> str:
    lines = [f"unplanned track names: {schemas.unplanned}"]
    for title, found in (("event types", schemas.types), ("track plans", schemas.tracks)):
        lines.append(f"{title}:" if found else f"{title}: none")
        lines += [f"  {_line(name, view)}" for name, view in found.items()]
    return "\n".join(lines)


def _line(name: str, view: SchemaView) -> str:
    registered = datetime.fromtimestamp(view.registered_at / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    properties = view.document.get("properties")
    fields = ", ".join(properties) if isinstance(properties, dict) and properties else "no fields"
    return f"{json.dumps(name, ensure_ascii=False)}  version {view.version}  registered {registered}  ({fields})"


def _require_existing(tenants: Tenants, tenant: str) -> None:
    if not is_tenant_id(tenant):
        raise ClientInputError(400, "invalid_tenant_id", f"tenant id must match {TENANT_ID_PATTERN}")
    if not tenants.tenant_exists(tenant):
        raise UnknownTenantError(f"tenant {tenant!r} does not exist; create it first")
