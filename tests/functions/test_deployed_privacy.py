"""Privacy requests through the wiring that deploys (tests/functions/deployed.py): ``POST /v1/regulations``
and ``GET /v1/regulations/{id}`` behind the authorizer on both API types, the collector's lean client
writing the regulations table on a moto server."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from event_collector.errors import StorageError
from event_collector.privacy.regulations import subject_digest
from tests.functions.deployed import Api, DeployedStack, basic, start_deployed_stack

USER = "jane@example.com"
ORIGIN = "https://shop.example"


@pytest.fixture(scope="module")
def stack() -> Iterator[DeployedStack]:
    started = start_deployed_stack("privacy")
    yield started
    started.server.stop()


@pytest.fixture(scope="module", params=["REST", "HTTP"])
def api(request: pytest.FixtureRequest, stack: DeployedStack) -> Api:
    return Api(stack, request.param)


@pytest.fixture
def tenant(stack: DeployedStack, request: pytest.FixtureRequest) -> str:
    name = "p-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]
    stack.admin().create_tenant(name)
    return name


def secret(stack: DeployedStack, tenant: str) -> str:
    return basic(tenant, stack.admin().issue_key(tenant).api_key)


def regulation_items(stack: DeployedStack, tenant: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = stack.clients.dynamodb.query(
        TableName=stack.name("RegulationsTable"),
        KeyConditionExpression="pk = :t",
        ExpressionAttributeValues={":t": {"S": tenant}},
    )["Items"]
    return found


def test_given_a_secret_key_when_a_deletion_is_asked_twice_then_202_then_200_as_stored_and_readable_by_id(
    api, stack, tenant
):
    auth = secret(stack, tenant)

    first = api.request("POST", "/v1/regulations", auth=auth, body={"type": "delete", "user_id": USER})
    again = api.request("POST", "/v1/regulations", auth=auth, body={"type": "delete", "user_id": USER})
    read = api.request("GET", f"/v1/regulations/{first.body['id']}", auth=auth)

    assert first.status == 202
    assert (first.body["type"], first.body["selector"], first.body["status"]) == ("delete", "user_id", "received")
    assert first.body["subject"] == subject_digest(tenant, "user_id", USER)
    assert first.body["source"] == "api"
    assert (again.status, again.body) == (200, first.body)
    assert (read.status, read.body) == (200, first.body)
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert USER not in json.dumps([first.body, read.body, regulation_items(stack, tenant)])


def test_given_a_suppression_when_asked_then_it_is_recorded_with_the_request(api, stack, tenant):
    auth = secret(stack, tenant)

    answer = api.request("POST", "/v1/regulations", auth=auth, body={"type": "suppress", "anonymous_id": "dev-9"})

    assert answer.status == 202
    assert {item["sk"]["S"] for item in regulation_items(stack, tenant)} == {
        f"request#{answer.body['id']}",
        f"suppressed#anonymous_id#{subject_digest(tenant, 'anonymous_id', 'dev-9')}",
    }


def test_given_a_publishable_key_or_none_then_refused_by_the_gateway_and_nothing_stored(api, stack, tenant):
    publishable = stack.admin().issue_key(tenant, scope="publishable", origins=(ORIGIN,)).api_key
    body = {"type": "delete", "user_id": USER}
    headers = [("Origin", ORIGIN)]

    as_publishable = api.request("POST", "/v1/regulations", auth=basic(tenant, publishable), body=body, headers=headers)
    as_write_key = api.request("POST", "/v1/regulations", auth=basic(publishable), body=body, headers=headers)
    anonymous = api.request("POST", "/v1/regulations", body=body)
    reading = api.request("GET", "/v1/regulations/reg-000000000000000000000000", auth=basic(tenant, publishable))

    assert [as_publishable.status, as_write_key.status, anonymous.status, reading.status] == [403, 403, 401, 403]
    assert regulation_items(stack, tenant) == []


def test_given_another_tenants_or_an_unknown_id_when_read_then_404_json(api, stack, tenant):
    theirs = "p-other-" + tenant[2:10]
    stack.admin().create_tenant(theirs)
    asked = api.request("POST", "/v1/regulations", auth=secret(stack, theirs), body={"type": "delete", "user_id": "x"})
    auth = secret(stack, tenant)

    answers = [
        api.request("GET", f"/v1/regulations/{asked.body['id']}", auth=auth),
        api.request("GET", "/v1/regulations/reg-0123456789abcdef01234567", auth=auth),
        api.request("GET", "/v1/regulations/not-an-id", auth=auth),
    ]

    assert asked.status == 202
    assert [(a.status, a.body["error"]) for a in answers] == [(404, "not_found")] * 3


@pytest.mark.parametrize(
    ("body", "status", "problem"),
    [
        ({"type": "delete"}, 400, "exactly one of user_id or anonymous_id (one is required)"),
        ({"type": "delete", "user_id": "a", "anonymous_id": "b"}, 400, "(not both)"),
        ({"type": "delete", "user_id": ""}, 400, "user_id: Value should have at least 1 item"),
        ({"type": "delete", "user_id": 7}, 400, "user_id: Input should be a valid string"),
        ({"type": "delete", "user_id": ["a"]}, 400, "user_id: Input should be a valid string"),
        ({"type": "delete", "user_id": "x" * 257}, 400, "user_id: Value should have at most 256 items"),
        ({"type": "erase", "user_id": "a"}, 400, "type: Input should be 'delete', 'suppress' or 'unsuppress'"),
        ({"user_id": "a"}, 400, "type: Field required"),
        (["delete", "a"], 400, "Input should be a valid dictionary or instance of RegulationBody"),
        ({"type": "delete", "user_id": "a", "why": "gdpr"}, 400, "why: Extra inputs are not permitted"),
        ({"type": "delete", "user_id": "x" * 20_000}, 413, "the limit is 16384"),
    ],
)
def test_given_a_bad_body_then_a_4xx_json_error_names_the_problem_and_nothing_is_stored(
    api, stack, tenant, body, status, problem
):
    answer = api.request("POST", "/v1/regulations", auth=secret(stack, tenant), body=body)

    assert answer.status == status
    assert problem in answer.body["message"]
    assert regulation_items(stack, tenant) == []


def test_given_no_body_or_not_json_then_a_4xx_json_error_and_nothing_is_stored(api, stack, tenant):
    auth = secret(stack, tenant)

    empty = api.request("POST", "/v1/regulations", auth=auth)
    text = api.request(
        "POST", "/v1/regulations", auth=auth, raw_body=b"type=delete", headers=[("Content-Type", "text/plain")]
    )
    broken = api.request(
        "POST", "/v1/regulations", auth=auth, raw_body=b"{", headers=[("Content-Type", "application/json")]
    )

    assert [(a.status, a.body["error"]) for a in (empty, text, broken)] == [
        (400, "empty_body"),
        (415, "unsupported_media_type"),
        (400, "invalid_json"),
    ]
    assert regulation_items(stack, tenant) == []


class FailingStore:
    def __getattr__(self, name: str) -> Any:
        def fail(*_: Any, **__: Any) -> Any:
            raise StorageError("storing a request failed: InternalServerError")

        return fail


def test_given_the_regulations_table_failing_then_503_with_retry_after(api, stack, tenant, monkeypatch):
    auth = secret(stack, tenant)
    monkeypatch.setattr(api.collector.collector.services.regulations, "_store", FailingStore())

    asked = api.request("POST", "/v1/regulations", auth=auth, body={"type": "delete", "user_id": USER})
    read = api.request("GET", "/v1/regulations/reg-0123456789abcdef01234567", auth=auth)

    assert [(a.status, a.body["error"], a.headers["Retry-After"]) for a in (asked, read)] == [
        (503, "regulations_unavailable", "1")
    ] * 2


# Suppression: the collector drops a suppressed user's new events on every route that sends them.

DEVICE = "device-7f3a"


class Clock:
    """The suppression cache's clock (monotonic seconds), moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cache_clock(api: Api, monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(api.collector.collector.services.ingestor.suppressions, "clock", clock)
    return clock


