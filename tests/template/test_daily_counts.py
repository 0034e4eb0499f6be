"""What ``GET /v1/counts/daily`` needs of the template: both collectors read the rollups in the counters table
(a Query of one partition) and never write them (compaction does), on both API types, behind the authorizer."""

from __future__ import annotations

import pytest

from event_collector.ingest.daily_routes import DAILY_COUNTS_PATH
from tests.template.policies import allows, resolver, statements
from tools.template import template


@pytest.mark.parametrize(
    ("role", "api_type"), [("CollectorFunctionRole", "REST"), ("HttpCollectorFunctionRole", "HTTP")]
)
def test_given_either_collector_then_it_may_query_the_counters_table_and_never_put_or_delete_rollups(role, api_type):
    resolved = resolver(ApiType=api_type)
    granted = statements(resolved, role)
    counters = resolved.arn("CountersTable")

    assert allows(granted, "dynamodb:Query", counters)
    for action in ("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"):
        assert not allows(granted, action, counters), action


@pytest.mark.parametrize(("function", "kind"), [("CollectorFunction", "Api"), ("HttpCollectorFunction", "HttpApi")])
def test_given_either_api_type_then_the_route_is_an_event_of_its_collector_with_the_authorizer(function, kind):
    events = template()["Resources"][function]["Properties"]["Events"].values()

    (route,) = [e["Properties"] for e in events if e["Type"] == kind and e["Properties"]["Path"] == DAILY_COUNTS_PATH]

    assert route["Method"].upper() == "GET"
    assert "Auth" not in route  # the API's default: the tenant authorizer


def test_given_the_rest_api_then_the_route_has_its_cors_preflight():
    paths = template()["Resources"]["Api"]["Properties"]["DefinitionBody"]["paths"]

    assert "options" in paths[DAILY_COUNTS_PATH]
