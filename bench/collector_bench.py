"""Collector handler time per request, as a ratio to the json + pydantic floor of the same events.

For 1, 20 and 500 events per request: the real ``lambda_handler`` (decorators,
routing, validation, line building, Firehose packing, the answer) with
Firehose stubbed, against the floor of ``json.loads`` + pydantic validation of
each event + ``json.dumps`` of each. Median of many rounds, in this process
after one warm-up call (a warm container). Run: ``make bench``.
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from event_collector.auth.keys import KeyRecord, issue_key  # noqa: E402
from event_collector.ingest.models import EVENT_MODELS  # noqa: E402
from local.functions import load_function  # noqa: E402
from local.gateway.events import proxy_event  # noqa: E402
from tools.sam import function_environment  # noqa: E402

WORKLOADS = (1, 20, 500)
TARGETS = {1: 20.0, 500: 2.0}  # issue 13: handler time within these multiples of the floor


class StubFirehose:
    def __init__(self) -> None:
        self.records = 0

    def put_record_batch(self, DeliveryStreamName: str, Records: list[Any]) -> dict[str, Any]:
        self.records += len(Records)
        return {"FailedPutCount": 0, "RequestResponses": [{"RecordId": "r"} for _ in Records]}


TENANT = "bench"
KEY = issue_key()  # a real key: the collector authenticates every request that sends events


class BenchKeys:
    """The key table's lookup, answering for the one issued key (the collector caches it after one call)."""

    def get_key(self, tenant: str, key_id: str) -> KeyRecord | None:
        if (tenant, key_id) != (TENANT, KEY.key_id):
            return None
        return KeyRecord(TENANT, KEY.key_id, KEY.secret_hash, "active", created_at=0)

    def find_key(self, key_id: str) -> KeyRecord | None:
        return None


class StubDynamoDB:
    def get_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def query(self, **_: Any) -> dict[str, Any]:
        return {"Items": []}


def sample_events(count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for i in range(count):
        kind = i % 3
        if kind == 0:
            events.append({"event_type": "page_view", "url": f"https://example.com/p/{i % 20}", "session_id": f"s-{i}"})
        elif kind == 1:
            events.append({"event_type": "button_click", "button_id": f"b-{i % 5}", "session_id": f"s-{i}"})
        else:
            events.append({"event_type": "track", "name": "Signed Up", "properties": {"plan": "pro", "seats": i}})
    return events


def floor_round(body: str) -> None:
    for raw in json.loads(body)["events"]:
        event = EVENT_MODELS[raw["event_type"]].model_validate(raw)
        json.dumps(event.model_dump(exclude_none=True))


def median_seconds(function: Any, rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def load_collector() -> Any:
    collector = load_function(
        "collector", {**function_environment("CollectorFunction"), "POWERTOOLS_LOG_LEVEL": "WARNING"}
    )
    setattr(collector, "collector", collector.build(firehose=StubFirehose(), dynamodb=StubDynamoDB(), keys=BenchKeys()))  # noqa: B010
    return collector


def request_event(count: int) -> dict[str, Any]:
    credentials = base64.b64encode(f"{TENANT}:{KEY.api_key}".encode()).decode()
    return proxy_event(
        method="POST",
        path="/v1/events",
        headers=[("Content-Type", "application/json"), ("Authorization", f"Basic {credentials}")],
        body=json.dumps({"events": sample_events(count)}).encode(),
    )


def main(quick: bool = False) -> None:
    """``quick``: a few rounds only, to check the benchmark still runs (tests/tools/test_benchmarks.py)."""
    collector = load_collector()
    context = SimpleNamespace(
        function_name="bench",
        memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:bench",
        aws_request_id="bench",
        get_remaining_time_in_millis=lambda: 10_000,
    )
    print("collector handler per request (Firehose stubbed) against json.loads + pydantic + json.dumps:")
    stdout = sys.stdout
    for count in WORKLOADS:
        body = json.dumps({"events": sample_events(count)})
        event = request_event(count)

        def handler_round(event: dict[str, Any] = event) -> None:
            response = collector.lambda_handler(event, context)
            assert response["statusCode"] == 200, response["body"]

        rounds = 3 if quick else max(30, 3000 // count)
        with open(os.devnull, "w") as quiet:  # the metrics line each invocation prints is part of the cost
            sys.stdout = quiet
            try:
                handler_round()  # warm
                handler = median_seconds(handler_round, rounds)
            finally:
                sys.stdout = stdout
        floor = median_seconds(lambda body=body: floor_round(body), rounds)
        target = f" (target <= {TARGETS[count]:.0f}x)" if count in TARGETS else ""
        print(
            f"  {count:>3} event(s)/request: handler {handler * 1e6:8.0f} us, floor {floor * 1e6:7.0f} us, "
            f"{handler / count * 1e6:6.1f} us/event; ratio {handler / floor:5.1f}x{target}"
        )


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