def tenant_lines(stack: DeployedStack, tenant: str) -> list[dict[str, Any]]:
    return [line for line in stack.raw_lines() if line["tenant"] == tenant]


def track_total(api: Api, auth: str, name: str) -> int:
    answer = api.request("GET", "/v1/counts", auth=auth, query=[("event_type", "track"), ("key", name)])
    total: int = answer.body["total"]
    return total


def published(output: str, metric: str) -> list[float]:
    """The values of ``metric`` in the EMF lines Powertools printed."""
    values: list[float] = []
    for line in output.splitlines():
        if line.startswith("{") and f'"{metric}"' in line:
            found = json.loads(line)[metric]
            values += found if isinstance(found, list) else [found]
    return values


def test_given_a_suppressed_user_when_events_arrive_on_every_route_then_only_other_users_are_stored_and_counted(
    api, stack, tenant, cache_clock, capsys
):
    auth = secret(stack, tenant)
    write_key = basic(stack.admin().issue_key(tenant).api_key)
    for selector, value in (("user_id", USER), ("anonymous_id", DEVICE)):
        asked = api.request("POST", "/v1/regulations", auth=auth, body={"type": "suppress", selector: value})
        assert asked.status == 202
    volume = api.collector.collector.volume
    volume.sums, volume.last_published = {}, None
    ours = {
        "events": [
            {"event_type": "track", "name": "buy", "user_id": USER},
            {"event_type": "track", "name": "buy", "user_id": "someone-else"},
            {"event_type": "page_view", "url": "https://a.example/", "session_id": "s", "anonymous_id": DEVICE},
        ]
    }
    segment = {
        "batch": [
            {"type": "track", "event": "buy", "userId": USER, "messageId": "m-1"},
            {"type": "page", "name": "Home", "anonymousId": DEVICE, "userId": "known-later", "messageId": "m-2"},
            {"type": "alias", "previousId": USER, "userId": "renamed", "messageId": "m-3"},
            {"type": "identify", "userId": "someone-else", "messageId": "m-4"},
        ]
    }

    sent = api.request("POST", "/v1/events", auth=auth, body=ours)
    batched = api.request("POST", "/v1/batch", auth=write_key, body=segment)
    single = api.request("POST", "/v1/track", auth=write_key, body={"event": "buy", "userId": USER})
    seed = api.request("POST", "/button/click", auth=auth, body={"session_id": "s", "button_id": "b", "user_id": USER})
    volume.last_published = None
    api.request("GET", "/v1/health")  # publishes the volume summed since

    assert (sent.status, sent.body) == (200, {"accepted": 3, "rejected": [], "suppressed": 2})
    assert (batched.status, batched.body["accepted"], batched.body["suppressed"]) == (200, 4, 3)
    assert (single.status, single.body["suppressed"]) == (200, 1)
    assert (seed.status, seed.body) == (200, {"message": "Received"})  # its body names no user: stored as before
    stored = tenant_lines(stack, tenant)
    assert sorted((line["event_type"], line.get("user_id")) for line in stored) == [
        ("button_click", None),
        ("identify", "someone-else"),
        ("track", "someone-else"),
    ]
    assert USER not in json.dumps(stored)
    assert DEVICE not in json.dumps(stored)
    assert track_total(api, auth, "buy") == 1
    output = capsys.readouterr().out
    assert sum(published(output, "EventsSuppressed")) == 6
    assert sum(published(output, "EventsAccepted")) == 3  # stored


