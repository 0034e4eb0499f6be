"""A real browser (Debian's headless Chromium) against the local stack (issue 14).

A page on one origin loads the JS SDK from the API on another origin and sends
with a publishable key issued for its origin; events queued when the page goes
away leave by ``navigator.sendBeacon`` (``text/plain``, the key in the query),
in several beacons under the browser's 64 KB when more is queued; a page on an
origin outside the key's list can send nothing, neither by ``fetch`` nor by
beacon; and a click through the dashboard is counted.
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.clients.conftest import compacted_ids, issue_key, settle
from tests.fakes.site import Site
from tests.local.conftest import RunningStack

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>shop</title></head><body>
<script type="module">
  import { createCollector } from "__SDK__/sdk/collector.js";
  const errors = [];
  window.collector = createCollector({
    apiUrl: "__API__", writeKey: "__KEY__", storage: null,
    flushAt: 1000, flushInterval: 3600000, maxRetries: 0,
    onError: (error, events) => errors.push([error.message, events.length]),
  });
  window.errors = errors;
  window.ready = true;
</script></body></html>"""


class Tap:
    """A pass-through in front of the API that tells the test when a request has been answered.

    The browser sends a beacon after the page is gone, where Playwright no longer
    reports it; the tap lets the test wait for that request itself instead of
    sleeping. It forwards method, path, headers and body unchanged.
    """

    def __init__(self, api_url: str) -> None:
        self.seen: list[tuple[str, str, int, str, int]] = []  # method, path, status, Content-Type, body size
        self.changed = threading.Condition()
        tap = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                headers = {
                    name: value for name, value in self.headers.items() if name.lower() not in {"host", "connection"}
                }
                request = urllib.request.Request(api_url + self.path, data=data, headers=headers, method=self.command)
                try:
                    with urllib.request.urlopen(request, timeout=30) as answer:
                        status, answer_headers, body = answer.status, answer.headers.items(), answer.read()
                except urllib.error.HTTPError as error:
                    status, answer_headers, body = error.code, error.headers.items(), error.read()
                self.send_response(status)
                for name, value in answer_headers:
                    if name.lower() not in {"connection", "transfer-encoding", "content-length", "date", "server"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with tap.changed:
                    tap.seen.append((self.command, self.path, status, self.headers.get("Content-Type", ""), length))
                    tap.changed.notify_all()

            do_GET = do_POST = do_OPTIONS = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def beacon(self) -> tuple[int, str]:
        """(status, request Content-Type) of the first beacon (a POST with the key in its query), once answered."""
        return self.beacons(1)[0][:2]

    def beacons(self, count: int) -> list[tuple[int, str, int]]:
        """(status, request Content-Type, body size) of the first ``count`` beacons, once answered."""
        with self.changed:
            assert self.changed.wait_for(lambda: len(self._beacons()) >= count, timeout=60), self.seen
            return self._beacons()[:count]

    def wait_for(self, method: str, path: str) -> int:
        """The status of the first ``method`` request to ``path``, once answered."""
        with self.changed:
            assert self.changed.wait_for(lambda: self._statuses(method, path), timeout=60), self.seen
            return self._statuses(method, path)[0]

    def _statuses(self, method: str, path: str) -> list[int]:
        return [
            status for seen_method, seen_path, status, _, _ in self.seen if (seen_method, seen_path) == (method, path)
        ]

    def _beacons(self) -> list[tuple[int, str, int]]:
        return [
            (status, kind, size)
            for method, path, status, kind, size in self.seen
            if method == "POST" and "writeKey=" in path
        ]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop(stack: RunningStack) -> Iterator[tuple[Site, Site, Tap, str]]:
    """Two sites and the tapped API; a publishable key that allows only the first site."""
    tenant = f"browser-{uuid.uuid4().hex[:6]}"
    allowed, refused, tap = Site(), Site(), Tap(stack.info["api_url"])
    key = issue_key(stack, tenant, origins=(allowed.url,))
    page = PAGE.replace("__SDK__", stack.info["api_url"]).replace("__API__", tap.url).replace("__KEY__", key)
    allowed.html = refused.html = page
    yield allowed, refused, tap, tenant
    for server in (allowed, refused, tap):
        server.close()


def _open(browser: Any, url: str) -> tuple[Any, Any]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(url + "/shop.html")
    page.wait_for_function("window.ready === true")
    return context, page


def _queue(page: Any, run: str, names: list[str]) -> None:
    page.evaluate(
        "([run, names]) => names.forEach((name) => window.collector.track(name, {}, { event_id: run + '-' + name }))",
        [run, names],
    )


def test_cross_origin_fetch_and_beacon_on_page_hide(
    stack: RunningStack, browser: Any, shop: tuple[Site, Site, Tap, str]
) -> None:
    allowed, _, tap, tenant = shop
    run = f"br-{uuid.uuid4().hex[:8]}"
    context, page = _open(browser, allowed.url)

    _queue(page, run, ["fetch-1", "fetch-2"])
    page.evaluate("() => window.collector.flush()")
    assert page.evaluate("() => [window.errors, window.collector.stats.sent]") == [[], 2]

    _queue(page, run, ["beacon-1", "beacon-2", "beacon-3"])
    page.goto("about:blank")  # page hide: the SDK hands the queue to navigator.sendBeacon
    assert tap.beacon() == (200, "text/plain;charset=UTF-8")  # no preflight, no credentials header
    context.close()

    settle(stack)
    names = ["fetch-1", "fetch-2", "beacon-1", "beacon-2", "beacon-3"]
    assert compacted_ids(stack, tenant, run) == {f"{run}-{name}": 1 for name in names}


def test_an_origin_outside_the_list_sends_nothing(
    stack: RunningStack, browser: Any, shop: tuple[Site, Site, Tap, str]
) -> None:
    _, refused, tap, tenant = shop
    run = f"no-{uuid.uuid4().hex[:8]}"
    context, page = _open(browser, refused.url)

    _queue(page, run, ["fetch"])
    page.evaluate("() => window.collector.flush()")
    # API Gateway answers the preflight (Access-Control-Allow-Origin: CorsAllowOrigin, `*` here) whatever
    # the origin, so the browser sends the POST; the API refuses it (403 origin_not_allowed) without CORS
    # headers, so the browser does not let the page read the answer: the SDK sees no answer at all.
    assert page.evaluate("() => window.errors") == [["the API answered nothing; events given up", 1]]
    assert tap.wait_for("OPTIONS", "/v1/events") == 200
    assert tap.wait_for("POST", "/v1/events") == 403

    _queue(page, run, ["beacon"])
    page.goto("about:blank")
    assert tap.beacon() == (403, "text/plain;charset=UTF-8")  # a beacon needs no preflight: the API itself refuses it
    context.close()

    settle(stack)
    assert compacted_ids(stack, tenant, run) == {}


def test_more_than_a_beacon_holds_leaves_in_several_beacons(
    stack: RunningStack, browser: Any, shop: tuple[Site, Site, Tap, str]
) -> None:
    allowed, _, tap, tenant = shop
    run = f"big-{uuid.uuid4().hex[:8]}"
    context, page = _open(browser, allowed.url)
    names = [f"big-{i}" for i in range(8)]
    page.evaluate(  # 8 events of about 12.5 KB: 100 KB, more than the 64 KB a page may have in flight
        "([run, names]) => names.forEach((name) => window.collector.track(name, { text: 'x'.repeat(12000) },"
        " { event_id: run + '-' + name }))",
        [run, names],
    )
    assert page.evaluate("() => [window.collector.beacon(), window.collector.queued]") == [4, 4]
    # The browser refused the second beacon while the first was in flight; the rest waits in the queue
    # and leaves by the next beacon once the first is answered (checked each animation frame).
    page.wait_for_function("() => window.collector.beacon() > 0", timeout=60_000)
    beacons = tap.beacons(2)
    assert [status for status, _, _ in beacons] == [200, 200]
    assert all(size < 64_000 for _, _, size in beacons), beacons
    assert page.evaluate("() => [window.collector.queued, window.collector.stats.sent, window.errors]") == [0, 8, []]
    context.close()

    settle(stack)
    assert compacted_ids(stack, tenant, run) == {f"{run}-{name}": 1 for name in names}


def test_a_click_through_the_dashboard(stack: RunningStack, browser: Any) -> None:
    demo_tenant = stack.info["tenants"][0]
    context = browser.new_context()
    page = context.new_page()
    page.goto(stack.info["api_url"] + "/dashboard")
    page.wait_for_function("() => document.body.dataset.tenant === 'demo'")
    html = page.content()
    assert all(tenant["api_key"] not in html for tenant in stack.info["tenants"])  # only publishable keys

    with page.expect_response(
        lambda response: response.url.endswith("/v1/events") and response.request.method == "POST"
    ) as sent:
        page.click("#send-click")
    assert sent.value.status == 200
    assert sent.value.request.headers["authorization"] == basic_write_key(demo_tenant["publishable_key"])
    event_ids = [event["event_id"] for event in json.loads(sent.value.request.post_data)["events"]]
    page.wait_for_function("() => document.getElementById('status').textContent === 'Sent a button click as demo.'")
    context.close()

    settle(stack)
    rows = compacted_ids(stack, demo_tenant["tenant"], "")
    assert event_ids
    assert all(rows[event_id] == 1 for event_id in event_ids)
    answer = stack.request(
        "GET",
        "/v1/counts?event_type=button_click&key=dashboard-button",
        auth=(demo_tenant["tenant"], demo_tenant["api_key"]),
    ).json()
    assert answer["total"] >= 1


def basic_write_key(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()
