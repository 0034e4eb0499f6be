"""The dashboard over 30 days (issue 24), in headless Chromium against a local stack whose month went through the
real pipeline: raw objects as Firehose delivers them (lines the collector's validation wrote), fanned out and
counted (``LOCAL_COUNTING_MODE=delivered``, so past days have counters without a request of today), compacted
(which rolls each day up into the counters table, compaction/rollup.py), then three more days landed and not
compacted. The page's clock is fixed at :data:`NOW`, so "Last 30 days" is November 2026 whatever today is.

The daily bars (per UTC day, compacted or real-time) and the top keys (from the compacted days) must be the
data's; the static page (the same file served elsewhere) shows the same top keys. Saves
``.local/screenshots/dashboard-30-days.png``.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from event_collector.ingest.validation import validate_batch
from tests.fakes.site import Site
from tests.local.conftest import RunningStack, start_stack, stop_stack
from tests.local.test_dashboard_browser import SCREENSHOTS, refreshed, wait
from tools.template import ROOT

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # the page's clock: the month ends today
FIRST = date(2026, 11, 1)
GAPS = {5, 12, 19}  # days of the month without an event
COMPACTED = [day for day in range(1, 28) if day not in GAPS]  # landed, then compacted
LATE = [28, 29, 30]  # landed after the compaction run: the counters alone hold them
LONG_KEY = "https://shop.example/search?q=" + "x" * 1200  # over 1,000 bytes: kept as its SHA-256


def views(day: int) -> list[dict[str, Any]]:
    """The page views of November ``day``: a few busy pages every day, one page of its own, a long key now
    and then; sessions and users shared within the day."""
    urls = ["/home"] * (3 + day % 5) + ["/pricing"] * (1 + day % 3) + ["/docs"] * (2 * (day % 2 == 0))
    urls += [f"/blog/{day}"] + [LONG_KEY] * (day % 4 == 0)
    return [
        {"event_type": "page_view", "url": url, "session_id": f"s-{day}-{n % 4}", "user_id": f"u-{n % 3}"}
        for n, url in enumerate(urls)
    ]


def land(stack: RunningStack, day: int) -> None:
    """The day's views as one raw object of its 10:00 UTC hour, lines as the collector stores them."""
    received_at = int(datetime(2026, 11, day, 10, tzinfo=UTC).timestamp() * 1000)
    batch = validate_batch(views(day), tenant=stack.demo_auth(0)[0], received_at=received_at, request_id=f"d{day}")
    assert batch.rejected == []
    body = gzip.compress(b"".join(event.line for event in batch.accepted))
    stack.aws("s3").put_object(Bucket=stack.info["raw_bucket"], Key=f"raw/2026/11/{day:02}/10/month-{day}", Body=body)


def expected_bars() -> list[tuple[str, int, str]]:
    """(day, events, source) of every day with events, oldest first."""
    sources = dict.fromkeys(COMPACTED, "compacted") | dict.fromkeys(LATE, "realtime")
    return [(str(date(2026, 11, day)), len(views(day)), source) for day, source in sorted(sources.items())]


def expected_keys(days: list[int], limit: int = 10) -> list[tuple[str, str, int]]:
    """(kind, key as shown, events) over ``days``: most events first, then by key (no day has 100 keys)."""
    summed: Counter[tuple[str, str]] = Counter()
    for day in days:
        for event in views(day):
            url = event["url"]
            long = len(url.encode()) > 1000
            summed[(hashlib.sha256(url.encode()).hexdigest() if long else url, "hashed" if long else "key")] += 1
    ranked = sorted(summed.items(), key=lambda found: (-found[1], found[0][0], found[0][1]))
    return [(kind, key, events) for (key, kind), events in ranked[:limit]]


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(
        tmp_path_factory.mktemp("month"), {"LOCAL_AUTHORIZER_TTL": "0", "LOCAL_COUNTING_MODE": "delivered"}
    )
    try:
        for day in COMPACTED:
            land(stack, day)
        stack.drain()
        run = stack.request("POST", "/__local/compact", body={}).json()
        assert run["status"] == "SUCCEEDED", run
        for day in LATE:
            land(stack, day)
        stack.drain()
        yield stack
    finally:
        if stack.process.poll() is None:
            stop_stack(stack)


def bars(page: Any) -> list[tuple[str, int, str]]:
    found = page.eval_on_selector_all(
        "#chart-svg rect.bar", "(rects) => rects.map((r) => [r.dataset.day, Number(r.dataset.count), r.dataset.source])"
    )
    return [tuple(bar) for bar in found]


