"""What API Gateway is told about the API, read from the OpenAPI body of the REST or HTTP API in the
transformed template.

SAM turns the template's ``Api`` events, authorizer, ``Cors`` and
``GatewayResponses`` into the ``Body`` of an ``AWS::ApiGateway::RestApi``
(``x-amazon-apigateway-*`` extensions); this module reads exactly that, so the
local gateway serves what CloudFormation would deploy: routes and their Lambda
integrations, which routes use which authorizer (and its identity header and
TTL), the CORS preflight answers and the gateway's own responses.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from local.lambdas import LocalFunction, LocalFunctions
from tools.intrinsics import Resolver

# The answers API Gateway gives itself: (status, default message).
GATEWAY_ANSWERS = {
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long"),
    "AUTHORIZER_FAILURE": (500, "Internal server error"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "Internal server error"),
    # A mapping API Gateway cannot apply, such as a mock's text template to a binary body.
    "API_CONFIGURATION_ERROR": (500, "Internal server error"),
    "BAD_GATEWAY": (502, "Internal server error"),
}
Answer = tuple[int, dict[str, str], bytes]


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == "'" else value


def _function_arn(uri: str) -> str:
    found = re.search(r"/functions/(.+)/invocations$", uri)
    if not found:
        raise ValueError(f"not a Lambda integration: {uri}")
    return found.group(1)


@dataclass
class Route:
    method: str
    resource: str
    function: LocalFunction
    authorizer: str | None
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        regex = ""
        for part in re.split(r"(\{[^}]+\})", self.resource):
            if part.startswith("{") and part.endswith("+}"):
                regex += f"(?P<{part[1:-2]}>.+)"
            elif part.startswith("{"):
                regex += f"(?P<{part[1:-1]}>[^/]+)"
            else:
                regex += re.escape(part)
        self.pattern = re.compile(f"^{regex}$")


@dataclass
class Authorizer:
    function: LocalFunction
    identity_header: str
    ttl_seconds: int
    _cache: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def policy_for(self, identity: str, event: dict[str, Any]) -> dict[str, Any]:
        """The authorizer's result for exactly this identity value, cached for the TTL as API Gateway does."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(identity)
            if cached and cached[0] > now:
                return cached[1]
        result: dict[str, Any] = self.function.invoke(event)
        if self.ttl_seconds > 0:
            with self._lock:
                self._cache[identity] = (now + self.ttl_seconds, result)
        return result


def policy_allows(result: dict[str, Any], arn: str) -> bool:
    """IAM-style evaluation of the authorizer's policy: an explicit Deny wins."""
    allowed = False
    for statement in result.get("policyDocument", {}).get("Statement", []):
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if any(fnmatch.fnmatchcase(arn, pattern) for pattern in resources):
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


# An HTTP API's own answers cannot be customized: fixed JSON messages (docs/api.md).
HTTP_API_ANSWERS = {
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "Forbidden"),
    "MISSING_AUTHENTICATION_TOKEN": (404, "Not Found"),
    "REQUEST_TOO_LARGE": (413, "Request Entity Too Large"),
    "AUTHORIZER_FAILURE": (500, "Internal Server Error"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "Internal Server Error"),
    "BAD_GATEWAY": (500, "Internal Server Error"),
}
API_TYPES = {"AWS::ApiGateway::RestApi": "REST", "AWS::ApiGatewayV2::Api": "HTTP"}


