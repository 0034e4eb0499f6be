"""Every feature path of the request path through the wiring that deploys: the authorizer's and the
collector's ``app.py`` imported with the template's environment, their lean request-path clients talking
to a moto server (tests/functions/deployed.py). A fake stands in for AWS only, never for our composition.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from event_collector.aws.counters_table import CountersTable
from event_collector.counts.rollups import DayRollup, top_entry
from tests.functions.deployed import Api, DeployedStack, basic, context, start_deployed_stack

ORIGIN = "https://shop.example"


@pytest.fixture(scope="module")
def stack() -> Iterator[DeployedStack]:
    started = start_deployed_stack()
    yield started
    started.server.stop()


@pytest.fixture(scope="module", params=["REST", "HTTP"])
def api(request: pytest.FixtureRequest, stack: DeployedStack) -> Api:
    return Api(stack, request.param)


@pytest.fixture
def tenant(stack: DeployedStack, request: pytest.FixtureRequest) -> str:
    """A tenant of its own for each test (names from the test's id, so none shares a counter)."""
    name = "t-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]
    stack.admin().create_tenant(name)
    return name


def secret(stack: DeployedStack, tenant: str, **options: object) -> str:
    issued = stack.admin().issue_key(tenant, **options)  # type: ignore[arg-type]
    return basic(tenant, issued.api_key)


def test_given_a_secret_key_when_events_are_sent_then_stored_and_counted_before_the_answer(api, stack, tenant):
    auth = secret(stack, tenant)
    events = [
        {"event_type": "page_view", "url": "https://a.example/", "session_id": "s"},
        {"event_type": "page_view", "url": "https://a.example/", "session_id": "s"},
        {"event_type": "button_click", "button_id": "buy", "session_id": "s"},
    ]

    sent = api.request("POST", "/v1/events", auth=auth, body={"events": events})
    page = api.request(
        "GET", "/v1/counts", auth=auth, query=[("event_type", "page_view"), ("key", "https://a.example/")]
    )
    every_view = api.request("GET", "/v1/counts", auth=auth, query=[("event_type", "page_view")])

    assert (sent.status, sent.body) == (200, {"accepted": 3, "rejected": []})
    assert (page.status, page.body["total"]) == (200, 2)  # no fan-out, no wait: counted with the request
    assert every_view.body["total"] == 2
    assert sum(1 for line in stack.raw_lines() if line["tenant"] == tenant) == 3


@pytest.mark.parametrize(
    ("post", "body", "count", "query"),
    [
        ("/button/click", {"session_id": "XYZ", "button_id": "ABC"}, "/button/click/count", ("button_id", "ABC")),
        (
            "/web/page_view",
            {"url": "http://something.com", "referral_url": "/", "useragent": "ua", "session_id": "XYZ"},
            "/web/page_view/count",
            ("url", "http://something.com"),
        ),
    ],
)
def test_given_the_seed_routes_when_posted_then_the_count_follows_each_answer(
    api, stack, tenant, post, body, count, query
):
    auth = secret(stack, tenant)

    before = api.request("GET", count, auth=auth, query=[query])
    posted = [api.request("POST", post, auth=auth, body=body) for _ in range(2)]
    after = api.request("GET", count, auth=auth, query=[query])
    bad = api.request("POST", post, auth=auth, body={"session_id": "XYZ"})
    unchanged = api.request("GET", count, auth=auth, query=[query])

    assert (before.status, before.body) == (200, {"count": 0})
    assert [(p.status, p.body) for p in posted] == [(200, {"message": "Received"})] * 2
    assert after.body == {"count": 2}
    assert bad.status == 422
    assert unchanged.body == {"count": 2}


def test_given_a_rate_limited_key_when_sending_then_three_answers_then_429_with_retry_after(
    api, stack, tenant, monkeypatch
):
    auth = secret(stack, tenant, rate_per_minute=3)
    # One minute for all four requests (the limiter's clock only; its DynamoDB writes are real).
    monkeypatch.setattr(api.collector.collector.services.rates, "_clock", lambda: 1_800_000_030.0)
    body = {"events": [{"event_type": "track", "name": "limited"}]}

    answers = [api.request("POST", "/v1/events", auth=auth, body=body) for _ in range(4)]
    counted = api.request("GET", "/v1/counts", auth=auth, query=[("event_type", "track"), ("key", "limited")])

    assert [answer.status for answer in answers] == [200, 200, 200, 429]
    assert answers[3].body["error"] == "rate_limited"
    assert answers[3].headers["Retry-After"] == "30"
    assert counted.body["total"] == 3


def test_given_a_publishable_key_when_sent_from_its_origin_then_accepted_else_refused(api, stack, tenant):
    key = stack.admin().issue_key(tenant, scope="publishable", origins=(ORIGIN,)).api_key
    body = {"events": [{"event_type": "page_view", "url": "https://shop.example/", "session_id": "s"}]}

    allowed = api.request("POST", "/v1/events", auth=basic(key), body=body, headers=[("Origin", ORIGIN)])
    elsewhere = api.request(
        "POST", "/v1/events", auth=basic(key), body=body, headers=[("Origin", "https://evil.example")]
    )
    reading = api.request("GET", "/v1/counts", auth=basic(tenant, key), query=[("event_type", "page_view")])

    assert (allowed.status, allowed.headers["Access-Control-Allow-Origin"]) == (200, ORIGIN)
    assert (elsewhere.status, elsewhere.body["error"]) == (403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in elsewhere.headers
    assert reading.status == 403  # a publishable key may only send


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_given_segment_messages_when_sent_with_a_write_key_then_accepted_and_counted(api, stack, tenant, gzipped):
    issued = stack.admin().issue_key(tenant)
    batch = {
        "batch": [
            {"type": "track", "event": "Order Completed", "userId": "u-1", "messageId": f"m-{gzipped}-1"},
            {"type": "page", "name": "Home", "anonymousId": "a-1", "messageId": f"m-{gzipped}-2"},
        ]
    }
    track = {"event": "Order Completed", "userId": "u-2", "messageId": f"m-{gzipped}-3"}

    batched = api.request("POST", "/v1/batch", auth=basic(issued.api_key), body=batch, gzipped=gzipped)
    single = api.request("POST", "/v1/track", auth=basic(issued.api_key), body=track, gzipped=gzipped)
    counted = api.request(
        "GET",
        "/v1/counts",
        auth=basic(tenant, issued.api_key),
        query=[("event_type", "track"), ("key", "Order Completed")],
    )

    assert (batched.status, batched.body["accepted"]) == (200, 2)
    assert (single.status, single.body["accepted"]) == (200, 1)
    assert counted.body["total"] == 2


def test_given_dynamodb_failing_after_firehose_took_the_events_then_200_and_the_failure_reported(
    api, stack, tenant, capsys, caplog
):
    auth = secret(stack, tenant)
    stack.faults.arm({"dynamodb_throttles": 100})
    try:
        sent = api.request("POST", "/v1/events", auth=auth, body={"events": [{"event_type": "track", "name": "d"}]})
    finally:
        stack.faults.arm({"dynamodb_throttles": 0})
    counted = api.request("GET", "/v1/counts", auth=auth, query=[("event_type", "track"), ("key", "d")])

    assert (sent.status, sent.body["accepted"]) == (200, 1)  # the events are stored: the client must not resend
    assert [line["name"] for line in stack.raw_lines() if line["tenant"] == tenant] == ["d"]
    assert counted.body["total"] == 0
    assert "Counting failed after Firehose accepted the events" in caplog.text
    assert '"CounterUpdateFailures":[1.0]' in capsys.readouterr().out


def test_given_firehose_down_when_sending_then_503_and_nothing_counted(api, stack, tenant):
    auth = secret(stack, tenant)
    stack.faults.arm({"firehose_outage": 100})
    try:
        sent = api.request("POST", "/button/click", auth=auth, body={"session_id": "s", "button_id": "down"})
    finally:
        stack.faults.arm({"firehose_outage": 0})
    counted = api.request("GET", "/button/click/count", auth=auth, query=[("button_id", "down")])

    assert (sent.status, sent.headers.get("Retry-After") is not None) == (503, True)
    assert counted.body == {"count": 0}


def test_given_the_delivered_counting_mode_then_the_collector_writes_no_count_and_the_fan_out_does(stack, tenant):
    delivered = {"CountingMode": "delivered"}
    collector = stack.function("CollectorFunction", delivered)
    fan_out = stack.function("FanOutFunction", delivered)
    api = Api(stack)
    api.collector = collector
    auth = secret(stack, tenant)
    before = set(stack.raw_keys())

    sent = api.request("POST", "/v1/events", auth=auth, body={"events": [{"event_type": "track", "name": "late"}]})
    not_yet = api.request("GET", "/v1/counts", auth=auth, query=[("event_type", "track"), ("key", "late")])
    (raw,) = set(stack.raw_keys()) - before
    record = {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}
    record["s3"] = {"bucket": {"name": stack.name("RawBucket")}, "object": {"key": raw}}  # type: ignore[assignment]
    fan_out.lambda_handler({"Records": [record]}, context("fan_out", 300))
    counted = api.request("GET", "/v1/counts", auth=auth, query=[("event_type", "track"), ("key", "late")])

    assert sent.status == 200
    assert not_yet.body["total"] == 0
    assert counted.body["total"] == 1


def test_given_the_realtime_mode_when_a_raw_object_is_fanned_out_then_it_is_not_counted_twice(stack, tenant):
    api, fan_out = Api(stack), stack.function("FanOutFunction")
    auth = secret(stack, tenant)
    before = set(stack.raw_keys())

    api.request("POST", "/v1/events", auth=auth, body={"events": [{"event_type": "track", "name": "once"}]})
    (raw,) = set(stack.raw_keys()) - before
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": stack.name("RawBucket")}, "object": {"key": raw}},
            }
        ]
    }
    report = fan_out.lambda_handler(event, context("fan_out", 300))
    counted = api.request("GET", "/v1/counts", auth=auth, query=[("event_type", "track"), ("key", "once")])

    assert report["objects"][0]["lines_out"] == 1
    assert report["objects"][0]["counter_writes"] == 0
    assert counted.body["total"] == 1


