"""A local API Gateway (REST) for the template's ``Type: Api`` routes.

It builds the same Lambda-proxy events as API Gateway, runs the REQUEST
authorizer with its TTL cache, answers CORS preflights from the API's
``Cors`` setting and renders the template's ``GatewayResponses`` for the
answers API Gateway itself gives (401, 403, 413, 5xx, unknown routes).
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .apigateway_events import authorizer_event, method_arn, proxy_event
from .intrinsics import Resolver
from .lambdas import LocalFunction, LocalFunctions

log = logging.getLogger("local.gateway")
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's limit
READ_TIMEOUT_SECONDS = float(os.environ.get("LOCAL_READ_TIMEOUT", "10"))

# The answers API Gateway gives itself: (status, default message).
GATEWAY_ANSWERS = {
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long"),
    "AUTHORIZER_FAILURE": (500, "Internal server error"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "Internal server error"),
    "BAD_GATEWAY": (502, "Internal server error"),
}


def _unquote_header(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == "'" else value


@dataclass
class Route:
    method: str
    resource: str
    function: LocalFunction
    authorized: bool
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

    def policy_for(self, header: str, event: dict[str, Any]) -> dict[str, Any]:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(header)
            if cached and cached[0] > now:
                return cached[1]
        result: dict[str, Any] = self.function.invoke(event)
        if self.ttl_seconds > 0:
            with self._lock:
                self._cache[header] = (now + self.ttl_seconds, result)
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


class ApiModel:
    """What the template says about the API: routes, authorizer, CORS, gateway responses."""

    def __init__(self, resolver: Resolver, functions: LocalFunctions, authorizer_ttl: int | None) -> None:
        resources = resolver.template["Resources"]
        ((api_id, api),) = ((k, v) for k, v in resources.items() if v["Type"] == "AWS::Serverless::Api")
        properties = api["Properties"]
        self.stage = str(resolver.resolve(properties.get("StageName", "prod")))
        auth = properties.get("Auth", {})
        default_authorizer = auth.get("DefaultAuthorizer")
        self.authorizer: Authorizer | None = None
        if default_authorizer:
            spec = auth["Authorizers"][default_authorizer]
            function_logical_id = spec["FunctionArn"]["Fn::GetAtt"][0]
            identity = spec.get("Identity", {})
            ttl = (
                authorizer_ttl
                if authorizer_ttl is not None
                else int(resolver.resolve(identity.get("ReauthorizeEvery", 300)))
            )
            self.authorizer = Authorizer(
                function=functions.by_logical_id(function_logical_id),
                identity_header=identity.get("Headers", ["Authorization"])[0],
                ttl_seconds=ttl,
            )
        self.cors: dict[str, str] = {}
        cors = resolver.resolve(properties.get("Cors", {}))
        for key, header in (
            ("AllowOrigin", "Access-Control-Allow-Origin"),
            ("AllowHeaders", "Access-Control-Allow-Headers"),
            ("AllowMethods", "Access-Control-Allow-Methods"),
            ("MaxAge", "Access-Control-Max-Age"),
        ):
            if key in cors:
                self.cors[header] = _unquote_header(str(cors[key]))
        self.gateway_responses: dict[str, Any] = resolver.resolve(properties.get("GatewayResponses", {}))
        self.routes: list[Route] = []
        for function in functions.by_name.values():
            for event in resources[function.logical_id]["Properties"].get("Events", {}).values():
                if event["Type"] != "Api":
                    continue
                route_properties = event["Properties"]
                if route_properties.get("RestApiId", {"Ref": api_id}) != {"Ref": api_id}:
                    continue
                public = route_properties.get("Auth", {}).get("Authorizer") == "NONE"
                self.routes.append(
                    Route(
                        method=route_properties["Method"].upper(),
                        resource=route_properties["Path"],
                        function=function,
                        authorized=bool(default_authorizer) and not public,
                    )
                )

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """The route for a request, its path parameters, and whether any route has this path."""
        path_exists = False
        for route in self.routes:
            found = route.pattern.match(path)
            if not found:
                continue
            path_exists = True
            if route.method in (method, "ANY"):
                return route, found.groupdict(), True
        return None, {}, path_exists

    def gateway_answer(self, answer_type: str, message: str | None = None) -> tuple[int, dict[str, str], bytes]:
        status, default_message = GATEWAY_ANSWERS[answer_type]
        message = message or default_message
        spec = self.gateway_responses.get(answer_type) or self.gateway_responses.get(
            "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX", {}
        )
        status = int(spec.get("StatusCode", status))
        headers = {
            name: _unquote_header(str(value))
            for name, value in spec.get("ResponseParameters", {}).get("Headers", {}).items()
        }
        template = spec.get("ResponseTemplates", {}).get("application/json")
        if template:
            body = template.replace("$context.error.messageString", json.dumps(message))
            body = body.replace("$context.error.message", message)
        else:
            body = json.dumps({"message": message})
        headers["Content-Type"] = "application/json"
        headers["x-amzn-ErrorType"] = answer_type
        return status, headers, body.encode()


ExtraRoute = Callable[[bytes], tuple[int, dict[str, str], bytes]]


def json_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"error": code, "message": message}).encode()
    return status, {"Content-Type": "application/json"}, body


class _Handler(BaseHTTPRequestHandler):
    server: LocalGateway
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT_SECONDS  # a client that stops sending mid-request is answered, not waited for

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own answers (malformed request line, header abuse) as JSON, like everything else."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self._send(*json_error(code, "bad_request" if code < 500 else "server_error", message or explain or ""))

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def _send(self, status: int, headers: dict[str, str] | list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        pairs = headers.items() if isinstance(headers, dict) else headers
        for name, value in pairs:
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _discard(self, length: int) -> None:
        with contextlib.suppress(OSError):
            while length > 0:
                chunk = self.rfile.read(min(length, 1024 * 1024))
                if not chunk:
                    return
                length -= len(chunk)

    def _read_body(self) -> bytes | tuple[int, dict[str, str], bytes]:
        """The body, or the answer to give instead (always a 4xx JSON error)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            return json_error(411, "length_required", "Send Content-Length; chunked bodies are not supported locally")
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not declared.isdigit():
            self.close_connection = True
            return json_error(400, "bad_request", "Content-Length must be a non-negative integer")
        length = int(declared)
        if length > MAX_PAYLOAD_BYTES:
            self.close_connection = True
            self._discard(min(length, 2 * MAX_PAYLOAD_BYTES))  # so the client can read the answer
            return self.server.model.gateway_answer("REQUEST_TOO_LARGE")
        try:
            body = self.rfile.read(length) if length else b""
        except TimeoutError:
            body = b""
        if len(body) < length:
            self.close_connection = True
            return json_error(400, "bad_request", f"Body ended after {len(body)} of {length} bytes")
        return body

    def _handle(self) -> None:
        model = self.server.model
        url = urlsplit(self.path)
        path = unquote(url.path) or "/"
        method = self.command.upper()
        body = self._read_body()
        if isinstance(body, tuple):
            self._send(*body)
            return
        extra = self.server.extra_routes.get((method, path))
        if extra:
            refusal = self._local_route_refusal(method)
            self._send(*(refusal or extra(body)))
            return
        route, path_parameters, path_exists = model.match(method, path)
        if method == "OPTIONS" and path_exists and model.cors and route is None:
            self._send(200, {**model.cors, "Content-Type": "application/json"}, b"{}")
            return
        if route is None:
            self._send(*model.gateway_answer("MISSING_AUTHENTICATION_TOKEN"))
            return
        headers = list(self.headers.items())
        query = parse_qsl(url.query, keep_blank_values=True)
        authorizer_context: dict[str, Any] | None = None
        if route.authorized and model.authorizer:
            outcome = self._authorize(model, model.authorizer, route, path, headers, query)
            if isinstance(outcome, str):
                self._send(*model.gateway_answer(outcome))
                return
            authorizer_context = outcome
        event = proxy_event(
            method=method,
            path=path,
            resource=route.resource,
            path_parameters=path_parameters,
            headers=headers,
            query=query,
            body=body,
            stage=model.stage,
            authorizer=authorizer_context,
            source_ip=self.client_address[0],
        )
        try:
            response = route.function.invoke(event)
            status, response_headers, response_body = _proxy_response(response)
        except Exception:
            log.exception("%s failed", route.function.name)
            self._send(*model.gateway_answer("BAD_GATEWAY"))
            return
        if self.server.drop_response():
            self.close_connection = True  # processed, but the client never hears back
            return
        self._send(status, response_headers, response_body)

    def _local_route_refusal(self, method: str) -> tuple[int, dict[str, str], bytes] | None:
        """Local-only routes (demo page, control routes) answer only this stack's own address.

        A ``Host`` naming anything else is a page on another site reaching 127.0.0.1 through DNS
        rebinding; an ``Origin`` of another site on a write is a cross-site request. Both are refused.
        """
        own = {f"127.0.0.1:{self.server.port}", f"localhost:{self.server.port}"}
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in own:
            return json_error(403, "forbidden_host", "Local-only routes answer only on this stack's own address")
        origin = self.headers.get("Origin")
        if method != "GET" and origin is not None and origin.strip().lower() not in {f"http://{h}" for h in own}:
            return json_error(403, "forbidden_origin", "Local-only routes refuse requests from other origins")
        return None

    def _authorize(
        self,
        model: ApiModel,
        authorizer: Authorizer,
        route: Route,
        path: str,
        headers: list[tuple[str, str]],
        query: list[tuple[str, str]],
    ) -> dict[str, Any] | str:
        wanted = authorizer.identity_header.lower()
        identities = [value for name, value in headers if name.lower() == wanted]
        if len(identities) != 1 or not identities[0]:
            # None: API Gateway answers 401 without calling the authorizer. Several: refused too, so the
            # cache key below is always exactly the one credential the authorizer decides on.
            return "UNAUTHORIZED"
        identity = identities[0]
        event = authorizer_event(
            method=route.method, path=path, resource=route.resource, headers=headers, query=query, stage=model.stage
        )
        try:
            result = authorizer.policy_for(identity, event)
        except Exception as exc:  # noqa: BLE001 - the authorizer's failure becomes a gateway answer
            if str(exc) == "Unauthorized":
                return "UNAUTHORIZED"
            log.error("authorizer failed: %s", type(exc).__name__)
            return "AUTHORIZER_FAILURE"
        if not isinstance(result, dict) or "principalId" not in result or "policyDocument" not in result:
            return "AUTHORIZER_CONFIGURATION_ERROR"
        if not policy_allows(result, method_arn(self.command, path, model.stage)):
            return "ACCESS_DENIED"
        context = {key: str(value) for key, value in (result.get("context") or {}).items()}
        return {**context, "principalId": str(result["principalId"]), "integrationLatency": 0}


def _proxy_response(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Turn a Lambda-proxy response into an HTTP answer; anything malformed raises (a 502)."""
    if not isinstance(response, dict) or not isinstance(response.get("statusCode"), int):
        raise ValueError("malformed Lambda proxy response")
    headers: list[tuple[str, str]] = [(k, str(v)) for k, v in (response.get("headers") or {}).items()]
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers = [(k, v) for k, v in headers if k.lower() != name.lower()]
        headers += [(name, str(value)) for value in values]
    body = response.get("body") or ""
    raw = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode("utf-8")
    return response["statusCode"], headers, raw


class LocalGateway(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        port: int,
        model: ApiModel,
        extra_routes: dict[tuple[str, str], ExtraRoute],
        drop_response: Callable[[], bool] = lambda: False,
    ) -> None:
        self.model = model
        self.extra_routes = extra_routes
        self.drop_response = drop_response
        super().__init__(("127.0.0.1", port), _Handler)
        self._thread = threading.Thread(target=self.serve_forever, name="local-gateway", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=10)
