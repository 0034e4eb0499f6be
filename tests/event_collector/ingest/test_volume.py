"""Event volume metrics: summed across invocations, published at most once a minute per container."""

from __future__ import annotations

import json

from event_collector.ingest.volume import PUBLISH_EVERY_SECONDS, EventVolume
from tests.conftest import api_request, call


def test_given_additions_when_due_then_the_first_publishes_at_once_and_later_ones_once_a_minute():
    now = [1000.0]
    volume = EventVolume(clock=lambda: now[0])

    volume.add("EventsAccepted", 3)
    first = volume.due()
    volume.add("EventsAccepted", 2)
    volume.add("EventsAccepted", 5)
    volume.add("EventsRejected", 1)
    now[0] += PUBLISH_EVERY_SECONDS - 1
    early = volume.due()
    now[0] += 1
    later = volume.due()

    assert first == {"EventsAccepted": 3}
    assert early == {}
    assert later == {"EventsAccepted": 7, "EventsRejected": 1}
    assert volume.due() == {}


def emf_values(output: str, name: str) -> list[float]:
    values = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            if name in document:
                value = document[name]
                values += value if isinstance(value, list) else [value]
    return values


def test_given_requests_within_a_minute_when_handled_then_one_metrics_line_carries_their_sum(
    collector, aws, lambda_context, capsys
):
    now = [0.0]
    collector.collector.volume.clock = lambda: now[0]
    batch = {"events": [{"event_type": "track", "name": "a"}, {"event_type": "track", "name": ""}]}

    for seconds in (0, 10, 20, 61):
        now[0] = seconds
        status, _, _ = call(collector, api_request("POST", "/v1/events", body=batch), lambda_context)
        assert status == 200

    output = capsys.readouterr().out
    assert emf_values(output, "EventsAccepted") == [1, 3]  # the first request, then the next three together
    assert emf_values(output, "EventsRejected") == [1, 3]
