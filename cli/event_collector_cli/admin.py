"""Admin CLI: ``python -m event_collector_cli.admin --help``.

Tenants and keys; privacy requests (``delete-user``, ``suppress-user``,
``unsuppress-user``, ``regulations``: regulations.py), which also need the
regulations table; and tenants' own event types and tracking plans
(``put-schema``, ``schemas``, ``unplanned-policy``: schemas.py), which need the
schemas table. Works against real AWS (credentials and region from the
usual places) and against the local mode: ``--local`` reads the running stack's
``.local/stack.json`` (``$LOCAL_STATE_DIR/stack.json``) for its endpoint, tables
and region; ``--endpoint-url`` (or ``AWS_ENDPOINT_URL``) on 127.0.0.1 or
localhost uses the local mode's fake credentials and region unless others are
set. A missing region, credentials or table ends in one line naming what to
set. API keys are printed once, when issued; only their hashes are stored.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from event_collector.auth.keys import KeyScope
from event_collector.aws.clients import operator_client, operator_session
from event_collector.aws.errors import aws_errors, error_code, setup_error
from event_collector.aws.regulations_table import RegulationsTable
from event_collector.aws.schemas_table import SchemasTable
from event_collector.aws.tenant_keys_table import TenantKeysTable
from event_collector.errors import ClientInputError, CollectorError
from event_collector.privacy.requests import RegulationRequests
from event_collector.tenants.admin import DEFAULT_ROTATION_OVERLAP_SECONDS, TenantAdmin
from event_collector_cli import regulations, schemas

# The local mode's AWS accepts any credentials; these never leave the machine (local/config.py has its region).
LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
LOCAL_REGION = "us-east-1"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Answers of AWS to a request signed with credentials it does not accept.
CREDENTIAL_ERROR_CODES = frozenset(
    {"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "InvalidClientTokenId"}
)
SET_CREDENTIALS = (
    "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or --local for the running local stack)"
)


class SetupError(Exception):
    """The CLI cannot reach the table as configured; the message is one line naming what to set."""


@dataclass(frozen=True)
class Target:
    """Where the tenant-keys table (and the regulations table) are, and how to reach them (no credentials: the
    SDK's usual ones)."""

    table: str
    region: str | None = None
    endpoint_url: str | None = None
    credentials: dict[str, str] = field(default_factory=dict)
    regulations_table: str | None = None
    schemas_table: str | None = None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="event-collector-admin", description=__doc__)
    parser.add_argument(
        "--table",
        default=None,
        help="tenant-keys table name (default: $TENANT_KEYS_TABLE_NAME, the stack output TenantKeysTableName)",
    )
    parser.add_argument(
        "--regulations-table",
        default=None,
        help="regulations table name, for the privacy commands (default: $REGULATIONS_TABLE_NAME, the stack output "
        "RegulationsTableName)",
    )
    parser.add_argument(
        "--schemas-table",
        default=None,
        help="schemas table name, for the schema commands (default: $SCHEMAS_TABLE_NAME, the stack output "
        "SchemasTableName)",
    )
    parser.add_argument(
        "--region",
        default=None,
        help="AWS region (default: $AWS_REGION, else $AWS_DEFAULT_REGION or the profile's)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--local",
        action="store_true",
        help="the running `make local` stack: endpoint, table and region from $LOCAL_STATE_DIR/stack.json "
        "(default .local/stack.json)",
    )
    where.add_argument("--endpoint-url", default=None, help="AWS endpoint, e.g. the local mode's moto server")
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
    scope.add_argument(
        "--rate-per-minute",
        type=int,
        default=None,
        help="at most this many requests that send events per UTC minute with this key (then 429)",
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
    regulations.add_commands(commands)
    schemas.add_commands(commands)
    return parser


def run(admin: TenantAdmin, args: argparse.Namespace) -> dict[str, Any]:
    days = getattr(args, "expires_in_days", None)
    expires_in = days * 86400 if days else None
    if args.command == "create-tenant":
        admin.create_tenant(args.tenant)
        return {"tenant": args.tenant, "created": True}
    scope: KeyScope = "publishable" if getattr(args, "publishable", False) else "secret"
    origins = tuple(getattr(args, "origin", []))
    rate = getattr(args, "rate_per_minute", None)
    if args.command == "issue-key":
        return asdict(admin.issue_key(args.tenant, expires_in, scope=scope, origins=origins, rate_per_minute=rate))
    if args.command == "list-keys":
        keys = admin.list_keys(args.tenant)
        return {
            "tenant": args.tenant,
            "keys": [{k: v for k, v in asdict(r).items() if k != "secret_hash"} for r in keys],
        }
    if args.command == "rotate-key":
        overlap = int(args.overlap_hours * 3600)
        return asdict(
            admin.rotate(args.tenant, overlap, expires_in, scope=scope, origins=origins, rate_per_minute=rate)
        )
    admin.revoke(args.tenant, args.key_id)
    return {"tenant": args.tenant, "key_id": args.key_id, "status": "revoked"}


def local_stack_file() -> Path:
    return Path(os.environ.get("LOCAL_STATE_DIR") or ".local") / "stack.json"


def read_local_stack(stack_file: Path) -> dict[str, Any] | None:
    try:
        info: dict[str, Any] = json.loads(stack_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise SetupError(f"cannot read {stack_file}: {error}") from error
    return info


def is_loopback(endpoint_url: str) -> bool:
    return urllib.parse.urlsplit(endpoint_url).hostname in LOOPBACK_HOSTS


def resolve_target(args: argparse.Namespace) -> Target:
    if args.local:
        stack_file = local_stack_file()
        info = read_local_stack(stack_file)
        if info is None:
            raise SetupError(
                f"no local stack is running ({stack_file} is missing): start one with `make local`, "
                "or set LOCAL_STATE_DIR to its state directory"
            )
        if args.region and args.region != info["region"]:
            raise SetupError(
                f"--region {args.region} does not apply with --local: the local stack runs in {info['region']}"
            )
        regulations_table = args.regulations_table or info.get("regulations_table")
        schemas_table = args.schemas_table or info.get("schemas_table")
        table = args.table or info["keys_table"]
        return Target(
            table, info["region"], info["aws_endpoint_url"], LOCAL_CREDENTIALS, regulations_table, schemas_table
        )
    table = args.table or os.environ.get("TENANT_KEYS_TABLE_NAME")
    if not table:
        raise SetupError("no table: pass --table or set TENANT_KEYS_TABLE_NAME (the stack output TenantKeysTableName)")
    regulations_table = args.regulations_table or os.environ.get("REGULATIONS_TABLE_NAME") or None
    schemas_table = args.schemas_table or os.environ.get("SCHEMAS_TABLE_NAME") or None
    # boto3 reads AWS_DEFAULT_REGION only; AWS_REGION is what the other SDKs and Lambda read.
    region = args.region or os.environ.get("AWS_REGION") or None
    endpoint_url = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint_url or not is_loopback(endpoint_url):
        return Target(
            table, region, args.endpoint_url, regulations_table=regulations_table, schemas_table=schemas_table
        )
    # A local endpoint: the SDK's own credentials and region if there are any, else the local mode's.
    session = operator_session(region)
    local = read_local_stack(local_stack_file()) or {}
    region = session.region_name or local.get("region") or LOCAL_REGION
    credentials = {} if session.get_credentials() else LOCAL_CREDENTIALS
    return Target(table, region, endpoint_url, credentials, regulations_table, schemas_table)


def regulations_table(target: Target) -> str:
    if not target.regulations_table:
        raise SetupError(
            "no regulations table: pass --regulations-table or set REGULATIONS_TABLE_NAME "
            "(the stack output RegulationsTableName)"
        )
    return target.regulations_table


def schemas_table(target: Target) -> str:
    if not target.schemas_table:
        raise SetupError(
            "no schemas table: pass --schemas-table or set SCHEMAS_TABLE_NAME (the stack output SchemasTableName)"
        )
    return target.schemas_table


def dynamodb_client(target: Target) -> Any:
    return operator_client(
        "dynamodb", region=target.region, endpoint_url=target.endpoint_url, credentials=target.credentials
    )


def causes(error: Exception) -> Iterator[Exception]:
    cause: BaseException | None = error
    while isinstance(cause, Exception):
        yield cause
        cause = cause.__cause__


def explain(error: Exception) -> str | None:
    """What to set, for the setup errors the SDK raises (directly, or as the cause of a storage error)."""
    for cause in causes(error):
        found = setup_error(cause)
        kind, detail = found if found else ("", "")
        if kind == "no_region":
            return "no AWS region: pass --region or set AWS_REGION (or --local for the running local stack)"
        if kind == "no_credentials":
            return f"no AWS credentials: {SET_CREDENTIALS}"
        if kind == "profile_not_found":
            return f"{detail}: set AWS_PROFILE to a configured profile"
        if kind == "unreachable":
            return (
                f"cannot reach {detail}: check --endpoint-url or AWS_ENDPOINT_URL "
                "(the local stack: is `make local` running?)"
            )
        if error_code(cause) in CREDENTIAL_ERROR_CODES:
            return f"AWS refused the credentials ({error_code(cause)}): {SET_CREDENTIALS}"
        if error_code(cause) == "ResourceNotFoundException":
            return (
                "no such table: check --table or TENANT_KEYS_TABLE_NAME (and --regulations-table or "
                "REGULATIONS_TABLE_NAME, --schemas-table or SCHEMAS_TABLE_NAME), and --region or AWS_REGION"
            )
    return None


def main(argv: Sequence[str] | None = None, client: Any = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        target = resolve_target(args)
        dynamodb = client or dynamodb_client(target)
        table = TenantKeysTable(dynamodb, target.table)
        if regulations.is_privacy_command(args.command):
            requests = RegulationRequests(RegulationsTable(dynamodb, regulations_table(target)))
            output = regulations.run(requests, table, args)
        elif schemas.is_schema_command(args.command):
            printed = schemas.run(SchemasTable(dynamodb, schemas_table(target)), table, args)
            print(printed.text, file=sys.stderr if printed.status else sys.stdout)
            return printed.status
        else:
            output = run(TenantAdmin(table, clock=lambda: int(time.time())), args)
    except SetupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ClientInputError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    except CollectorError as error:
        return failed(error)
    except aws_errors() as error:  # the SDK's own, e.g. no region when the client is made
        return failed(error)
    print(json.dumps(output, indent=2))
    return 0


def failed(error: Exception) -> int:
    """One line: what to set when the setup is at fault (exit 2), else what failed (exit 1)."""
    hint = explain(error)
    print(f"error: {hint or error}", file=sys.stderr)
    return 2 if hint else 1


if __name__ == "__main__":
    sys.exit(main())