def test_given_a_suppression_asked_of_this_container_then_it_holds_at_once_and_an_unsuppress_ends_it_at_once(
    api, stack, tenant, cache_clock
):
    auth = secret(stack, tenant)
    event = {"events": [{"event_type": "track", "name": "now", "user_id": USER}]}

    loaded_before = api.request("POST", "/v1/events", auth=auth, body=event)  # the container loads: none yet
    api.request("POST", "/v1/regulations", auth=auth, body={"type": "suppress", "user_id": USER})
    suppressed = api.request("POST", "/v1/events", auth=auth, body=event)  # no clock moved: this container knew
    ended = api.request("POST", "/v1/regulations", auth=auth, body={"type": "unsuppress", "user_id": USER})
    again = api.request("POST", "/v1/events", auth=auth, body=event)

    assert [a.body.get("suppressed", 0) for a in (loaded_before, suppressed, again)] == [0, 1, 0]
    assert (ended.status, ended.body["status"]) == (202, "applied")
    assert len(tenant_lines(stack, tenant)) == 2  # before and again
    assert track_total(api, auth, "now") == 2


def test_given_a_suppression_asked_elsewhere_then_it_holds_within_the_cache_age_and_so_does_its_end(
    api, stack, tenant, cache_clock
):
    """Asked through the CLI (or another container): this container sees it once its cached list is
    SUPPRESSION_CACHE_SECONDS (60 in the tests) old."""
    from event_collector.aws.regulations_table import RegulationsTable
    from event_collector.privacy.requests import RegulationBody, RegulationRequests

    elsewhere = RegulationRequests(RegulationsTable(stack.clients.dynamodb, stack.name("RegulationsTable")))
    auth = secret(stack, tenant)
    event = {"events": [{"event_type": "track", "name": "later", "user_id": USER}]}

    loaded_before = api.request("POST", "/v1/events", auth=auth, body=event)  # the container loads: none yet
    elsewhere.ask(tenant, RegulationBody(type="suppress", user_id=USER), source="cli")
    cache_clock.now += 59
    stale = api.request("POST", "/v1/events", auth=auth, body=event)
    cache_clock.now += 1
    suppressed = api.request("POST", "/v1/events", auth=auth, body=event)
    elsewhere.ask(tenant, RegulationBody(type="unsuppress", user_id=USER), source="cli")
    still = api.request("POST", "/v1/events", auth=auth, body=event)
    cache_clock.now += 60
    again = api.request("POST", "/v1/events", auth=auth, body=event)

    assert [a.body.get("suppressed", 0) for a in (loaded_before, stale, suppressed, still, again)] == [0, 0, 1, 1, 0]
    assert len(tenant_lines(stack, tenant)) == 3  # before, stale (within SUPPRESSION_CACHE_SECONDS), again
    assert track_total(api, auth, "later") == 3


