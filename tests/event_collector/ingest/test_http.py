"""The HTTP edge: query parameters given once and known to the route, JSON bodies refused where the parser
would change a value, each refusal naming what and where."""

from __future__ import annotations

from typing import Any

import pytest

from event_collector.errors import ClientInputError
from event_collector.ingest.http import checked_query, json_body, query_parameter, query_values
from event_collector.ingest.routes import QUERY_PARAMETERS

COUNTS = QUERY_PARAMETERS["/v1/counts"]


def rest_event(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """A REST API (payload 1.0) event: the last value of each name in one map, every value in the other."""
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return {
        "queryStringParameters": {name: values[-1] for name, values in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
    }


def http_v2_event(raw: str, joined: dict[str, str]) -> dict[str, Any]:
    """An HTTP API payload 2.0 event: repeats joined with commas in ``queryStringParameters``."""
    return {"version": "2.0", "rawQueryString": raw, "queryStringParameters": joined or None}


def refusal(event: dict[str, Any], parameters: dict[str, bool] = COUNTS) -> str:
    with pytest.raises(ClientInputError) as refused:
        checked_query(event, parameters)
    assert (refused.value.status, refused.value.code) == (400, "invalid_query")
    return refused.value.message


def test_given_each_known_parameter_once_when_checked_then_their_values():
    event = rest_event([("event_type", "track"), ("from", "2026-01-01T00:00:00Z"), ("key", "")])

    assert checked_query(event, COUNTS) == {"event_type": "track", "from": "2026-01-01T00:00:00Z", "key": ""}


@pytest.mark.parametrize(
    "event",
    [
        rest_event([("event_type", "track"), ("from", "2026-01-01T00:00:00Z"), ("from", "2027-01-01T00:00:00Z")]),
        http_v2_event(
            "event_type=track&from=2026-01-01T00%3A00%3A00Z&from=2027-01-01T00%3A00%3A00Z",
            {"event_type": "track", "from": "2026-01-01T00:00:00Z,2027-01-01T00:00:00Z"},
        ),
    ],
    ids=["rest", "http-payload-2.0"],
)
def test_given_a_parameter_twice_when_checked_then_400_names_it(event):
    message = refusal(event)

    assert "'from'" in message
    assert "more than once" in message


@pytest.mark.parametrize(
    "event",
    [
        rest_event([("event_type", "track"), ("form", "2026-01-01T00:00:00Z")]),
        http_v2_event("event_type=track&form=1", {"event_type": "track", "form": "1"}),
        {"queryStringParameters": {"event_type": "track", "form": "1"}},  # no multi-value map at all
    ],
    ids=["rest", "http-payload-2.0", "single-map-only"],
)
def test_given_an_unknown_parameter_when_checked_then_400_names_it_and_what_the_route_takes(event):
    message = refusal(event)

    assert "'form'" in message
    assert "'from'" in message  # what the route takes


def test_given_a_missing_required_parameter_when_checked_then_400_names_it():
    assert "'event_type'" in refusal(rest_event([("key", "k")]))


def test_given_a_payload_2_value_with_a_comma_when_read_then_it_is_one_value_not_two():
    event = http_v2_event("event_type=track&key=a%2Cb", {"event_type": "track", "key": "a,b"})

    assert checked_query(event, COUNTS) == {"event_type": "track", "key": "a,b"}


def test_given_a_payload_2_query_that_is_not_utf8_when_read_then_400():
    with pytest.raises(ClientInputError) as refused:
        query_values(http_v2_event("key=%ff", {"key": "\ufffd"}))
    assert refused.value.status == 400


def test_given_write_key_twice_when_read_then_400_never_one_of_them():
    with pytest.raises(ClientInputError) as refused:
        query_parameter(rest_event([("writeKey", "a"), ("writeKey", "b")]), "writeKey")
    assert "'writeKey'" in refused.value.message


def body_event(text: str) -> dict[str, Any]:
    return {"headers": {"Content-Type": "application/json"}, "body": text, "isBase64Encoded": False}


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ('{"events":[{"event_type":"track","name":"n","properties":{"a":1e-400}}]}', "events[0].properties.a"),
        ('{"events":[],"events":[{"event_type":"track","name":"n"}]}', "events"),
        ('{"events":[{"event_type":"track","name":"n","properties":{"a":1,"a":2}}]}', "events[0].properties.a"),
        ('{"batch":[{"type":"track","context":{"ip":"1","ip":"2"}}]}', "batch[0].context.ip"),
        ('{"events":[{"event_type":"track","name":"n","properties":{"a":[NaN]}}]}', "events[0].properties.a[0]"),
    ],
)
def test_given_a_body_the_parser_would_change_when_read_then_400_names_the_value(text, location):
    with pytest.raises(ClientInputError) as refused:
        json_body(body_event(text))

    assert (refused.value.status, refused.value.code) == (400, "invalid_json")
    assert location in refused.value.message
    assert refused.value.details == [{"location": location, "problem": refused.value.details[0]["problem"]}]  # type: ignore[index]