def test_given_the_health_route_then_answered_without_credentials(api):
    answer = api.request("GET", "/v1/health")

    assert (answer.status, answer.body["status"]) == (200, "ok")


def test_given_a_request_with_many_distinct_keys_then_every_counter_is_written_side_by_side(api, stack, tenant):
    # More than two writes: the lean client's connections and the container's write pool, as deployed.
    auth = secret(stack, tenant)
    urls = [f"https://many.example/{n}" for n in range(30)]
    events = [{"event_type": "page_view", "url": url, "session_id": "s"} for url in urls for _ in range(2)]

    sent = api.request("POST", "/v1/events", auth=auth, body={"events": events})
    counted = [
        api.request("GET", "/v1/counts", auth=auth, query=[("event_type", "page_view"), ("key", url)]).body["total"]
        for url in urls
    ]
    every = api.request("GET", "/v1/counts", auth=auth, query=[("event_type", "page_view")])

    assert (sent.status, sent.body["accepted"]) == (200, 60)
    assert counted == [2] * 30
    assert every.body["total"] == 60


def test_given_rollups_and_today_s_events_then_the_daily_route_answers_both_behind_the_authorizer(api, stack, tenant):
    """The deployed composition's rollups are the counters table's (compaction writes them there): days it
    rolled up answer from their item, today from the counters the request just wrote."""
    auth = secret(stack, tenant)
    sent = api.request("POST", "/v1/events", auth=auth, body={"events": [{"event_type": "track", "name": "Paid"}] * 3})
    (received,) = {line["received_at"] for line in stack.raw_lines() if line["tenant"] == tenant}
    today = datetime.fromtimestamp(received / 1000, tz=UTC).date()
    before = [str(today - timedelta(days=offset)) for offset in (3, 1)]
    table = CountersTable(stack.clients.dynamodb, stack.name("CountersTable"))
    table.put_rollups([DayRollup(tenant, "track", day, 5, 2, 1, 1, (top_entry("Paid", 5, 2, 1),)) for day in before])
    span = [("event_type", "track"), ("from", before[0]), ("to", str(today))]

    daily = api.request("GET", "/v1/counts/daily", auth=auth, query=span)
    key = stack.admin().issue_key(tenant, scope="publishable", origins=(ORIGIN,)).api_key
    publishable = api.request("GET", "/v1/counts/daily", auth=basic(tenant, key), query=span)

    assert sent.status == 200
    assert daily.status == 200, daily.body
    assert [(day["day"], day["events"], day["source"]) for day in daily.body["days"]] == [
        (before[0], 5, "compacted"),
        (str(today - timedelta(days=2)), 0, None),
        (before[1], 5, "compacted"),
        (str(today), 3, "realtime"),
    ]
    assert (daily.body["total"], daily.body["keys"]) == (13, [{"key": "Paid", "kind": "key", "events": 10}])
    assert publishable.status == 403  # the count routes take a secret key only
