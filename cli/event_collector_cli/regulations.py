"""The admin CLI's privacy commands (docs/privacy.md): ``delete-user``, ``suppress-user`` and ``unsuppress-user``
name a user by exactly one of ``--user-id`` or ``--anonymous-id``; ``regulations`` lists a tenant's requests.

What is printed is the stored request (its id, the subject digest, status, times, what it removed), never
the user's id.
"""

from __future__ import annotations

import argparse
from typing import Any, Protocol

from event_collector.errors import ClientInputError, UnknownTenantError
from event_collector.identifiers import TENANT_ID_PATTERN, is_tenant_id
from event_collector.ingest.http import validated
from event_collector.privacy.regulations import Kind
from event_collector.privacy.requests import RegulationBody, RegulationRequests, RegulationView

COMMANDS: dict[str, Kind] = {"delete-user": "delete", "suppress-user": "suppress", "unsuppress-user": "unsuppress"}
LISTING = "regulations"
HELP: dict[str, str] = {
    "delete-user": "remove every event of a user from the lake (the next compaction run applies it)",
    "suppress-user": "stop storing new events of a user (collectors drop them within SUPPRESSION_CACHE_SECONDS)",
    "unsuppress-user": "store a suppressed user's new events again",
}


class Tenants(Protocol):
    def tenant_exists(self, tenant: str) -> bool: ...


def add_commands(commands: Any) -> None:
    """The privacy commands, on the admin CLI's subparsers."""
    for name, text in HELP.items():
        command = commands.add_parser(name, help=text)
        command.add_argument("tenant")
        selector = command.add_mutually_exclusive_group(required=True)
        selector.add_argument("--user-id", default=None, help="the user's id as the events carry it")
        selector.add_argument("--anonymous-id", default=None, help="or an anonymous (browser or device) id")
    listing = commands.add_parser(LISTING, help="list a tenant's privacy requests, newest first, with their status")
    listing.add_argument("tenant")


def is_privacy_command(command: str) -> bool:
    return command in COMMANDS or command == LISTING


def run(requests: RegulationRequests, tenants: Tenants, args: argparse.Namespace) -> dict[str, Any]:
    if args.command == LISTING:
        _require_existing(tenants, args.tenant)
        listed = [RegulationView.of(regulation).model_dump(mode="json") for regulation in requests.listed(args.tenant)]
        return {"tenant": args.tenant, "requests": listed}
    body = validated(
        RegulationBody, {"type": COMMANDS[args.command], "user_id": args.user_id, "anonymous_id": args.anonymous_id}
    )
    _require_existing(tenants, args.tenant)
    stored, recorded = requests.ask(args.tenant, body, source="cli")
    return {"tenant": args.tenant, "new": recorded, **RegulationView.of(stored).model_dump(mode="json")}


def _require_existing(tenants: Tenants, tenant: str) -> None:
    if not is_tenant_id(tenant):
        raise ClientInputError(400, "invalid_tenant_id", f"tenant id must match {TENANT_ID_PATTERN}")
    if not tenants.tenant_exists(tenant):
        raise UnknownTenantError(f"tenant {tenant!r} does not exist; create it first")
