"""Local-mode building blocks, in-process: intrinsics on the transformed template, the API model read from
the REST API's OpenAPI body, policies, the authorizer cache and the gateway's own answers."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from local.gateway.model import ApiModel, Authorizer, Route, policy_allows
from local.lambdas import LocalFunctions
from local.provision import static_prefix
from tools.intrinsics import Resolver, UnsupportedIntrinsic
from tools.sam import transformed_template
from tools.template import template

STACK = "t-stack"


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver(transformed_template(), STACK, "eu-west-1")


def test_given_template_intrinsics_when_resolved_then_names_arns_and_parameters_come_out(resolver):
    assert resolver.resolve({"Ref": "StageName"}) == "prod"
    assert resolver.resolve({"Ref": "CountersTable"}) == "t-stack-CountersTable"
    assert resolver.resolve({"Ref": "LakeBucket"}) == "t-stack-lakebucket"
    assert resolver.resolve({"Fn::GetAtt": ["LakeBucket", "Arn"]}) == "arn:aws:s3:::t-stack-lakebucket"
    assert resolver.resolve({"Fn::Sub": "${LakeBucket.Arn}/*"}) == "arn:aws:s3:::t-stack-lakebucket/*"
    assert resolver.resolve({"Fn::Sub": "x-${AWS::Region}-${StageName}"}) == "x-eu-west-1-prod"
    assert resolver.resolve({"Fn::Join": ["/", ["a", {"Ref": "StageName"}]]}) == "a/prod"


def test_given_an_intrinsic_the_local_mode_cannot_resolve_when_resolved_then_it_says_so(resolver):
    with pytest.raises(UnsupportedIntrinsic):
        resolver.resolve({"Fn::ImportValue": "x"})
    with pytest.raises(UnsupportedIntrinsic):
        resolver.resolve({"Ref": "NoSuchThing"})


def test_given_a_state_machine_or_topic_when_referenced_then_the_ref_is_its_arn(resolver):
    assert resolver.resolve({"Ref": "CompactionStateMachine"}).startswith("arn:aws:states:eu-west-1:")
    assert resolver.resolve({"Ref": "AlarmTopic"}).startswith("arn:aws:sns:eu-west-1:")


def test_given_firehose_timestamp_expressions_when_emulated_then_only_the_static_prefix_is_kept():
    assert static_prefix("raw/!{timestamp:yyyy}/!{timestamp:MM}/") == "raw/"
    assert static_prefix("plain/") == "plain/"


def _route(resource: str) -> Route:
    return Route(method="GET", resource=resource, function=None, authorizer=None)  # type: ignore[arg-type]


def _parameters(resource: str, path: str) -> dict[str, str] | None:
    found = _route(resource).pattern.match(path)
    return found.groupdict() if found else None


def test_given_path_templates_when_matched_then_parameters_are_extracted():
    assert _parameters("/items/{id}", "/items/42") == {"id": "42"}
    assert _parameters("/items/{id}", "/items/4/2") is None
    assert _parameters("/files/{proxy+}", "/files/a/b.txt") == {"proxy": "a/b.txt"}
    assert _route("/v1/events").pattern.match("/v1/events/") is None


STAGE_ARN = "arn:aws:execute-api:us-east-1:123456789012:api/prod/POST/v1/events"


@pytest.mark.parametrize(
    ("statements", "allowed"),
    [
        ([{"Effect": "Allow", "Resource": ["arn:aws:execute-api:us-east-1:123456789012:api/prod/*/*"]}], True),
        ([{"Effect": "Allow", "Resource": "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/*"}], False),
        ([{"Effect": "Deny", "Resource": ["*"]}, {"Effect": "Allow", "Resource": ["*"]}], False),
        ([], False),
    ],
)
def test_given_authorizer_policies_when_evaluated_then_allow_needs_a_match_and_deny_wins(statements, allowed):
    assert policy_allows({"policyDocument": {"Statement": statements}}, STAGE_ARN) is allowed


class CountingFunction:
    def __init__(self) -> None:
        self.calls = 0

    def invoke(self, event: Any) -> dict[str, Any]:
        self.calls += 1
        return {"principalId": "t", "policyDocument": {"Statement": []}}


@pytest.mark.parametrize(("ttl", "expected_calls"), [(300, 1), (0, 2)])
def test_given_an_authorizer_ttl_when_the_same_header_comes_twice_then_the_result_is_cached_for_the_ttl(
    ttl, expected_calls
):
    function = CountingFunction()
    authorizer = Authorizer(function=function, identity_header="Authorization", ttl_seconds=ttl)  # type: ignore[arg-type]

    authorizer.policy_for("Basic abc", {})
    authorizer.policy_for("Basic abc", {})

    assert function.calls == expected_calls


@pytest.fixture(scope="module")
def api(resolver) -> ApiModel:
    return ApiModel(resolver, LocalFunctions(resolver), authorizer_ttl=None)


def test_given_the_transformed_template_when_modelled_then_every_api_event_is_a_route_with_its_authorizer(api):
    from event_collector.ingest.routes import DOCS_PATH, ROUTES

    routes = {(route.method, route.resource): route.authorizer for route in api.routes}
    assert routes[("GET", "/v1/counts")] is not None  # reading: the authorizer
    assert routes[("POST", "/v1/events")] is None  # sending: the collector authenticates (beacons)
    assert routes[("GET", "/v1/health")] is None
    assert set(routes) == {(route.method, route.path) for route in ROUTES} | {("GET", DOCS_PATH)}
    (authorizer,) = api.authorizers.values()
    assert authorizer.identity_header == "Authorization"
    assert authorizer.ttl_seconds == 300
    assert api.stage == "prod"


def test_given_the_routes_when_modelled_then_each_integration_is_the_function_sam_wired(api):
    functions = {(route.method, route.resource): route.function.logical_id for route in api.routes}
    assert functions[("POST", "/v1/events")] == "CollectorFunction"
    (authorizer,) = api.authorizers.values()
    assert authorizer.function.logical_id == "AuthorizerFunction"


def test_given_cors_in_the_template_when_modelled_then_preflight_headers_come_from_the_mock_integration(api):
    headers = api.cors["/v1/events"]
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in headers["Access-Control-Allow-Headers"]


PREFLIGHT = {"origin": "https://shop.example", "access-control-request-method": "POST"}


def test_given_sam_s_own_cors_mocks_under_binary_media_types_when_preflighted_then_500_as_api_gateway_answers():
    # What the template deployed before its own preflight mocks: SAM's Cors mocks, whose text mapping template
    # API Gateway cannot apply to the binary (*/*) body ("Unable to transform request").
    document = copy.deepcopy(template())
    for name in ("DefinitionBody", "MergeDefinitions"):
        document["Resources"]["Api"]["Properties"].pop(name, None)
    resolver = Resolver(transformed_template(document), STACK, "eu-west-1")
    sam_mocks = ApiModel(resolver, LocalFunctions(resolver), authorizer_ttl=None)

    answer = sam_mocks.preflight("/v1/events", PREFLIGHT)

    assert answer is not None
    status, headers, body = answer

    assert (status, json.loads(body)["error"]) == (500, "server_error")
    assert headers["x-amzn-ErrorType"] == "API_CONFIGURATION_ERROR"


def test_given_the_template_s_mocks_when_preflighted_then_every_route_answers_200_with_cors(api):
    for path in api.cors:
        status, headers, _ = api.preflight(path, PREFLIGHT)

        assert status == 200, path
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert set(headers["Access-Control-Allow-Headers"].split(",")) >= {"Authorization", "Content-Type"}


def test_given_a_gateway_answer_when_rendered_then_it_uses_the_template_response_with_cors(api):
    status, headers, body = api.gateway_answer("UNAUTHORIZED")
    assert status == 401
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert json.loads(body)["error"] == "unauthorized"

    status, _, body = api.gateway_answer("MISSING_AUTHENTICATION_TOKEN")
    assert status == 404
    assert json.loads(body)["error"] == "not_found"

    status, _, body = api.gateway_answer("BAD_GATEWAY")
    assert status == 502
    assert json.loads(body)["error"] == "server_error"


def test_given_explicit_names_when_resolved_then_the_template_expression_is_used(resolver):
    raw = resolver.physical_name("RawBucket")

    assert raw.startswith("event-collector-raw-")
    assert len(raw) == len("event-collector-raw-") + 36
    # The default database name is unique to the stack: the first 8 hex digits of its id.
    assert resolver.physical_name("GlueDatabase") == "event_collector_" + resolver.stack_id.split("/")[-1][:8]
    assert resolver.resolve({"Fn::If": ["HasAlarmEmail", "yes", "no"]}) == "no"
    assert not resolver.is_active("AlarmEmailSubscription")
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": ["/", "a/b/c"]}]}) == "b"


def test_given_the_transformed_template_when_functions_are_read_then_each_has_only_its_own_environment(resolver):
    functions = LocalFunctions(resolver)
    authorizer = functions.by_logical_id("AuthorizerFunction")
    collector = functions.by_logical_id("CollectorFunction")

    assert authorizer.code_name == "authorizer"
    assert "DELIVERY_STREAM_NAME" not in authorizer.environment
    assert collector.environment["DELIVERY_STREAM_NAME"] == resolver.physical_name("DeliveryStream")


@pytest.fixture(scope="module")
def http_api() -> ApiModel:
    resolver = Resolver(transformed_template(), STACK, "eu-west-1", parameter_overrides={"ApiType": "HTTP"})
    return ApiModel(resolver, LocalFunctions(resolver), authorizer_ttl=None)


def test_given_api_type_http_when_modelled_then_the_http_api_and_its_collector_are_used(http_api):
    routes = {(route.method, route.resource): route for route in http_api.routes}

    assert http_api.kind == "HTTP"
    assert http_api.stage == "$default"
    assert routes[("ANY", "/{proxy+}")].function.logical_id == "HttpCollectorFunction"
    assert routes[("ANY", "/{proxy+}")].authorizer is None
    assert routes[("GET", "/v1/counts")].authorizer is not None
    (authorizer,) = http_api.authorizers.values()
    assert (authorizer.identity_header, authorizer.ttl_seconds) == ("Authorization", 300)


def test_given_a_greedy_route_when_matching_then_explicit_routes_win(http_api):
    route, _, _ = http_api.match("GET", "/v1/counts")
    greedy, parameters, _ = http_api.match("POST", "/v1/events")

    assert route is not None
    assert route.resource == "/v1/counts"
    assert greedy is not None
    assert (greedy.resource, parameters) == ("/{proxy+}", {"proxy": "v1/events"})


@pytest.mark.parametrize(
    ("answer", "status", "message"),
    [("UNAUTHORIZED", 401, "Unauthorized"), ("ACCESS_DENIED", 403, "Forbidden"), ("BAD_GATEWAY", 500, None)],
)
def test_given_an_http_api_when_it_answers_itself_then_the_fixed_json_messages(http_api, answer, status, message):
    found, _, body = http_api.gateway_answer(answer)

    assert found == status
    assert json.loads(body) == {"message": message or "Internal Server Error"}


def test_given_only_the_http_api_when_functions_are_read_then_the_rest_collector_does_not_exist(http_api):
    resolver = Resolver(transformed_template(), STACK, "eu-west-1", parameter_overrides={"ApiType": "HTTP"})
    names = {function.logical_id for function in LocalFunctions(resolver).by_name.values()}

    assert "HttpCollectorFunction" in names
    assert "CollectorFunction" not in names
