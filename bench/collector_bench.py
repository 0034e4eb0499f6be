"""Collector handler cost per event for a 500-event batch, AWS stubbed.

Baseline (the floor), measured in the same run on the same events:
``json.loads`` of the body + pydantic validation of each event + ``json.dumps``
of each event. Prints both per-event costs and their ratio.

Run: ``make bench`` (or ``.venv/bin/python bench/collector_bench.py``).
"""

from __future__ import annotations

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
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Bench")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

from event_collector.ingest.models import EVENT_MODELS  # noqa: E402
from local.functions import load_function  # noqa: E402
from local.gateway.events import proxy_event  # noqa: E402

BATCH_SIZE = 500
ROUNDS = 30


class StubFirehose:
    def put_record_batch(self, DeliveryStreamName: str, Records: list[Any]) -> dict[str, Any]:
        return {"FailedPutCount": 0, "RequestResponses": [{"RecordId": "r"} for _ in Records]}


class StubDynamoDB:
    def update_item(self, **_: Any) -> dict[str, Any]:
        return {}


def sample_events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for i in range(BATCH_SIZE):
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


def best_of(function: Any, rounds: int = ROUNDS) -> float:
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> None:
    collector = load_function("collector")
    stubbed = collector.build_services(collector.get_settings(), firehose=StubFirehose(), dynamodb=StubDynamoDB())
    setattr(collector, "services", stubbed)  # noqa: B010 - the module's injectable services
    body = json.dumps({"events": sample_events()})
    event = proxy_event(
        method="POST",
        path="/v1/events",
        headers=[("Content-Type", "application/json")],
        body=body.encode(),
        authorizer={"tenant": "bench", "key_id": "k0000000000000000"},
    )
    context = SimpleNamespace(
        function_name="bench",
        memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:bench",
        aws_request_id="bench",
    )

    def handler_round() -> None:
        response = collector.lambda_handler(event, context)
        assert response["statusCode"] == 200, response["body"]

    handler_round()  # warm: first call builds the middleware stack
    floor = best_of(lambda: floor_round(body))
    handler = best_of(handler_round)
    print(f"events per batch: {BATCH_SIZE}, rounds: {ROUNDS} (median)")
    print(f"floor  (json.loads + pydantic + json.dumps): {floor / BATCH_SIZE * 1e6:8.1f} us/event")
    print(f"collector handler (AWS stubbed):            {handler / BATCH_SIZE * 1e6:8.1f} us/event")
    print(f"ratio handler/floor: {handler / floor:.2f}x")


if __name__ == "__main__":
    main()