def test_given_every_event_of_a_request_suppressed_then_200_accepted_and_nothing_delivered_or_counted(
    api, stack, tenant, cache_clock
):
    auth = secret(stack, tenant)
    api.request("POST", "/v1/regulations", auth=auth, body={"type": "suppress", "user_id": USER})
    raw_before = set(stack.raw_keys())

    sent = api.request(
        "POST", "/v1/events", auth=auth, body={"events": [{"event_type": "track", "name": "x", "user_id": USER}]}
    )

    assert (sent.status, sent.body) == (200, {"accepted": 1, "rejected": [], "suppressed": 1})
    assert set(stack.raw_keys()) == raw_before  # no Firehose call at all
    assert track_total(api, auth, "x") == 0


def test_given_suppressions_that_cannot_be_loaded_then_events_are_delivered_and_the_failure_reported(
    api, stack, tenant, cache_clock, monkeypatch, capsys, caplog
):
    auth = secret(stack, tenant)
    api.request("POST", "/v1/regulations", auth=auth, body={"type": "suppress", "user_id": USER})
    monkeypatch.setattr(api.collector.collector.services.ingestor.suppressions, "_source", FailingStore())

    sent = api.request(
        "POST", "/v1/events", auth=auth, body={"events": [{"event_type": "track", "name": "y", "user_id": USER}]}
    )

    assert (sent.status, sent.body) == (200, {"accepted": 1, "rejected": []})  # no 5xx: delivered, not lost
    assert len(tenant_lines(stack, tenant)) == 1
    assert "Suppressions not loaded" in caplog.text
    assert USER not in caplog.text
    assert published(capsys.readouterr().out, "SuppressionLoadFailures") == [1.0]
