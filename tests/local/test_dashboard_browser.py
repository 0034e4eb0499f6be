"""The dashboard in a real browser (Debian's headless Chromium) against a running local stack (issue 15).

Through the page: events sent with the publishable key change the counts and
the chart, a rejected event shows with its reason, the tenant switcher and a
compaction run update their panels, a phone-sized window needs no horizontal
scroll, and nothing is loaded from anywhere but the stack. The same file
served elsewhere reads a deployed API's counts (static mode). Screenshots go
to .local/screenshots/ for people to look at.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.site import Site
from tests.local.conftest import RunningStack
from tools.template import ROOT

SCREENSHOTS = ROOT / ".local" / "screenshots"
WAIT_MS = 60_000  # DOM conditions only; generous for a loaded CI machine


def wait(page: Any, condition: str, argument: Any = None) -> None:
    """A JavaScript predicate over the DOM, polled until true (the page's CSP allows functions, not strings)."""
    page.wait_for_function(f"(argument) => {condition}", arg=argument, timeout=WAIT_MS)


def shown(page: Any, element_id: str) -> int:
    return int(page.get_attribute(f"#{element_id}", "data-count"))


def chart_total(page: Any) -> int:
    return int(page.get_attribute("#chart-svg", "data-total"))


def api_total(stack: RunningStack, index: int, event_type: str) -> int:
    answer = stack.request("GET", f"/v1/counts?event_type={event_type}", auth=stack.demo_auth(index))
    return int(answer.json()["total"])


def hours_before_to(page: Any, hours: int) -> str:
    """The custom range's "To", less ``hours``, as a datetime-local value (the browser's time zone)."""
    return str(
        page.evaluate(
            """(hours) => {
                const from = new Date(new Date(document.getElementById('to').value).getTime() - hours * 3600000);
                return new Date(from.getTime() - from.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
            }""",
            hours,
        )
    )


def refreshed(page: Any, tenant: str) -> None:
    wait(page, "document.body.dataset.tenant === argument && Number(document.body.dataset.refreshes) >= 1", tenant)


def count_grows(page: Any, element_id: str, before: int) -> None:
    wait(page, "Number(document.getElementById(argument[0]).dataset.count) > argument[1]", [element_id, before])


def test_the_dashboard_sends_counts_switches_tenant_compacts_and_fits_a_phone(
    local_stack: RunningStack, browser: Any
) -> None:
    api = local_stack.info["api_url"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(api + "/demo")  # an old link lands on the dashboard
    assert page.url == api + "/dashboard"
    refreshed(page, "demo")
    assert shown(page, "alltime-page_view") == api_total(local_stack, 0, "page_view")
    views, clicks, chart = shown(page, "total-page_view"), shown(page, "total-button_click"), chart_total(page)

    page.click("#send-page-view")
    count_grows(page, "total-page_view", views)
    wait(page, "Number(document.getElementById('chart-svg').dataset.total) > argument", chart)
    assert page.locator("#chart-svg rect.bar").count() >= 1
    page.click("#send-click")
    count_grows(page, "total-button_click", clicks)
    assert api_total(local_stack, 0, "button_click") == shown(page, "alltime-button_click")

    tracks = shown(page, "total-track")
    page.click("#send-track")
    count_grows(page, "total-track", tracks)
    page.select_option("#event-type", "track")
    wait(page, "document.getElementById('chart-svg').dataset.eventType === 'track'")
    wait(
        page,
        "[...document.querySelectorAll('#top-keys td code')].some((cell) => cell.textContent === argument)",
        "Dashboard sample",
    )

    page.click("#send-invalid")
    wait(
        page,
        "[...document.querySelectorAll('#rejections .reason')].some((r) => r.textContent === argument)",
        "colour: Extra inputs are not permitted",
    )

    run_before = page.get_attribute("#compaction", "data-run-id")
    page.click("#run-compaction")
    wait(page, "document.getElementById('compaction').dataset.runId !== argument", run_before)
    assert page.get_attribute("#compaction", "data-status") == "SUCCEEDED"
    assert int(page.get_attribute("#compaction-rows", "data-rows-out")) >= 1
    assert page.text_content("#compaction-failures") == "none"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

    page.select_option("#tenant", "demo-two")
    refreshed(page, "demo-two")
    assert page.locator("#rejections .reason").count() == 0  # the demo tenant's rejection is not demo-two's
    assert shown(page, "alltime-track") == api_total(local_stack, 1, "track")
    other_views = shown(page, "total-page_view")
    page.click("#send-page-view")
    count_grows(page, "total-page_view", other_views)
    assert api_total(local_stack, 1, "page_view") == shown(page, "alltime-page_view")

    page.select_option("#tenant", "demo")
    refreshed(page, "demo")
    page.select_option("#range", "7d")
    wait(page, "document.getElementById('chart-svg').dataset.hours === '168'")
    page.select_option("#range", "custom")
    page.fill("#from", hours_before_to(page, 400 * 24))
    wait(page, "document.getElementById('status').textContent.includes('at most 366 days')")  # the API's limit
    page.fill("#from", hours_before_to(page, 32 * 24))  # over 7 days: per UTC day
    wait(page, "Number(document.getElementById('chart-svg').dataset.days) >= 32")
    assert page.text_content("#chart-title") == "Events per day (UTC)"
    assert page.get_attribute("#top-keys", "data-source") == "compacted"
    page.fill("#from", hours_before_to(page, 48))
    wait(page, "document.getElementById('chart-svg').dataset.hours === '49'")
    assert page.text_content("#chart-title") == "Events per hour (UTC)"
    page.select_option("#range", "24h")
    wait(page, "document.getElementById('chart-svg').dataset.hours === '24'")
    page.set_viewport_size({"width": 390, "height": 844})
    wait(page, "Number(document.getElementById('chart-svg').getAttribute('width')) <= 390")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-phone.png"), full_page=True)

    html = page.content()
    assert all(tenant["api_key"] not in html for tenant in local_stack.info["tenants"])
    assert [url for url in requested if not url.startswith(api + "/")] == []  # no CDN, no font, nothing else
    assert errors == []
    context.close()


def test_the_same_file_served_elsewhere_reads_the_api_with_a_key_kept_out_of_the_url(
    local_stack: RunningStack, browser: Any
) -> None:
    site = Site((ROOT / "local" / "dashboard.html").read_text(encoding="utf-8"))  # as a static host serves it
    tenant, key = local_stack.demo_auth(1)
    local_stack.request(
        "POST",
        "/v1/events",
        body={"events": [{"event_type": "track", "name": "static", "properties": {}}]},
        auth=(tenant, key),
    )
    local_stack.drain()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(site.url + "/")
        page.wait_for_selector("#connect-panel:not([hidden])", timeout=WAIT_MS)
        page.fill("#connect-url", local_stack.info["api_url"])
        page.fill("#connect-tenant", tenant)
        page.fill("#connect-key", key)
        page.click("#connect button[type=submit]")
        refreshed(page, tenant)

        assert shown(page, "alltime-track") == api_total(local_stack, 1, "track") >= 1
        assert key not in page.url
        assert page.evaluate("() => sessionStorage.getItem('event-collector-dashboard')").count(key) == 1
        for panel in ("#send-panel", "#rejections-panel", "#compaction-panel", "#tenant-label"):
            assert page.locator(panel).is_hidden(), panel
        assert "CloudWatch log" in page.text_content("#cloud-note")
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        context.close()
        site.close()


def test_a_click_shows_in_the_dashboard_from_the_answer_alone_without_waiting_for_the_fan_out(
    local_stack: RunningStack, browser: Any
) -> None:
    # Real-time counts: the request that sent the click already counted it, so the page never needs the
    # fan-out (/__local/drain, refused here) to show it, as the original collector's page did.
    api = local_stack.info["api_url"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.route("**/__local/drain", lambda route: route.abort())
    try:
        page.goto(api + "/dashboard")
        refreshed(page, "demo")
        page.uncheck("#auto-refresh")  # only the send's own refresh may show it
        clicks = shown(page, "total-button_click")

        page.click("#send-click")

        count_grows(page, "total-button_click", clicks)
        assert shown(page, "total-button_click") == clicks + 1
        assert shown(page, "alltime-button_click") == api_total(local_stack, 0, "button_click")
    finally:
        context.close()
