"""Lake objects made the way the pipeline makes them: raw lines through the real fan-out, into fakes."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from typing import Any

from event_collector.lake.fan_out import FanOut
from tests.fakes.compaction_state import MemoryCompactionState
from tests.fakes.objects import MemoryObjectStore

RAW = "raw-bucket"
LAKE = "lake-bucket"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> int:
    return int(datetime(2026, 11, day, hour, minute, second, tzinfo=UTC).timestamp() * 1000)


def event(event_id: str, received_at: int, event_type: str = "track", tenant: str = "acme", **fields: Any) -> dict:
    base: dict[str, Any] = {
        "event_id": event_id,
        "event_type": event_type,
        "tenant": tenant,
        "received_at": received_at,
        "timestamp": received_at,
    }
    if event_type == "track":
        base.update(name="n", properties="{}")
    return {**base, **fields}


class Lake:
    """A raw bucket, a lake bucket and the compaction queue, in memory, filled by the real fan-out."""

    def __init__(self) -> None:
        self.store = MemoryObjectStore()
        self.state = MemoryCompactionState()
        self.objects = 0

    def land(self, *events: dict[str, Any]) -> None:
        self.objects += 1
        key = f"raw/2026/11/20/10/object-{self.objects}"
        body = gzip.compress(b"".join(json.dumps(e).encode() + b"\n" for e in events))
        self.store.objects[(RAW, key)] = body
        FanOut(self.store, LAKE, queue=self.state).process(RAW, key)