def top_rows(page: Any) -> list[tuple[str, str, int]]:
    found = page.eval_on_selector_all(
        "#top-keys tbody tr",
        """(rows) => rows.map((row) => [row.dataset.kind, row.querySelector('code').textContent,
                                        Number(row.querySelector('td.number').dataset.count)])""",
    )
    return [tuple(row) for row in found]


def showing_month(page: Any) -> None:
    page.select_option("#range", "30d")
    wait(page, "document.getElementById('chart-svg')?.dataset.from === '2026-11-01'")


def test_given_a_month_through_the_pipeline_when_the_last_30_days_are_shown_then_bars_and_keys_are_the_data(
    month: RunningStack, browser: Any
) -> None:
    api = month.info["api_url"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.clock.set_fixed_time(NOW)
        page.goto(api + "/dashboard")
        refreshed(page, "demo")
        page.uncheck("#auto-refresh")

        showing_month(page)

        assert page.get_attribute("#chart-svg", "data-days") == "30"
        assert page.get_attribute("#chart-svg", "data-to") == "2026-11-30"
        assert page.text_content("#chart-title") == "Events per day (UTC)"
        assert page.locator("#chart-legend").is_visible()
        assert bars(page) == expected_bars()
        assert page.locator("#chart-svg rect.bar.compacted").count() == len(COMPACTED)
        total = sum(events for _, events, _ in expected_bars())
        assert int(page.get_attribute("#chart-svg", "data-total")) == total
        assert int(page.get_attribute("#total-page_view", "data-count")) == total
        assert "24 days compacted, 3 from the real-time counters, 3 without data" in page.text_content("#chart-summary")
        assert page.get_attribute("#top-keys", "data-source") == "compacted"
        assert page.text_content("#top-source") == "(from compacted days)"
        assert top_rows(page) == expected_keys(COMPACTED)
        assert "from the compacted days only, 24 of 30 UTC days" in page.text_content("#top-note")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "dashboard-30-days.png"), full_page=True)

        page.select_option("#range", "90d")  # the month is the last 30 of 90 days
        wait(page, "document.getElementById('chart-svg').dataset.days === '90'")
        assert page.get_attribute("#chart-svg", "data-from") == "2026-09-02"
        assert bars(page) == expected_bars()
        assert top_rows(page) == expected_keys(COMPACTED)
        page.set_viewport_size({"width": 390, "height": 844})
        wait(page, "Number(document.getElementById('chart-svg').getAttribute('width')) <= 390")
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        assert all(tenant["api_key"] not in page.content() for tenant in month.info["tenants"])
        assert errors == []
    finally:
        context.close()


def test_given_the_month_when_the_api_is_asked_for_its_days_then_compacted_days_have_sessions_and_users(
    month: RunningStack,
) -> None:
    answer = month.request(
        "GET", "/v1/counts/daily?event_type=page_view&from=2026-11-01&to=2026-11-30", auth=month.demo_auth(0)
    ).json()

    by_day = {day["day"]: day for day in answer["days"]}
    for day in COMPACTED:
        sent = views(day)
        assert by_day[str(date(2026, 11, day))] == {
            "day": str(date(2026, 11, day)),
            "events": len(sent),
            "sessions": len({event["session_id"] for event in sent}),
            "users": len({event["user_id"] for event in sent}),
            "source": "compacted",
        }
    assert [by_day[str(FIRST + timedelta(days=day - 1))]["sessions"] for day in LATE] == [None] * 3


def test_given_the_month_when_the_static_page_shows_a_week_then_top_keys_come_from_its_compacted_days(
    month: RunningStack, browser: Any
) -> None:
    site = Site((ROOT / "local" / "dashboard.html").read_text(encoding="utf-8"))
    tenant, key = month.demo_auth(0)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.clock.set_fixed_time(NOW)
        page.goto(site.url + "/")
        page.wait_for_selector("#connect-panel:not([hidden])", timeout=60_000)
        page.fill("#connect-url", month.info["api_url"])
        page.fill("#connect-tenant", tenant)
        page.fill("#connect-key", key)
        page.click("#connect button[type=submit]")
        refreshed(page, tenant)
        page.uncheck("#auto-refresh")

        page.select_option("#range", "7d")  # hourly chart; the top keys of November 23-30's compacted days
        wait(page, "document.getElementById('top-note').textContent.includes('5 of 8 UTC days')")

        assert page.locator("#top-panel").is_visible()
        assert page.text_content("#top-source") == "(from compacted days)"
        assert top_rows(page) == expected_keys([23, 24, 25, 26, 27])
        assert page.get_attribute("#chart-svg", "data-hours") == "168"
        showing_month(page)
        assert bars(page) == expected_bars()
    finally:
        context.close()
        site.close()
