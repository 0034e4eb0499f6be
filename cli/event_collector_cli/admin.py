"""Admin CLI: ``python -m event_collector_cli.admin --help``.

Works against real AWS (credentials and region from the usual places) and
against the local mode (``--endpoint-url`` or ``AWS_ENDPOINT_URL``). API keys
are printed once, when issued; only their hashes are stored.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from event_collector.auth.keys import KeyScope
from event_collector.aws.clients import operator_client
from event_collector.aws.tenant_keys_table import TenantKeysTable
from event_collector.errors import ClientInputError, CollectorError
from event_collector.tenants.admin import DEFAULT_ROTATION_OVERLAP_SECONDS, TenantAdmin


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="event-collector-admin", description=__doc__)
    parser.add_argument(
        "--table",
        default=os.environ.get("TENANT_KEYS_TABLE_NAME"),
        help="tenant-keys table name (default: $TENANT_KEYS_TABLE_NAME, the stack output TenantKeysTableName)",
    )
    parser.add_argument("--region", default=None, help="AWS region (default: the SDK's)")
    parser.add_argument("--endpoint-url", default=None, help="AWS endpoint, e.g. the local mode's moto server")
    commands = parser.add_subparsers(dest="command", required=True)

    create = commands.add_parser("create-tenant", help="register a tenant id")
    create.add_argument("tenant")

    scope = argparse.ArgumentParser(add_help=False)
    scope.add_argument(
        "--publishable",
        action="store_true",
        help="a key that may only send events, only from --origin pages (safe to embed in a web page)",
    )
    scope.add_argument(
        "--origin", action="append", default=[], help="a web origin allowed to use the publishable key (repeat)"
    )

    issue = commands.add_parser("issue-key", parents=[scope], help="issue a new API key (printed once)")
    issue.add_argument("tenant")
    issue.add_argument("--expires-in-days", type=int, default=None)

    listing = commands.add_parser("list-keys", help="list a tenant's keys (never the secrets)")
    listing.add_argument("tenant")

    rotate = commands.add_parser(
        "rotate-key", parents=[scope], help="issue a new key; current keys of its scope expire after the overlap"
    )
    rotate.add_argument("tenant")
    rotate.add_argument("--overlap-hours", type=float, default=DEFAULT_ROTATION_OVERLAP_SECONDS / 3600)
    rotate.add_argument("--expires-in-days", type=int, default=None)

    revoke = commands.add_parser("revoke-key", help="revoke a key at once (cached authorizations live up to the TTL)")
    revoke.add_argument("tenant")
    revoke.add_argument("key_id")
    return parser


def run(admin: TenantAdmin, args: argparse.Namespace) -> dict[str, Any]:
    days = getattr(args, "expires_in_days", None)
    expires_in = days * 86400 if days else None
    if args.command == "create-tenant":
        admin.create_tenant(args.tenant)
        return {"tenant": args.tenant, "created": True}
    scope: KeyScope = "publishable" if getattr(args, "publishable", False) else "secret"
    origins = tuple(getattr(args, "origin", []))
    if args.command == "issue-key":
        return asdict(admin.issue_key(args.tenant, expires_in, scope=scope, origins=origins))
    if args.command == "list-keys":
        keys = admin.list_keys(args.tenant)
        return {
            "tenant": args.tenant,
            "keys": [{k: v for k, v in asdict(r).items() if k != "secret_hash"} for r in keys],
        }
    if args.command == "rotate-key":
        overlap = int(args.overlap_hours * 3600)
        return asdict(admin.rotate(args.tenant, overlap, expires_in, scope=scope, origins=origins))
    admin.revoke(args.tenant, args.key_id)
    return {"tenant": args.tenant, "key_id": args.key_id, "status": "revoked"}


def main(argv: Sequence[str] | None = None, client: Any = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.table:
        print("error: pass --table or set TENANT_KEYS_TABLE_NAME", file=sys.stderr)
        return 2
    if client is None:
        client = operator_client("dynamodb", region=args.region, endpoint_url=args.endpoint_url)
    admin = TenantAdmin(TenantKeysTable(client, args.table), clock=lambda: int(time.time()))
    try:
        output = run(admin, args)
    except ClientInputError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    except CollectorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(output, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
