"""What `sam local start-api` must serve, and how a difference is reported (tools/sam_local_expectations.py)."""

from __future__ import annotations

import dataclasses

import pytest

from tools.sam_local import LocalTemplateError
from tools.sam_local_expectations import ApiSurface, deployed_api, environment_problems, route_problems

# Reading counts and schemas, and privacy requests: a secret key, checked by the authorizer.
GATEWAY_ROUTES = [
    "GET /button/click/count",
    "GET /v1/counts",
    "GET /v1/counts/daily",
    "GET /v1/regulations/{id}",
    "GET /v1/schemas",
    "GET /web/page_view/count",
    "POST /v1/regulations",
]


def test_given_the_rest_type_then_every_route_reaches_the_rest_collector_and_only_secret_routes_are_authorized():
    api = deployed_api("REST")

    assert ("/v1/events", "POST") in api.routes
    assert ("/v1/batch", "POST") in api.routes
    assert {route.function for route in api.routes.values()} == {"CollectorFunction"}
    assert api.authorized == GATEWAY_ROUTES
    assert api.cors_allow_origin == "*"


def test_given_the_http_type_then_a_catch_all_without_authorizer_and_the_secret_routes_with_it():
    api = deployed_api("HTTP")

    assert set(api.routes) == {("/{proxy+}", "ANY"), *(tuple(route.split(" ")[::-1]) for route in GATEWAY_ROUTES)}
    assert api.routes[("/{proxy+}", "ANY")].authorizer is None
    assert {route.payload_version for route in api.routes.values()} == {"1.0"}
    authorizer = api.routes[("/v1/counts", "GET")].authorizer
    assert authorizer is not None
    assert (authorizer.function, authorizer.kind, authorizer.identity_headers, authorizer.payload_version) == (
        "AuthorizerFunction",
        "REQUEST",
        ("Authorization",),
        "1.0",
    )


def test_given_an_unknown_api_type_then_refused():
    with pytest.raises(LocalTemplateError, match="REST, HTTP"):
        deployed_api("GRPC")


def test_given_the_same_api_then_no_problem():
    assert route_problems(deployed_api("REST"), deployed_api("REST")) == []


def test_given_both_apis_mounted_then_every_extra_route_is_named():
    """The reported failure: SAM CLI mounted the REST and the HTTP API's routes at once."""
    rest, http = deployed_api("REST"), deployed_api("HTTP")
    both = ApiSurface("REST", {**rest.routes, **http.routes}, "*")

    problems = route_problems(rest, both)

    assert "ANY /{proxy+}: served, not deployed" in problems
    assert any(problem.startswith("GET /v1/counts: deployed") for problem in problems)  # HTTP's collector won


def test_given_a_route_without_its_authorizer_or_a_missing_route_then_both_named():
    rest = deployed_api("REST")
    routes = dict(rest.routes)
    routes[("/v1/counts", "GET")] = dataclasses.replace(routes[("/v1/counts", "GET")], authorizer=None)
    del routes[("/v1/events", "POST")]

    problems = route_problems(rest, ApiSurface("REST", routes, "https://other.example"))

    assert problems[0] == "POST /v1/events: deployed, not served"
    assert problems[1].startswith("GET /v1/counts: deployed Route(")
    assert problems[2] == "CORS allow-origin: deployed '*', served 'https://other.example'"
    assert len(problems) == 3


NAMES = {"CountersTable": "local-CountersTable", "DeliveryStream": "local-DeliveryStream"}


def test_given_every_variable_as_the_local_stack_resolves_it_then_no_problem():
    declared = {"COUNTERS_TABLE_NAME": "CountersTable", "KEY_CACHE_SECONDS": 300}
    served = {"COUNTERS_TABLE_NAME": "local-CountersTable", "KEY_CACHE_SECONDS": "300", "AWS_SAM_LOCAL": "true"}

    assert environment_problems("Fn", declared, served, served, NAMES) == []


def test_given_a_logical_id_left_then_named():
    declared = {"COUNTERS_TABLE_NAME": "CountersTable"}

    problems = environment_problems("Fn", declared, {"COUNTERS_TABLE_NAME": "CountersTable"}, {}, NAMES)

    assert problems == [
        "Fn.COUNTERS_TABLE_NAME='CountersTable': a logical id, not the local stack's name",
        "Fn.COUNTERS_TABLE_NAME='CountersTable': the local stack calls CountersTable 'local-CountersTable'",
        "Fn.COUNTERS_TABLE_NAME: the env-vars file has no value for it",
    ]


def test_given_another_value_or_none_then_named():
    declared = {"DELIVERY_STREAM_NAME": "DeliveryStream", "CORS_ALLOW_ORIGIN": "*"}
    expected = {"DELIVERY_STREAM_NAME": "local-DeliveryStream", "CORS_ALLOW_ORIGIN": "*"}

    problems = environment_problems("Fn", declared, {"DELIVERY_STREAM_NAME": "other"}, expected, NAMES)

    assert problems == [
        "Fn.CORS_ALLOW_ORIGIN: not set",
        "Fn.DELIVERY_STREAM_NAME='other': the local stack calls DeliveryStream 'local-DeliveryStream'",
        "Fn.DELIVERY_STREAM_NAME='other': the local stack's value is 'local-DeliveryStream'",
    ]
