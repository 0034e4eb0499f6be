"""No body makes a Segment route or a beacon answer 5xx, and what is refused stores nothing (issue 14).

Arbitrary JSON in every place a Segment library (or an attacker) can put it:
the batch, each message's fields, ``writeKey`` in the body, ``text/plain``.
A message either lands with its ``messageId`` as event id, or is listed in
``rejected`` with a reason; a refused request stores nothing.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import api_request, call

HOSTILE = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "type",
        "messageId",
        "timestamp",
        "sentAt",
        "userId",
        "anonymousId",
        "event",
        "name",
        "category",
        "properties",
        "traits",
        "context",
        "integrations",
        "groupId",
        "previousId",
        "writeKey",
        "tenant",
        "received_at",
        "event_id",
        "extra",
    ]
)
TYPES = st.one_of(st.sampled_from(["track", "page", "screen", "identify", "group", "alias"]), st.text(max_size=10))
PRINTABLE = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=20)
VALID_ISH = st.fixed_dictionaries(  # mostly accepted: the 200 path is exercised as much as the refusals
    {"type": st.sampled_from(["track", "page", "screen", "identify"]), "userId": PRINTABLE, "event": PRINTABLE},
    optional={"properties": st.dictionaries(PRINTABLE, SCALARS, max_size=3), "context": JSON_VALUES},
)
MESSAGES = st.one_of(
    VALID_ISH,
    st.fixed_dictionaries(
        {"type": TYPES, "userId": st.text(min_size=1, max_size=20), "event": st.text(max_size=20)},
        optional={"messageId": JSON_VALUES, "timestamp": JSON_VALUES, "properties": JSON_VALUES},
    ),
    st.dictionaries(FIELDS, JSON_VALUES, max_size=6),
    JSON_VALUES,
)
BODIES = st.one_of(
    st.fixed_dictionaries({"batch": st.lists(MESSAGES, max_size=5)}, optional={"sentAt": JSON_VALUES}),
    st.dictionaries(st.sampled_from(["batch", "sentAt", "context", "integrations", "writeKey"]), JSON_VALUES),
    JSON_VALUES,
)


def assert_sound(status: int, answer: Any, before: int, after: int, sent: int) -> None:
    event(f"status {status}, stored {after - before}")  # --hypothesis-show-statistics: both paths are reached
    assert status < 500, (status, answer)
    if status != 200:
        assert after == before, "a refused request stored something"
        assert isinstance(answer, dict)
        assert isinstance(answer.get("error"), str)
        return
    assert answer["success"] is True
    assert after - before == answer["accepted"]
    assert answer["accepted"] + len(answer["rejected"]) == sent
    assert all(rejected["errors"] for rejected in answer["rejected"])


@HOSTILE
@given(body=BODIES)
def test_given_any_batch_body_when_sent_then_200_or_a_named_4xx(collector, aws, lambda_context, body):
    before = len(aws.raw_lines())
    status, _, answer = call(collector, api_request("POST", "/v1/batch", body=body), lambda_context)
    sent = len(body["batch"]) if isinstance(body, dict) and isinstance(body.get("batch"), list) else 0
    assert_sound(status, answer, before, len(aws.raw_lines()), sent)


@HOSTILE
@given(message=MESSAGES, path=st.sampled_from(["/v1/track", "/v1/page", "/v1/screen", "/v1/alias"]))
def test_given_any_single_message_when_sent_then_200_or_a_named_4xx(collector, aws, lambda_context, message, path):
    before = len(aws.raw_lines())
    status, _, answer = call(collector, api_request("POST", path, body=message), lambda_context)
    assert_sound(status, answer, before, len(aws.raw_lines()), 1)


@HOSTILE
@given(write_key=JSON_VALUES, body=st.dictionaries(st.sampled_from(["events", "sent_at"]), JSON_VALUES))
def test_given_any_write_key_in_a_beacon_body_when_sent_then_refused_and_nothing_stored(
    collector, aws, lambda_context, write_key, body
):
    """No credential but what the body holds, and it is no key of ours: always a 4xx."""
    before = len(aws.raw_lines())
    request = api_request(
        "POST",
        "/v1/events",
        raw_body=json.dumps({**body, "writeKey": write_key}).encode(),
        content_type="text/plain;charset=UTF-8",
        tenant=None,
    )
    status, _, answer = call(collector, request, lambda_context)
    assert 400 <= status < 500, (status, answer)
    assert len(aws.raw_lines()) == before
