"""What ``sam local start-api`` must serve, and how what it serves is compared (tools/sam_local_check.py).

- :func:`deployed_api`: the API CloudFormation deploys for one ``ApiType``,
  read from the SAM-transformed template (tools/sam.py): routes, the function
  behind each, and the Lambda authorizer where the deployed route has one.
- :func:`route_problems`: every difference between that and another
  :class:`ApiSurface` (SAM CLI's, in the check).
- :func:`environment_problems`: every variable of a function that SAM CLI
  would not give the value the local stack resolves, or leaves a logical id.

Pure: no SAM CLI here, so the tests run it in the main venv.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tools.intrinsics import Resolver
from tools.sam_local import API_PARAMETER, LOCAL_REGION, LOCAL_STACK_NAME, LocalTemplateError

# A REST API's Lambda authorizer always gets the 1.0 event; only an HTTP API's says which.
REST_AUTHORIZER_PAYLOAD = "1.0"


@dataclass(frozen=True)
class Authorizer:
    """A Lambda authorizer as API Gateway is told about it (and as SAM CLI must emulate it)."""

    name: str
    function: str  # logical id
    kind: str  # REQUEST or TOKEN
    identity_headers: tuple[str, ...]
    payload_version: str


@dataclass(frozen=True)
class Route:
    function: str  # logical id
    authorizer: Authorizer | None
    payload_version: str | None  # of the integration; HTTP APIs only


@dataclass(frozen=True)
class ApiSurface:
    """An API as a client meets it: routes by (path, method), ``ANY`` for any method; CORS preflights are the
    gateway's own answers (a REST API's ``options`` mocks, an HTTP API's CORS configuration), so not routes."""

    api_type: str
    routes: dict[tuple[str, str], Route]
    cors_allow_origin: str | None

    @property
    def authorized(self) -> list[str]:
        return sorted(f"{method} {path}" for (path, method), route in self.routes.items() if route.authorizer)


def deployed_api(api_type: str, transformed: Mapping[str, Any] | None = None) -> ApiSurface:
    """The API the stack has with ``ApiType=api_type`` (default: template.yaml, transformed)."""
    from tools.sam import transformed_template

    document = transformed if transformed is not None else transformed_template()
    if api_type not in ("REST", "HTTP"):
        raise LocalTemplateError(f"ApiType {api_type!r} is not one of REST, HTTP")
    resolver = Resolver(document, LOCAL_STACK_NAME, LOCAL_REGION, {API_PARAMETER: api_type})
    resources = document["Resources"]
    apis = [
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] in ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api") and resolver.is_active(logical_id)
    ]
    if len(apis) != 1:
        raise LocalTemplateError(f"with {API_PARAMETER}={api_type} the stack has {len(apis)} APIs, not one")
    body: dict[str, Any] = resolver.resolve(resources[apis[0]]["Properties"]["Body"])
    functions = {
        resolver.arn(logical_id): logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function"
    }

    def function_of(uri: str) -> str:
        found = re.search(r"/functions/(.+)/invocations$", uri)
        if not found or found.group(1) not in functions:
            raise LocalTemplateError(f"not an integration with a function of the template: {uri}")
        return str(functions[found.group(1)])

    authorizers = {}
    # Swagger 2.0 names them securityDefinitions (the REST API's body), OpenAPI 3 securitySchemes (the HTTP API's).
    security = body.get("securityDefinitions") or body.get("components", {}).get("securitySchemes", {})
    for name, scheme in security.items():
        spec = scheme.get("x-amazon-apigateway-authorizer")
        if spec is None:
            continue
        sources = spec.get("identitySource", [])
        sources = sources if isinstance(sources, list) else sources.split(",")
        headers = [source.strip().split("request.header.", 1)[1] for source in sources if "request.header." in source]
        authorizers[name] = Authorizer(
            name=name,
            function=function_of(spec["authorizerUri"]),
            kind=str(spec["type"]).upper(),
            identity_headers=tuple(sorted(headers)),
            payload_version=spec.get("authorizerPayloadFormatVersion", REST_AUTHORIZER_PAYLOAD),
        )
    routes = {}
    cors_origin = None
    for path, methods in body.get("paths", {}).items():
        for method, operation in methods.items():
            integration = operation.get("x-amazon-apigateway-integration", {})
            if method == "options" and integration.get("type") == "mock":
                parameters = integration.get("responses", {}).get("default", {}).get("responseParameters", {})
                cors_origin = str(parameters.get("method.response.header.Access-Control-Allow-Origin", "")).strip("'")
                continue
            schemes = [name for entry in operation.get("security", []) for name in entry if name != "NONE"]
            verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
            routes[(path, verb)] = Route(
                function=function_of(integration["uri"]),
                authorizer=authorizers[schemes[0]] if schemes else None,
                payload_version=integration.get("payloadFormatVersion"),
            )
    http_cors = body.get("x-amazon-apigateway-cors")
    if http_cors:
        cors_origin = ",".join(http_cors.get("allowOrigins", []))
    return ApiSurface(api_type, routes, cors_origin)


def route_problems(deployed: ApiSurface, served: ApiSurface) -> list[str]:
    """Each way ``served`` differs from ``deployed``, one line each (empty: the same API)."""
    problems = []
    for path, method in sorted(set(deployed.routes) - set(served.routes)):
        problems.append(f"{method} {path}: deployed, not served")
    for path, method in sorted(set(served.routes) - set(deployed.routes)):
        problems.append(f"{method} {path}: served, not deployed")
    for key in sorted(set(deployed.routes) & set(served.routes)):
        want, got = deployed.routes[key], served.routes[key]
        if want != got:
            problems.append(f"{key[1]} {key[0]}: deployed {want}, served {got}")
    if deployed.cors_allow_origin != served.cors_allow_origin:
        problems.append(
            f"CORS allow-origin: deployed {deployed.cors_allow_origin!r}, served {served.cors_allow_origin!r}"
        )
    return problems


def environment_problems(
    function: str,
    declared: Mapping[str, Any],
    served: Mapping[str, str],
    expected: Mapping[str, str],
    resource_names: Mapping[str, str],
) -> list[str]:
    """Each variable of ``function`` that SAM CLI would not run it with as the local stack resolves it.

    ``declared``: the variables as SAM CLI resolves the template alone (a ``Ref`` to a resource is its logical
    id); ``served``: what SAM CLI gives the function with the env-vars file; ``expected``: the local stack's
    values; ``resource_names``: each resource's logical id and the name the local stack gave it."""
    problems = []
    for name in sorted(declared):
        value = served.get(name)
        if value is None:
            problems.append(f"{function}.{name}: not set")
            continue
        if value in resource_names:
            problems.append(f"{function}.{name}={value!r}: a logical id, not the local stack's name")
        raw = str(declared[name])
        if raw in resource_names and value != resource_names[raw]:
            problems.append(f"{function}.{name}={value!r}: the local stack calls {raw} {resource_names[raw]!r}")
        if name not in expected:
            problems.append(f"{function}.{name}: the env-vars file has no value for it")
        elif value != expected[name]:
            problems.append(f"{function}.{name}={value!r}: the local stack's value is {expected[name]!r}")
    return problems
