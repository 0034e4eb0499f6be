"""REST API preflights on the SAM-transformed template: API Gateway's own mocks, which must work under the
API's binary media types (``*/*``, so that gzip bodies reach the collector intact)."""

from __future__ import annotations

from typing import Any

import pytest

from tools.intrinsics import Resolver
from tools.sam import transformed_template

HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods")


def rest_body() -> dict[str, Any]:
    resolver = Resolver(transformed_template(), "stack", "eu-west-1")
    body: dict[str, Any] = resolver.resolve(resolver.template["Resources"]["Api"]["Properties"]["Body"])
    return body


BODY = rest_body()


def test_given_the_rest_api_when_transformed_then_every_body_stays_binary_so_gzip_arrives_intact():
    assert BODY["x-amazon-apigateway-binary-media-types"] == ["*/*"]


@pytest.mark.parametrize("path", sorted(BODY["paths"]))
def test_given_binary_media_types_when_each_route_is_preflighted_then_its_mock_converts_the_body_to_text(path):
    # With */* binary, a preflight's empty body is binary data; a mock's mapping template only applies to
    # text, so without CONVERT_TO_TEXT API Gateway answers 500 "Unable to transform request".
    preflight = BODY["paths"][path]["options"]
    integration = preflight["x-amazon-apigateway-integration"]

    assert integration["type"] == "mock"
    assert integration["contentHandling"] == "CONVERT_TO_TEXT"
    assert not [name for entry in preflight.get("security", []) for name in entry if name != "NONE"]


@pytest.mark.parametrize("path", sorted(BODY["paths"]))
def test_given_each_preflight_when_answered_then_it_allows_the_sdk_s_headers_and_declares_what_it_maps(path):
    preflight = BODY["paths"][path]["options"]
    answer = preflight["x-amazon-apigateway-integration"]["responses"]["default"]
    mapped = {
        name.removeprefix("method.response.header."): value for name, value in answer["responseParameters"].items()
    }
    declared = preflight["responses"][answer["statusCode"]]["headers"]

    assert 200 <= int(answer["statusCode"]) < 300  # browsers refuse any other preflight answer
    assert set(HEADERS) <= set(mapped) <= set(declared)  # API Gateway maps only headers the method declares
    assert mapped["Access-Control-Allow-Origin"] == "'*'"  # CorsAllowOrigin's default
    assert {"Authorization", "Content-Type"} <= set(mapped["Access-Control-Allow-Headers"].strip("'").split(","))
    assert {"GET", "POST"} <= set(mapped["Access-Control-Allow-Methods"].strip("'").split(","))
