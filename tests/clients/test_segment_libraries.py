"""Segment's own libraries, unchanged, pointed at our API with one of our keys (issue 14).

Each message the library sends must be in the compacted tables exactly once,
under the event type the mapping in docs/clients.md names, and a resend of the
same ``messageId`` must not add a row.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from typing import Any

import pytest

from tests.clients.conftest import NODE, compacted_ids, issue_key, node_script, settle
from tests.local.conftest import RunningStack

SEGMENT_TYPES = {
    "track": "track",
    "page": "page_view",
    "screen": "screen",
    "identify": "identify",
    "group": "group",
    "alias": "alias",
}


def _send_with_python_library(api_url: str, write_key: str, run: str, *, gzip: bool) -> list[Any]:
    from segment.analytics.client import Client  # type: ignore[import-untyped]

    failures: list[Any] = []
    client = Client(
        write_key,
        host=api_url,
        gzip=gzip,
        max_retries=2,
        upload_interval=0.05,
        on_error=lambda error, batch: failures.append((str(error), batch)),
    )
    client.track("py-user", "Python Track", {"n": 1}, message_id=f"{run}-track")
    client.page("py-user", name="Home", properties={"url": "https://py.example/"}, message_id=f"{run}-page")
    client.screen("py-user", name="Cart", message_id=f"{run}-screen")
    client.identify("py-user", {"plan": "pro"}, message_id=f"{run}-identify")
    client.group("py-user", "py-group", {"seats": 3}, message_id=f"{run}-group")
    client.alias("py-anon", "py-user", message_id=f"{run}-alias")
    client.flush()  # waits until the library's consumer thread has uploaded (or given up on) everything
    client.join()
    return failures


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
def test_python_library_lands_every_message_once(stack: RunningStack, gzip: bool) -> None:
    tenant = f"segment-py-{'gz' if gzip else 'plain'}"
    write_key = issue_key(stack, tenant)
    run = f"py-{uuid.uuid4().hex[:8]}"

    assert _send_with_python_library(stack.info["api_url"], write_key, run, gzip=gzip) == []
    settle(stack)
    expected = {f"{run}-{kind}": 1 for kind in SEGMENT_TYPES}
    assert compacted_ids(stack, tenant, run) == expected
    for event_type in SEGMENT_TYPES.values():
        counts = stack.request("GET", f"/v1/counts?event_type={event_type}", auth=(tenant, write_key)).json()
        assert counts["total"] == 1, (event_type, counts)

    # The library's retry (or a user's replay) sends the same messageIds again: still one row each.
    assert _send_with_python_library(stack.info["api_url"], write_key, run, gzip=gzip) == []
    settle(stack)
    assert compacted_ids(stack, tenant, run) == expected


def test_node_library_lands_every_message_once(stack: RunningStack) -> None:
    tenant = "segment-node"
    write_key = issue_key(stack, tenant)
    run = f"node-{uuid.uuid4().hex[:8]}"

    result = subprocess.run(
        [NODE, str(node_script("segment_node.mjs")), stack.info["api_url"], write_key, run],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"errors": []}
    settle(stack)

    assert compacted_ids(stack, tenant, run) == {f"{run}-{kind}": 1 for kind in SEGMENT_TYPES}


def test_libraries_with_a_wrong_key_store_nothing(stack: RunningStack) -> None:
    run = f"bad-{uuid.uuid4().hex[:8]}"
    failures = _send_with_python_library(stack.info["api_url"], "not-a-key-of-ours", run, gzip=False)
    assert failures, "the library must hear the 401"
    assert all("401" in text or "nauthori" in text for text, _ in failures)
    settle(stack)
    assert not any(event_id.startswith(run) for _, event_id in _all_ids(stack))


def _all_ids(stack: RunningStack) -> list[tuple[str, str]]:
    from tools.harness import compacted_rows

    return list(compacted_rows(stack.info))


def test_python_library_track_messages_are_held_to_the_tenants_tracking_plan(stack: RunningStack) -> None:
    """Issue 23: a tenant's plan for "Order Completed" and its choice to reject unplanned names apply to
    what Segment's own library sends, unchanged: only the planned, valid message is stored."""
    from segment.analytics.client import Client

    from event_collector.aws.schemas_table import SchemasTable
    from event_collector.schemas.registration import Registered, register

    tenant = f"segment-plan-{uuid.uuid4().hex[:6]}"
    write_key = issue_key(stack, tenant)
    schemas = SchemasTable(stack.aws("dynamodb"), stack.info["schemas_table"])
    plan = {
        "type": "object",
        "properties": {"orderId": {"type": "string"}, "revenue": {"type": "number", "minimum": 0}},
        "required": ["orderId"],
    }
    assert isinstance(register(schemas, tenant, "track", "Order Completed", plan, 0), Registered)
    schemas.set_unplanned(tenant, "reject")
    run = f"plan-{uuid.uuid4().hex[:8]}"

    failures: list[Any] = []
    client = Client(
        write_key,
        host=stack.info["api_url"],
        max_retries=2,
        upload_interval=0.05,
        on_error=lambda error, batch: failures.append((str(error), batch)),
    )
    client.track("u-1", "Order Completed", {"orderId": "A-1", "revenue": 12.5}, message_id=f"{run}-valid")
    client.track("u-1", "Order Completed", {"revenue": -1}, message_id=f"{run}-invalid")
    client.track("u-1", "Cart Viewed", {"items": 2}, message_id=f"{run}-unplanned")
    client.flush()
    client.join()

    assert failures == []  # Segment's API answers 200 to a batch with rejected messages; so does ours
    settle(stack)
    assert compacted_ids(stack, tenant, run) == {f"{run}-valid": 1}
