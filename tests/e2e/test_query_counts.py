"""Issue 24, done when: through the local stack as ``make local`` runs it, known page views sent over HTTP
(several URLs and sessions, one event sent twice), ``make compact``, then ``make query SQL=...`` over
``page_view`` and over ``daily_counts`` print exactly the events and distinct sessions sent per URL.

Each session's events go in one request, so a session has one receive day: summing ``daily_counts``' days
gives the numbers sent even when the test runs across midnight UTC.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.local.conftest import RunningStack, start_stack, stop_stack
from tools.template import ROOT

DEMO, DEMO_TWO = 0, 1
# (tenant index, session, [(event id, url), ...]): one request each.
SESSIONS: list[tuple[int, str, list[tuple[str, str]]]] = [
    (DEMO, "s-1", [("q-1", "/a"), ("q-2", "/a"), ("q-3", "/c")]),
    (DEMO, "s-2", [("q-4", "/a"), ("q-5", "/b")]),
    (DEMO, "s-3", [("q-6", "/b"), ("q-7", "/b"), ("q-8", "/a")]),
    (DEMO_TWO, "t-1", [("q-9", "/a")]),
]
RESENT = (DEMO, "s-2", [("q-4", "/a")])  # the same event again, as a client does after a lost answer
# What was sent, per tenant and URL: events (the resend not counted) and distinct sessions.
EXPECTED = "tenant,url,events,sessions\ndemo,/a,4,3\ndemo,/b,3,2\ndemo,/c,1,1\ndemo-two,/a,1,1\n"


def make(stack: RunningStack, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "LOCAL_STATE_DIR": str(stack.stack_file.parent)}
    command = ["make", "--no-print-directory", "--silent", *arguments]  # --silent: the rows alone, no command echo
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


def send(stack: RunningStack, tenant_index: int, session: str, views: list[tuple[str, str]]) -> None:
    events: list[dict[str, Any]] = [
        {"event_type": "page_view", "event_id": event_id, "url": url, "session_id": session, "user_id": session}
        for event_id, url in views
    ]
    answer = stack.request("POST", "/v1/events", body={"events": events}, auth=stack.demo_auth(tenant_index))
    assert (answer.status, answer.json()["accepted"]) == (200, len(events)), answer.body


@pytest.fixture(scope="module")
def compacted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(tmp_path_factory.mktemp("query-counts") / ".local")
    try:
        for tenant_index, session, views in [*SESSIONS, RESENT]:
            send(stack, tenant_index, session, views)
        stack.drain()
        compaction = make(stack, "compact")
        assert compaction.returncode == 0, compaction.stdout + compaction.stderr
        yield stack
    finally:
        stop_stack(stack)


def test_given_page_views_sent_and_compacted_when_page_view_is_queried_then_events_and_sessions_are_as_sent(
    compacted,
):
    sql = (
        "SELECT tenant, url, count(*) AS events, count(DISTINCT session_id) AS sessions "
        "FROM page_view GROUP BY 1, 2 ORDER BY 1, 2"
    )

    result = make(compacted, "query", f"SQL={sql}")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == EXPECTED


def test_given_page_views_sent_and_compacted_when_daily_counts_is_queried_then_it_holds_the_same_numbers(
    compacted,
):
    sql = (
        "SELECT tenant, key AS url, sum(events) AS events, sum(sessions) AS sessions "
        "FROM daily_counts WHERE event_type = 'page_view' GROUP BY 1, 2 ORDER BY 1, 2"
    )

    result = make(compacted, "query", f"SQL={sql}")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == EXPECTED