class ApiModel:
    """The stack's API, REST or HTTP, whichever the template's conditions create."""

    def __init__(self, resolver: Resolver, functions: LocalFunctions, authorizer_ttl: int | None = None) -> None:
        resources = resolver.template["Resources"]
        ((api_id, api),) = ((k, v) for k, v in resources.items() if v["Type"] in API_TYPES and resolver.is_active(k))
        self.kind = API_TYPES[api["Type"]]
        body: dict[str, Any] = resolver.resolve(api["Properties"]["Body"])
        self.stage = self._stage(resolver, api_id)
        self.authorizers: dict[str, Authorizer] = {}
        # Swagger 2.0 names them securityDefinitions (the REST API's body), OpenAPI 3 securitySchemes (the HTTP API's).
        security = body.get("securityDefinitions") or body.get("components", {}).get("securitySchemes", {})
        for name, scheme in security.items():
            spec = scheme.get("x-amazon-apigateway-authorizer")
            if not spec or spec.get("type") != "request":
                continue
            ttl = int(spec.get("authorizerResultTtlInSeconds", 300))
            sources = spec["identitySource"]
            source = (sources[0] if isinstance(sources, list) else sources.split(",")[0]).strip()
            self.authorizers[name] = Authorizer(
                function=functions.get(_function_arn(spec["authorizerUri"])),
                identity_header=source.removeprefix("method.request.header.").removeprefix("$request.header."),
                ttl_seconds=authorizer_ttl if authorizer_ttl is not None else ttl,
            )
        self.routes: list[Route] = []
        self.cors: dict[str, dict[str, str]] = {}
        self.preflight_status: dict[str, int] = {}
        self.binary_preflights: set[str] = set()  # paths whose mock can take a binary body (CONVERT_TO_TEXT)
        self.binary_media_types: list[str] = body.get("x-amazon-apigateway-binary-media-types", [])
        for path, methods in body.get("paths", {}).items():
            for method, operation in methods.items():
                integration = operation.get("x-amazon-apigateway-integration", {})
                if integration.get("type") == "mock" and method == "options":
                    response = integration.get("responses", {}).get("default", {})
                    self.cors[path] = {
                        name.removeprefix("method.response.header."): _unquote(str(value))
                        for name, value in response.get("responseParameters", {}).items()
                    }
                    self.preflight_status[path] = int(response.get("statusCode", 200))
                    if integration.get("contentHandling") == "CONVERT_TO_TEXT":
                        self.binary_preflights.add(path)
                    continue
                schemes = [name for entry in operation.get("security", []) for name in entry if name != "NONE"]
                self.routes.append(
                    Route(
                        method="ANY" if method == "x-amazon-apigateway-any-method" else method.upper(),
                        resource=path,
                        function=functions.get(_function_arn(integration["uri"])),
                        authorizer=schemes[0] if schemes and schemes[0] in self.authorizers else None,
                    )
                )
        # A greedy path ({proxy+}) matches only what no other route does, as API Gateway routes.
        self.routes.sort(key=lambda route: "+}" in route.resource)
        self.http_cors: dict[str, Any] = body.get("x-amazon-apigateway-cors", {})
        self.gateway_responses: dict[str, Any] = body.get("x-amazon-apigateway-gateway-responses", {})

    @staticmethod
    def _stage(resolver: Resolver, api_id: str) -> str:
        for logical_id, resource in resolver.template["Resources"].items():
            if resource["Type"] not in ("AWS::ApiGateway::Stage", "AWS::ApiGatewayV2::Stage"):
                continue
            properties = resource["Properties"]
            if resolver.is_active(logical_id) and {"Ref": api_id} in (
                properties.get("RestApiId"),
                properties.get("ApiId"),
            ):
                return str(resolver.resolve(properties["StageName"]))
        return "prod"

    @property
    def http_api(self) -> bool:
        return self.kind == "HTTP"

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], str | None]:
        """The route for a request, its path parameters, and the template path matching it (any method)."""
        resource = None
        for route in self.routes:
            found = route.pattern.match(path)
            if not found:
                continue
            resource = route.resource
            if route.method in (method, "ANY"):
                return route, found.groupdict(), resource
        return None, {}, resource

    def preflight(self, resource: str | None, headers: dict[str, str]) -> Answer | None:
        """API Gateway's own answer to a CORS preflight, if it gives one."""
        if not self.http_api:
            path = resource or ""
            if path not in self.cors:
                return None
            if self.binary_body(headers) and path not in self.binary_preflights:
                # "Execution failed due to configuration error: Unable to transform request": a mock's
                # mapping template is text, and without CONVERT_TO_TEXT a binary body never becomes text.
                return self.gateway_answer("API_CONFIGURATION_ERROR")
            return self.preflight_status[path], {**self.cors[path], "Content-Type": "application/json"}, b"{}"
        if not self.http_cors or "origin" not in headers or "access-control-request-method" not in headers:
            return None
        cors = {
            **self.cors_headers(headers),
            "Access-Control-Allow-Methods": ",".join(self.http_cors.get("allowMethods", [])),
            "Access-Control-Allow-Headers": ",".join(self.http_cors.get("allowHeaders", [])),
            "Access-Control-Max-Age": str(self.http_cors.get("maxAge", 0)),
        }
        return 204, {**cors, "Content-Type": "application/json"}, b"{}"

    def binary_body(self, headers: dict[str, str]) -> bool:
        """Whether a REST API takes this request's body as binary: its Content-Type (``application/json``, API
        Gateway's default, when it sends none, as a preflight does) matches one of the binary media types."""
        content_type = (headers.get("content-type") or "application/json").split(";", 1)[0].strip().lower()
        return any(fnmatch.fnmatchcase(content_type, pattern.lower()) for pattern in self.binary_media_types)

    def cors_headers(self, headers: dict[str, str]) -> dict[str, str]:
        """An HTTP API's CORS answer headers for this request's ``Origin`` (replacing the function's own)."""
        origin, allowed = headers.get("origin"), self.http_cors.get("allowOrigins", [])
        if not self.http_api or origin is None or not allowed:
            return {}
        return (
            {"Access-Control-Allow-Origin": "*" if "*" in allowed else origin}
            if "*" in allowed or origin in allowed
            else {}
        )

    def gateway_answer(self, answer_type: str, message: str | None = None) -> Answer:
        if self.http_api:
            status, text = HTTP_API_ANSWERS[answer_type]
            return status, {"Content-Type": "application/json"}, json.dumps({"message": text}).encode()
        status, default_message = GATEWAY_ANSWERS[answer_type]
        message = message or default_message
        spec = self.gateway_responses.get(answer_type) or self.gateway_responses.get(
            "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX", {}
        )
        status = int(spec.get("statusCode", status))
        headers = {
            name.removeprefix("gatewayresponse.header."): _unquote(str(value))
            for name, value in spec.get("responseParameters", {}).items()
        }
        template = spec.get("responseTemplates", {}).get("application/json")
        if template:
            body = template.replace("$context.error.messageString", json.dumps(message))
            body = body.replace("$context.error.message", message)
        else:
            body = json.dumps({"message": message})
        headers["Content-Type"] = "application/json"
        headers["x-amzn-ErrorType"] = answer_type
        return status, headers, body.encode()


def json_error(status: int, code: str, message: str) -> Answer:
    body = json.dumps({"error": code, "message": message}).encode()
    return status, {"Content-Type": "application/json"}, body
