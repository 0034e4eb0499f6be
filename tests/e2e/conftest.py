"""End-to-end helpers: a local stack with fault injection, a retrying client, and the compacted truth."""

from __future__ import annotations

import base64
import http.client
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.local.conftest import RunningStack, start_stack, stop_stack
from tools.harness import compacted_rows

MAX_ATTEMPTS = 6


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("e2e"), {"LOCAL_FAULT_INJECTION": "1", "LOCAL_READ_TIMEOUT": "1"})
    yield running
    stop_stack(running)


@dataclass
class Outcome:
    sent: int = 0
    acknowledged: int = 0
    statuses: Counter[int | str] = field(default_factory=Counter)


@dataclass
class Ledger:
    """What the API acknowledged, per (tenant, event_id): the set the compacted tables must equal."""

    stack: RunningStack
    acknowledged: set[tuple[str, str]] = field(default_factory=set)
    acknowledged_per_tenant: Counter[str] = field(default_factory=Counter)

    def send(self, tenant_index: int, events: list[dict[str, Any]], outcome: Outcome) -> int:
        """POST one batch, resending the same bytes after a 503 or a lost response; return the final status."""
        tenant, api_key = self.stack.demo_auth(tenant_index)
        body = json.dumps({"events": events}).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{tenant}:{api_key}".encode()).decode(),
        }
        outcome.sent += len(events)
        status: int | str = "none"
        for _ in range(MAX_ATTEMPTS):
            connection = http.client.HTTPConnection("127.0.0.1", self.stack.api_port, timeout=30)
            try:
                connection.request("POST", "/v1/events", body=body, headers=headers)
                answer = connection.getresponse()
                status, payload = answer.status, json.loads(answer.read())
            except (TimeoutError, http.client.RemoteDisconnected, ConnectionError):
                status = "connection lost"
                outcome.statuses[status] += 1
                continue
            finally:
                connection.close()
            outcome.statuses[status] += 1
            if status == 200:
                assert payload["rejected"] == []
                for event in events:
                    self.acknowledged.add((tenant, event["event_id"]))
                self.acknowledged_per_tenant[tenant] += len(events)
                outcome.acknowledged += len(events)
                return 200
            if status != 503:
                return int(status)
        return int(status) if isinstance(status, int) else 0

    def compacted_rows(self) -> list[tuple[str, str]]:
        return compacted_rows(self.stack.info)

    def settle(self) -> dict[str, Any]:
        """Wait for fan-out, run one compaction, return its answer."""
        drained = self.stack.request("POST", "/__local/drain").json()
        compaction = self.stack.request("POST", "/__local/compact", body={}).json()
        return {"drain": drained, "compaction": compaction}


def batch(prefix: str, size: int, event_type: str = "track") -> list[dict[str, Any]]:
    run = uuid.uuid4().hex[:8]
    events = []
    for index in range(size):
        event_id = f"{prefix}-{run}-{index}"
        if event_type == "track":
            events.append({"event_type": "track", "name": prefix, "event_id": event_id, "properties": {"i": index}})
        else:
            events.append(
                {"event_type": "page_view", "url": f"https://e2e/{prefix}", "session_id": "s", "event_id": event_id}
            )
    return events
