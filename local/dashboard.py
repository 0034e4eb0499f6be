"""The dashboard (GET /dashboard) and its local-only JSON routes (GET /dashboard/api/...).

The page, local/dashboard.html, is one static file served as it is: finding
/dashboard/api/tenants it runs in local mode; copied anywhere else it asks for
an API URL and a key and reads GET /v1/counts and GET /v1/counts/daily itself
(docs/local-mode.md, "Dashboard"). It never holds a secret key: it sends with a
demo tenant's publishable key and reads counts through /dashboard/api/counts
and /dashboard/api/daily, which ask those routes here with the tenant's secret
key. Like every local route, these answer only the stack's own address
(local/gateway/app.py).
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from event_collector.aws.s3 import S3ObjectStore
from event_collector.counts.layout import hours_between
from event_collector.counts.queries import check_event_type, series_bounds
from event_collector.errors import ClientInputError
from local.dashboard_data import compaction_summary, run_results, scan_day_items, top_keys
from local.gateway.app import LocalRequest, LocalRoute
from local.gateway.model import Answer, json_error
from local.rejections import MAX_KEPT

if TYPE_CHECKING:
    from local.stack import LocalStack

log = logging.getLogger("local.dashboard")
PAGE = Path(__file__).with_name("dashboard.html")
DASHBOARD_PATH = "/dashboard"
API_PREFIX = "/dashboard/api"
OLD_DEMO_PATH = "/demo"  # issue 14's demo page: old links land on the dashboard
DEFAULT_TOP_KEYS, MAX_TOP_KEYS = 10, 100
DEFAULT_REJECTIONS = 20
# The page loads nothing from elsewhere: scripts, styles and requests stay on this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
JsonRoute = Callable[[LocalRequest], tuple[int, Any]]


def dashboard_routes(stack: LocalStack) -> dict[tuple[str, str], LocalRoute]:
    def secret_keys() -> dict[str, str]:
        return {tenant["tenant"]: tenant["api_key"] for tenant in stack.info.get("tenants", [])}

    def tenant_of(query: dict[str, str]) -> str:
        known = secret_keys()
        tenant = query.get("tenant")
        if not tenant:
            raise _bad(f"'tenant' is required: one of {', '.join(known)}")
        if tenant not in known:
            raise ClientInputError(
                404, "not_found", f"'tenant' must be a demo tenant of this stack: {', '.join(known)}"
            )
        return tenant

    def page(_: LocalRequest) -> Answer:
        headers = {
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-cache",
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        }
        return 200, headers, PAGE.read_bytes()

    def old_demo(_: LocalRequest) -> Answer:
        return 302, {"Location": DASHBOARD_PATH, "Content-Type": "text/plain"}, b"The demo page is now /dashboard\n"

    def tenants(request: LocalRequest) -> tuple[int, Any]:
        _allowed(request, set())
        known = stack.info.get("tenants", [])
        shown = [{"tenant": tenant["tenant"], "publishable_key": tenant["publishable_key"]} for tenant in known]
        return 200, {"tenants": shown, "counting_mode": stack.config.counting_mode}

    def forwarding(path: str, names: set[str]) -> LocalRoute:
        """``path`` of the API (a count route) for a demo tenant, asked here with its secret key; the API's
        answer as it is, its errors included. Takes ``tenant`` and the route's own query parameters, listed
        here: importing the route table (ingest/routes.py) creates the route modules' Powertools loggers in the
        stack's own process, which turned the functions' log lines on (tests/local/test_lifecycle.py)."""

        def forward(request: LocalRequest) -> Answer:
            _allowed(request, names)
            tenant = tenant_of(request.query)
            forwarded = {name: value for name, value in request.query.items() if name != "tenant"}
            credentials = base64.b64encode(f"{tenant}:{secret_keys()[tenant]}".encode()).decode()
            asked = urllib.request.Request(
                f"{stack.config.api_url}{path}?{urllib.parse.urlencode(forwarded)}",
                headers={"Authorization": f"Basic {credentials}"},
            )
            try:
                with urllib.request.urlopen(asked, timeout=30) as answer:
                    return answer.status, {"Content-Type": "application/json"}, answer.read()
            except urllib.error.HTTPError as error:
                return error.code, {"Content-Type": "application/json"}, error.read()

        return forward

    def top(request: LocalRequest) -> tuple[int, Any]:
        """A tenant's keys of one type with their events over the range (the API has no such route)."""
        _allowed(request, {"tenant", "event_type", "from", "to", "limit"})
        tenant = tenant_of(request.query)
        event_type = request.query.get("event_type") or ""
        check_event_type(event_type)
        first, last = series_bounds(request.query.get("from"), request.query.get("to"), datetime.now(UTC))
        limit = _limit(request.query, DEFAULT_TOP_KEYS, MAX_TOP_KEYS)
        labels = hours_between(first, last)
        days = (labels[0][:10], labels[-1][:10])
        items = scan_day_items(stack.clients.dynamodb, stack.info["counters_table"], tenant, event_type, days)
        shown = top_keys(items, labels, limit)
        return 200, {
            "tenant": tenant,
            "event_type": event_type,
            "from": f"{labels[0]}:00:00Z",
            "to": f"{labels[-1]}:00:00Z",
            **shown,
        }

    def rejections(request: LocalRequest) -> tuple[int, Any]:
        _allowed(request, {"tenant", "limit"})
        tenant = tenant_of(request.query)
        limit = _limit(request.query, DEFAULT_REJECTIONS, MAX_KEPT)
        return 200, {"tenant": tenant, "rejections": stack.rejections.latest(tenant, limit)}

    def compaction(request: LocalRequest) -> tuple[int, Any]:
        _allowed(request, set())
        last = stack.last_compaction
        report = (last or {}).get("report") or {}
        results = run_results(S3ObjectStore(stack.clients.s3), stack.info["lake_bucket"], report.get("run_id"))
        return 200, {"compaction": compaction_summary(last, results)}

    json_routes: dict[str, JsonRoute] = {
        "/tenants": tenants,
        "/top": top,
        "/rejections": rejections,
        "/compaction": compaction,
    }
    routes: dict[tuple[str, str], LocalRoute] = {
        ("GET", DASHBOARD_PATH): page,
        ("GET", OLD_DEMO_PATH): old_demo,
        ("GET", API_PREFIX + "/counts"): _answering_errors(
            forwarding("/v1/counts", {"tenant", "event_type", "key", "from", "to"})
        ),
        ("GET", API_PREFIX + "/daily"): _answering_errors(
            forwarding("/v1/counts/daily", {"tenant", "event_type", "from", "to", "limit"})
        ),
    }
    for path, route in json_routes.items():
        routes[("GET", API_PREFIX + path)] = _answering_errors(_as_json(route))
    return routes


