"""A local stack for the real clients (Segment's libraries, our SDKs, a browser), and the compacted truth."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.local.conftest import RunningStack, start_stack, stop_stack
from tools.harness import compacted_rows
from tools.template import ROOT

NODE_DIR = ROOT / "tests" / "clients" / "node"
NODE = shutil.which("node") or "node"  # Node 20 (docs/clients.md)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("clients"))
    yield running
    stop_stack(running)


def issue_key(stack: RunningStack, tenant: str, *, origins: tuple[str, ...] = ()) -> str:
    """A new key for a (new or demo) tenant of the running stack: publishable when ``origins`` are given."""
    from event_collector.auth.keys import KeyScope
    from event_collector.aws.tenant_keys_table import TenantKeysTable
    from event_collector.errors import TenantExistsError
    from event_collector.tenants.admin import TenantAdmin

    admin = TenantAdmin(
        TenantKeysTable(stack.aws("dynamodb"), stack.info["keys_table"]), clock=lambda: int(time.time())
    )
    with contextlib.suppress(TenantExistsError):
        admin.create_tenant(tenant)
    scope: KeyScope = "publishable" if origins else "secret"
    return admin.issue_key(tenant, scope=scope, origins=origins).api_key


def settle(stack: RunningStack) -> dict[str, Any]:
    """Wait for the fan-out, run one compaction; the compaction must succeed."""
    assert stack.request("POST", "/__local/drain").json()["async_failures"] == []
    compaction = stack.request("POST", "/__local/compact", body={}).json()
    assert compaction["status"] == "SUCCEEDED", compaction
    return compaction


def compacted_ids(stack: RunningStack, tenant: str, prefix: str) -> Counter[str]:
    """How many compacted rows each event id of ``tenant`` starting with ``prefix`` has."""
    return Counter(
        event_id for owner, event_id in compacted_rows(stack.info) if owner == tenant and event_id.startswith(prefix)
    )


def node_script(name: str) -> Path:
    path = NODE_DIR / name
    assert (NODE_DIR / "node_modules").is_dir(), "run `make test` (it installs tests/clients/node with npm ci)"
    return path
