"""Asking for privacy requests (privacy/requests.py) over the in-memory store: digests, never ids; idempotent
asks; an unsuppress applied as it is stored; every bad body a 400 naming the problem."""

from __future__ import annotations

import json

import pytest

from event_collector.errors import ClientInputError
from event_collector.ingest.http import validated
from event_collector.privacy.regulations import request_id, subject_digest
from event_collector.privacy.requests import RegulationBody, RegulationRequests, RegulationView
from tests.fakes.regulations import MemoryRegulations

USER = "u-1001"


class Clock:
    def __init__(self, now: float = 1_790_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def body(**fields: object) -> RegulationBody:
    return validated(RegulationBody, fields)


def test_given_a_request_when_asked_then_stored_by_its_digest_with_the_servers_time():
    store, clock = MemoryRegulations(), Clock()

    stored, recorded = RegulationRequests(store, clock).ask("acme", body(type="delete", user_id=USER), source="api")

    subject = subject_digest("acme", "user_id", USER)
    assert recorded
    assert (stored.id, stored.subject, stored.requested_at) == (
        request_id("acme", "delete", "user_id", subject),
        subject,
        1_790_000_000_000,
    )
    assert (stored.status, stored.applied_at, stored.source) == ("received", None, "api")
    assert USER not in repr(store.stored) + RegulationView.of(stored).model_dump_json()


def test_given_the_same_request_asked_again_then_the_stored_one_is_found_not_recorded_anew():
    store, clock = MemoryRegulations(), Clock()
    requests = RegulationRequests(store, clock)
    first, _ = requests.ask("acme", body(type="suppress", anonymous_id="dev-1"), source="api")
    clock.now += 30

    again, recorded = requests.ask("acme", body(type="suppress", anonymous_id="dev-1"), source="cli")

    assert not recorded
    assert again == first
    assert len(requests.listed("acme")) == 1


def test_given_an_unsuppress_when_asked_then_it_is_applied_as_it_is_stored_and_the_suppression_ends():
    store, clock = MemoryRegulations(), Clock()
    requests = RegulationRequests(store, clock)
    requests.ask("acme", body(type="suppress", user_id=USER), source="api")
    clock.now += 1

    ended, recorded = requests.ask("acme", body(type="unsuppress", user_id=USER), source="api")

    assert recorded
    assert (ended.status, ended.applied_at) == ("applied", 1_790_000_001_000)
    assert store.suppressions("acme") == []


def test_given_suppressions_changed_when_asked_then_the_collectors_cache_is_told_once_per_change():
    store, clock, told = MemoryRegulations(), Clock(), list[str]()
    requests = RegulationRequests(store, clock, on_suppressions_changed=told.append)

    requests.ask("acme", body(type="delete", user_id=USER), source="api")  # no suppression changed
    requests.ask("acme", body(type="suppress", user_id=USER), source="api")
    clock.now += 1
    requests.ask("acme", body(type="suppress", user_id=USER), source="api")  # stands as stored: nothing changed
    requests.ask("globex", body(type="unsuppress", user_id=USER), source="api")  # a new request: reload anyway

    assert told == ["acme", "globex"]


def test_given_ids_of_another_tenant_or_malformed_when_read_then_none():
    requests = RegulationRequests(MemoryRegulations(), Clock())
    stored, _ = requests.ask("acme", body(type="delete", user_id=USER), source="api")

    assert requests.get("acme", stored.id) == stored
    assert requests.get("globex", stored.id) is None
    assert requests.get("acme", stored.id.upper()) is None
    assert requests.get("acme", "../" + stored.id) is None


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"type": "delete"}, "exactly one of user_id or anonymous_id (one is required)"),
        ({"type": "delete", "user_id": "a", "anonymous_id": "b"}, "exactly one of user_id or anonymous_id (not both)"),
        ({"type": "forget", "user_id": "a"}, "type: Input should be 'delete', 'suppress' or 'unsuppress'"),
        ({"user_id": "a"}, "type: Field required"),
        ({"type": "delete", "user_id": 42}, "user_id: Input should be a valid string"),
        ({"type": "delete", "user_id": ""}, "user_id: Value should have at least 1 item"),
        ({"type": "delete", "anonymous_id": "x" * 257}, "anonymous_id: Value should have at most 256 items"),
        ({"type": "delete", "user_id": "a\u2028b"}, "user_id: must not contain control characters"),
        ({"type": "delete", "userId": "a"}, "userId: Extra inputs are not permitted"),
    ],
)
def test_given_a_bad_body_then_a_400_names_the_problem_without_echoing_the_value(fields, problem):
    with pytest.raises(ClientInputError) as refused:
        validated(RegulationBody, fields)

    assert (refused.value.status, refused.value.code) == (400, "invalid_request")
    assert problem in refused.value.message
    assert "x" * 257 not in json.dumps(refused.value.details)


def test_given_an_id_at_the_event_models_limit_then_accepted():
    assert body(type="delete", user_id="é" * 256).selected() == ("user_id", "é" * 256)
