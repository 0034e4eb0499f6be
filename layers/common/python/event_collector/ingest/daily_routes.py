"""``GET /v1/counts/daily``: one event type's UTC days over up to 366 days, from the compaction's rollups and,
for the days not rolled up yet, the real-time counters (counts/daily.py; docs/api.md, docs/counters.md).

Behind API Gateway's authorizer like ``GET /v1/counts``, so only a tenant's secret key reaches it and the
tenant comes from the authorizer's context alone. It takes the tenant's own event types as that route does;
a storage failure is the count routes' 503 (``counters_unavailable``, answers.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from event_collector.counts.daily import read_daily
from event_collector.counts.queries import CounterReader
from event_collector.counts.rollups import RollupStore
from event_collector.ingest.http import checked_query, tenant_from_authorizer
from event_collector.schemas.cache import TenantLookup

DAILY_COUNTS_PATH = "/v1/counts/daily"


class DailyCountRoutes:
    """The route, registered on the collector's resolver with the stores it reads and the request's clock."""

    def __init__(
        self,
        app: APIGatewayRestResolver,
        rollups: RollupStore,
        counters: CounterReader,
        *,
        parameters: Mapping[str, bool],
        schemas_of: Callable[[str], TenantLookup | None],
        clock: Callable[[], float],
    ) -> None:
        """``parameters``: the query parameters the route takes (name: required), from the route table."""
        self._app = app
        self._rollups = rollups
        self._counters = counters
        self._parameters = parameters
        self._schemas_of = schemas_of
        self._clock = clock

    def register(self) -> None:
        self._app.get(DAILY_COUNTS_PATH)(self.get_daily_counts)

    def get_daily_counts(self) -> dict[str, Any]:
        request: dict[str, Any] = self._app.current_event.raw_event
        parameters = checked_query(request, self._parameters)
        tenant = tenant_from_authorizer(request.get("requestContext") or {})
        schemas = self._schemas_of(tenant)
        daily = read_daily(
            self._rollups,
            self._counters,
            tenant=tenant,
            event_type=parameters["event_type"],
            start=parameters.get("from"),
            end=parameters.get("to"),
            limit=parameters.get("limit"),
            now=datetime.fromtimestamp(self._clock(), tz=UTC),
            owns=schemas.event_type if schemas is not None else None,
        )
        answer: dict[str, Any] = daily.model_dump(mode="json")
        return answer
