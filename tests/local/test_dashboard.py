"""The dashboard's page and its local-only JSON routes, over HTTP against a running stack; and the pure parts
(top keys from counter items, the compaction summary) on their own."""

from __future__ import annotations

import hashlib
import http.client
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from event_collector.compaction.contracts import CompactResult, RawPartitionRef
from event_collector.event_types import DECLARED_FIELDS
from local.dashboard_data import DayItem, compaction_summary, top_keys
from tests.local.conftest import RunningStack


def get(stack: RunningStack, path: str) -> tuple[int, dict[str, str], bytes]:
    """http.client, so a redirect is seen as it is answered."""
    connection = http.client.HTTPConnection("127.0.0.1", stack.api_port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def send(stack: RunningStack, index: int, events: list[dict]) -> dict:
    answer = stack.request("POST", "/v1/events", body={"events": events}, auth=stack.demo_auth(index))
    assert answer.status == 200, answer.body
    return answer.json()


def page_view(url: str) -> dict:
    return {"event_type": "page_view", "url": url, "session_id": "s-dashboard"}


# -- the page -----------------------------------------------------------------------------------------
def test_given_the_dashboard_when_loaded_then_it_is_one_self_contained_page_without_a_secret(
    local_stack: RunningStack,
):
    answer = local_stack.request("GET", "/dashboard")

    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "connect-src 'self'" in answer.headers["Content-Security-Policy"]
    page = answer.body.decode()
    assert all(tenant["api_key"] not in page for tenant in local_stack.info["tenants"])
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?(https?:)?//""", page)
    assert 'id="tenant"' in page
    assert 'role="status"' in page


def test_given_the_page_when_read_then_it_lists_every_event_type_the_api_counts(local_stack: RunningStack):
    page = local_stack.request("GET", "/dashboard").body.decode()

    listed = re.search(r"const EVENT_TYPES = \[([^\]]*)\]", page)
    assert listed is not None
    assert set(re.findall(r'"([a-z_]+)"', listed.group(1))) == set(DECLARED_FIELDS)


def test_given_an_old_demo_link_when_followed_then_it_leads_to_the_dashboard(local_stack: RunningStack):
    status, headers, _ = get(local_stack, "/demo")

    assert (status, headers["Location"]) == (302, "/dashboard")


# -- the JSON routes ----------------------------------------------------------------------------------
def test_given_the_tenants_route_when_called_then_it_names_the_demo_tenants_with_publishable_keys_only(
    local_stack: RunningStack,
):
    answer = local_stack.request("GET", "/dashboard/api/tenants")

    assert answer.status == 200
    expected = [{"tenant": t["tenant"], "publishable_key": t["publishable_key"]} for t in local_stack.info["tenants"]]
    assert answer.json() == {"tenants": expected, "counting_mode": "realtime"}
    assert all(tenant["api_key"] not in answer.body.decode() for tenant in local_stack.info["tenants"])


def test_given_events_when_counts_are_read_through_the_dashboard_then_they_are_the_api_answer(
    local_stack: RunningStack,
):
    url = f"https://shop.example/{uuid.uuid4().hex}"
    send(local_stack, 1, [page_view(url), page_view(url)])
    local_stack.drain()
    query = f"event_type=page_view&key={url}"

    through_dashboard = local_stack.request("GET", f"/dashboard/api/counts?tenant=demo-two&{query}")
    from_api = local_stack.request("GET", f"/v1/counts?{query}", auth=local_stack.demo_auth(1))

    assert through_dashboard.status == 200
    assert through_dashboard.json() == from_api.json()
    assert through_dashboard.json()["total"] == 2
    assert local_stack.request("GET", f"/dashboard/api/counts?tenant=demo&{query}").json()["total"] == 0


def test_given_events_when_daily_counts_are_read_through_the_dashboard_then_they_are_the_api_answer(
    local_stack: RunningStack,
):
    send(local_stack, 1, [page_view(f"https://shop.example/{uuid.uuid4().hex}")] * 3)
    local_stack.drain()
    query = "event_type=page_view&limit=5"

    through_dashboard = local_stack.request("GET", f"/dashboard/api/daily?tenant=demo-two&{query}")
    from_api = local_stack.request("GET", f"/v1/counts/daily?{query}", auth=local_stack.demo_auth(1))

    assert through_dashboard.status == 200
    assert through_dashboard.json() == from_api.json()
    assert through_dashboard.json()["tenant"] == "demo-two"
    assert through_dashboard.json()["days"][-1]["source"] == "realtime"  # today: from the counters
    assert through_dashboard.json()["total"] >= 3


def test_given_keys_of_a_type_when_top_keys_are_asked_then_they_come_most_first_per_tenant(
    local_stack: RunningStack,
):
    run = uuid.uuid4().hex[:8]
    busy, quiet, long = f"https://a.example/{run}/busy", f"https://a.example/{run}/quiet", "x" * 1200 + run
    send(local_stack, 0, [page_view(busy)] * 3 + [page_view(quiet), page_view(long)])
    local_stack.drain()

    answer = local_stack.request("GET", "/dashboard/api/top?tenant=demo&event_type=page_view&limit=100").json()
    other = local_stack.request("GET", "/dashboard/api/top?tenant=demo-two&event_type=page_view").json()

    mine = [entry for entry in answer["keys"] if run in (entry["key"] or "") or entry["kind"] == "hashed"]
    long_hash = hashlib.sha256(long.encode()).hexdigest()
    assert {"key": busy, "kind": "key", "count": 3} in mine
    assert {"key": quiet, "kind": "key", "count": 1} in mine
    assert {"key": long_hash, "kind": "hashed", "count": 1} in mine
    assert mine.index({"key": busy, "kind": "key", "count": 3}) < mine.index({"key": quiet, "kind": "key", "count": 1})
    assert answer["total"] >= 5
    assert (answer["tenant"], answer["event_type"]) == ("demo", "page_view")
    assert all(run not in (entry["key"] or "") for entry in other["keys"])


def test_given_a_range_before_the_events_when_top_keys_are_asked_then_there_are_none(local_stack: RunningStack):
    send(local_stack, 0, [page_view(f"https://b.example/{uuid.uuid4().hex}")])
    local_stack.drain()
    long_ago = datetime.now(UTC) - timedelta(days=20)
    span = f"from={long_ago:%Y-%m-%dT%H:00:00Z}&to={long_ago + timedelta(days=1):%Y-%m-%dT%H:00:00Z}"

    answer = local_stack.request("GET", f"/dashboard/api/top?tenant=demo&event_type=page_view&{span}").json()

    assert (answer["keys"], answer["total"], answer["distinct"]) == ([], 0, 0)
    assert answer["from"] == f"{long_ago:%Y-%m-%dT%H}:00:00Z"


def test_given_a_rejected_event_when_rejections_are_asked_then_it_shows_with_its_reason_for_its_tenant_only(
    local_stack: RunningStack,
):
    marker = f"bad-{uuid.uuid4().hex[:8]}"
    valid = {"event_type": "track", "name": "fine", "properties": {}}
    send(local_stack, 0, [valid, {"event_type": "track", "name": marker, "properties": {}, "flavour": "x"}])

    mine = local_stack.request("GET", "/dashboard/api/rejections?tenant=demo&limit=5").json()
    theirs = local_stack.request("GET", "/dashboard/api/rejections?tenant=demo-two").json()

    found = [r for r in mine["rejections"] if marker in (r["event"] or "")]
    assert len(found) == 1
    assert found[0]["message"] == "flavour: Extra inputs are not permitted"
    assert (found[0]["tenant"], found[0]["path"], found[0]["error"], found[0]["index"]) == (
        "demo",
        "/v1/events",
        "rejected",
        1,
    )
    assert len(mine["rejections"]) <= 5
    assert all(marker not in (r["event"] or "") for r in theirs["rejections"])


def test_given_a_compaction_run_when_the_dashboard_asks_then_it_shows_partitions_rows_and_duplicates(
    local_stack: RunningStack,
):
    event_id = f"dup-{uuid.uuid4().hex[:8]}"
    twice = {"event_type": "track", "name": "twice", "properties": {}, "event_id": event_id}
    send(local_stack, 1, [twice, twice])
    local_stack.drain()
    ran = local_stack.request("POST", "/__local/compact", body={}).json()

    answer = local_stack.request("GET", "/dashboard/api/compaction").json()["compaction"]

    assert ran["status"] == answer["status"] == "SUCCEEDED"
    assert answer["run_id"] == ran["report"]["run_id"]
    assert answer["finished_at"]
    assert answer["duplicates_removed"] >= 1
    assert answer["rows_out"] == ran["report"]["rows_out"] > 0
    assert answer["failures"] == []
    assert answer["tenants"]["failed"] == 0
    demo_two = next(tenant for tenant in answer["by_tenant"] if tenant["tenant"] == "demo-two")
    assert demo_two["partitions"] >= 1
    assert "track" in demo_two["event_types"]
    assert answer["partitions"] == sum(tenant["partitions"] for tenant in answer["by_tenant"])


@pytest.mark.parametrize(
    ("path", "status", "phrase"),
    [
        ("/dashboard/api/top?event_type=track", 400, "'tenant' is required"),
        ("/dashboard/api/top?tenant=acme&event_type=track", 404, "demo tenant"),
        ("/dashboard/api/rejections?tenant=../demo", 404, "demo tenant"),
        ("/dashboard/api/counts?tenant=nobody&event_type=track", 404, "demo tenant"),
        ("/dashboard/api/top?tenant=demo", 400, "'event_type' must be one of"),
        ("/dashboard/api/top?tenant=demo&event_type=clicks", 400, "'event_type' must be one of"),
        ("/dashboard/api/top?tenant=demo&event_type=track&from=yesterday", 400, "'from' must be"),
        ("/dashboard/api/top?tenant=demo&event_type=track&to=99999999999999999999", 400, "'to' must be"),
        (
            "/dashboard/api/top?tenant=demo&event_type=track&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            400,
            "'from' must not be after 'to'",
        ),
        (
            "/dashboard/api/top?tenant=demo&event_type=track&from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z",
            400,
            "at most 744 hours",
        ),
        ("/dashboard/api/top?tenant=demo&event_type=track&limit=0", 400, "'limit'"),
        ("/dashboard/api/top?tenant=demo&event_type=track&limit=ten", 400, "'limit'"),
        ("/dashboard/api/top?tenant=demo&event_type=track&limit=%EF%BC%91", 400, "'limit'"),
        ("/dashboard/api/rejections?tenant=demo&limit=201", 400, "'limit' must be a whole number from 1 to 200"),
        ("/dashboard/api/top?tenant=demo&event_type=track&colour=red", 400, "unknown query parameter 'colour'"),
        ("/dashboard/api/compaction?tenant=demo", 400, "unknown query parameter 'tenant'"),
        ("/dashboard/api/tenants?all=1", 400, "unknown query parameter 'all'"),
        ("/dashboard/api/counts?tenant=demo&event_type=clicks", 400, "'event_type' must be one of"),
        ("/dashboard/api/counts?tenant=demo&event_type=track&from=soon", 400, "'from' must be"),
        ("/dashboard/api/daily?tenant=nobody&event_type=track", 404, "demo tenant"),
        ("/dashboard/api/daily?tenant=demo&event_type=track&from=2026-3-1", 400, "'from' must be a UTC day"),
        ("/dashboard/api/daily?tenant=demo&event_type=track&limit=101", 400, "'limit' must be a whole number"),
        ("/dashboard/api/daily?tenant=demo&event_type=track&key=x", 400, "unknown query parameter 'key'"),
        ("/dashboard/api/daily?tenant=demo", 400, "'event_type' is required"),
    ],
)
def test_given_a_bad_parameter_when_a_dashboard_route_is_called_then_a_4xx_json_names_it(
    local_stack: RunningStack, path: str, status: int, phrase: str
):
    answer = local_stack.request("GET", path)

    assert answer.status == status, answer.body
    assert answer.headers["Content-Type"] == "application/json"
    assert phrase in answer.json()["message"]


# -- the pure parts -----------------------------------------------------------------------------------
def test_given_day_items_when_ranked_then_only_the_hours_of_the_range_count():
    items = [
        DayItem("*", "2026-01-01", {"22": 4, "23": 1}),
        DayItem("*", "2026-01-02", {"00": 2, "05": 9}),
        DayItem("k:/home", "2026-01-01", {"22": 3, "23": 1}),
        DayItem("k:/home", "2026-01-02", {"00": 1, "05": 9}),
        DayItem("k:/about", "2026-01-01", {"23": 2}),
        DayItem("k:/b", "2026-01-02", {"00": 2}),
        DayItem("h:" + "a" * 64, "2026-01-02", {"00": 1}),
        DayItem("o:", "2026-01-01", {"23": 5}),
        DayItem("k:/before", "2026-01-01", {"21": 7}),
    ]
    hours = ["2026-01-01T22", "2026-01-01T23", "2026-01-02T00"]

    ranked = top_keys(items, hours, limit=4)

    assert ranked == {
        "total": 7,
        "distinct": 5,
        "keys": [
            {"key": "/home", "kind": "key", "count": 5},
            {"key": None, "kind": "overflow", "count": 5},
            {"key": "/about", "kind": "key", "count": 2},
            {"key": "/b", "kind": "key", "count": 2},
        ],
    }


def test_given_no_compaction_yet_when_summarized_then_none():
    assert compaction_summary(None, []) is None


def test_given_a_failed_tenant_when_summarized_then_the_failure_and_partitions_show():
    partition = RawPartitionRef(event_type="track", tenant="demo", year="2026", month="01", day="02", hour="03")
    results = [
        CompactResult(
            tenant="demo", status="ok", rows_in=3, rows_out=2, duplicates_removed=1, raw_partitions=[partition]
        ),
        CompactResult(tenant="demo-two", status="failed", error="boom"),
    ]
    report = {"run_id": "r1", "items": 2, "ok": 1, "failed": 1, "rows_in": 3, "rows_out": 2, "duplicates_removed": 1}
    last = {"status": "FAILED", "report": {**report, "failures": [{"tenant": "demo-two", "error": "boom"}]}}

    summary = compaction_summary({**last, "error": "States.TaskFailed", "finished_at": "t"}, results)

    assert summary is not None
    assert (summary["status"], summary["error"], summary["partitions"], summary["duplicates_removed"]) == (
        "FAILED",
        "States.TaskFailed",
        1,
        1,
    )
    assert summary["tenants"] == {"items": 2, "ok": 1, "skipped": 0, "failed": 1}
    assert summary["failures"] == [{"tenant": "demo-two", "error": "boom"}]
    assert [t["status"] for t in summary["by_tenant"]] == ["ok", "failed"]