def _bad(message: str) -> ClientInputError:
    return ClientInputError(400, "invalid_query", message)


def _allowed(request: LocalRequest, names: set[str]) -> None:
    unknown = sorted(set(request.query) - names)
    if unknown:
        takes = f"it takes {', '.join(sorted(names))}" if names else "it takes none"
        raise _bad(f"unknown query parameter '{unknown[0]}': {takes}")


def _limit(query: dict[str, str], default: int, most: int) -> int:
    given = query.get("limit")
    if given is None:
        return default
    if not (given.isascii() and given.isdigit() and len(given) <= 6 and 1 <= int(given) <= most):
        raise _bad(f"'limit' must be a whole number from 1 to {most}")
    return int(given)


def _as_json(route: JsonRoute) -> LocalRoute:
    def answer(request: LocalRequest) -> Answer:
        status, document = route(request)
        body = json.dumps(document, default=str).encode()
        return status, {"Content-Type": "application/json", "Cache-Control": "no-store"}, body

    return answer


def _answering_errors(route: LocalRoute) -> LocalRoute:
    """A parameter the client must fix is a 4xx naming it; anything else a JSON 500, logged."""

    def answer(request: LocalRequest) -> Answer:
        try:
            return route(request)
        except ClientInputError as error:
            return json_error(error.status, error.code, error.message)
        except Exception:
            log.exception("dashboard route failed")
            return json_error(500, "server_error", "The dashboard could not read this; see the stack's log")

    return answer
