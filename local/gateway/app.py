"""The local API Gateway: a WSGI application over :class:`~local.gateway.model.ApiModel`, served by werkzeug.

It builds the same Lambda-proxy events as API Gateway, runs the REQUEST
authorizer with its TTL cache, answers CORS preflights and renders the
template's gateway responses for the answers API Gateway gives itself (401,
403, 413, 5xx, unknown routes). HTTP/1.1 plumbing is werkzeug's; this module
adds what API Gateway does at that level: JSON errors for malformed requests,
a 10 MB body limit, no chunked bodies, no ambiguous body length (RFC 9112
§6.3), a read timeout for half-sent requests.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import re
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import Message
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from local.gateway.events import authorizer_event, method_arn, proxy_event
from local.gateway.model import Answer, ApiModel, Authorizer, Route, json_error, policy_allows

log = logging.getLogger("local.gateway")
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's limit
READ_TIMEOUT_SECONDS = 10.0  # LOCAL_READ_TIMEOUT (local/config.py) sets it per gateway


@dataclass(frozen=True)
class LocalRequest:
    body: bytes
    query: dict[str, str]


LocalRoute = Callable[[LocalRequest], Answer]
# Sees every answer of a proxied route: method, path, request headers, query string, body, status, answer body.
Observer = Callable[[str, str, list[tuple[str, str]], str, bytes, int, bytes], None]
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class LocalGatewayApp:
    def __init__(
        self,
        model: ApiModel,
        local_routes: dict[tuple[str, str], LocalRoute],
        port: Callable[[], int],
        drop_response: Callable[[], bool] = lambda: False,
        observe: Observer | None = None,
    ) -> None:
        self.model = model
        self.local_routes = local_routes
        self.port = port
        self.drop_response = drop_response
        self.observe = observe

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        status, headers, body = self.answer(environ, method)
        if status == 0:  # the request was processed, but the client never hears back (fault injection)
            with contextlib.suppress(OSError):
                environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            status, headers, body = 502, {}, b""
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        pairs = [(k, v) for k, v in (headers.items() if isinstance(headers, dict) else headers)]
        pairs = [(k, v) for k, v in pairs if k.lower() not in ("content-length", "connection", "transfer-encoding")]
        pairs.append(("Content-Length", str(len(body))))
        start_response(f"{status} {reason}".strip(), pairs)
        return [b"" if method == "HEAD" else body]

    def answer(self, environ: dict[str, Any], method: str) -> tuple[int, Any, bytes]:
        body = _read_body(environ, self.model)
        if isinstance(body, tuple):
            return body
        url = urlsplit(environ.get("RAW_URI") or environ.get("PATH_INFO") or "/")
        path = unquote(url.path) or "/"
        headers: list[tuple[str, str]] = environ.get("local.raw_headers", [])
        try:
            query = parse_query(url.query)
        except InvalidQuery as invalid:
            # The collector's code for a bad query; the seed routes answer their 422, as the collector does.
            status = 422 if path.startswith(("/button/", "/web/")) else 400
            return json_error(status, "invalid_query", str(invalid))
        local_route = self.local_routes.get((method, path))
        if local_route:
            return self._local_route_refusal(method, headers) or local_route(LocalRequest(body, dict(query)))
        lowered = {name.lower(): value for name, value in headers}
        route, path_parameters, resource = self.model.match(method, path)
        if method == "OPTIONS":
            preflight = self.model.preflight(resource, lowered)
            if preflight is not None:
                return preflight
        if route is None:
            return self.model.gateway_answer("MISSING_AUTHENTICATION_TOKEN")
        context: dict[str, Any] | None = None
        if route.authorizer:
            outcome = self._authorize(self.model.authorizers[route.authorizer], route, method, path, headers, query)
            if isinstance(outcome, str):
                return self.model.gateway_answer(outcome)
            context = outcome
        event = proxy_event(
            method=method,
            path=path,
            resource=route.resource,
            path_parameters=path_parameters,
            headers=headers,
            query=query,
            body=body,
            stage=self.model.stage,
            authorizer=context,
            source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
            base_path="",  # served at the root, as on a custom domain: no stage in the URL
            http_api=self.model.http_api,
        )
        try:
            status, response_headers, response_body = proxy_response(route.function.invoke(event))
        except Exception:
            log.exception("%s failed", route.function.name)
            return self.model.gateway_answer("BAD_GATEWAY")
        if self.observe:
            try:
                self.observe(method, path, headers, url.query, body, status, response_body)
            except Exception:
                log.exception("observing %s %s failed", method, path)
        if self.drop_response():
            return 0, {}, b""
        cors = self.model.cors_headers(lowered)
        if cors:  # an HTTP API answers CORS itself and ignores the function's CORS headers
            response_headers = [(k, v) for k, v in response_headers if not k.lower().startswith("access-control-")]
            response_headers += list(cors.items())
        return status, response_headers, response_body

    def _local_route_refusal(self, method: str, headers: list[tuple[str, str]]) -> Answer | None:
        """Local-only routes (demo page, control routes) answer only this stack's own address.

        A ``Host`` naming anything else is a page on another site reaching 127.0.0.1 through DNS
        rebinding; an ``Origin`` of another site on a write is a cross-site request. Both are refused.
        """
        own = {f"127.0.0.1:{self.port()}", f"localhost:{self.port()}"}
        found = {name.lower(): value for name, value in headers}
        if found.get("host", "").strip().lower() not in own:
            return json_error(403, "forbidden_host", "Local-only routes answer only on this stack's own address")
        origin = found.get("origin")
        if method != "GET" and origin is not None and origin.strip().lower() not in {f"http://{h}" for h in own}:
            return json_error(403, "forbidden_origin", "Local-only routes refuse requests from other origins")
        return None

    def _authorize(
        self,
        authorizer: Authorizer,
        route: Route,
        method: str,
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
        event = authorizer_event(
            method=method,
            path=path,
            resource=route.resource,
            headers=headers,
            query=query,
            stage=self.model.stage,
            http_api=self.model.http_api,
            identity_header=authorizer.identity_header,
        )
        try:
            result = authorizer.policy_for(identities[0], event)
        except Exception as exc:  # noqa: BLE001 - the authorizer's failure becomes a gateway answer
            if str(exc) == "Unauthorized":
                return "UNAUTHORIZED"
            log.error("authorizer failed: %s", type(exc).__name__)
            return "AUTHORIZER_FAILURE"
        if not isinstance(result, dict) or "principalId" not in result or "policyDocument" not in result:
            return "AUTHORIZER_CONFIGURATION_ERROR"
        if not policy_allows(result, method_arn(method, path, self.model.stage)):
            return "ACCESS_DENIED"
        context = {key: str(value) for key, value in (result.get("context") or {}).items()}
        return {**context, "principalId": str(result["principalId"]), "integrationLatency": 0}


class InvalidQuery(ValueError):
    """A query string the local gateway refuses (400) rather than guess what API Gateway would pass on."""


_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def parse_query(raw: str) -> list[tuple[str, str]]:
    """The query string's (name, value) pairs, in order, as API Gateway hands them to a function.

    As API Gateway does: pairs split on ``&``, a name from its value on the first ``=`` (none: an empty
    value), ``+`` decoded as a space (send ``%2B`` for a plus sign) and ``%XX`` escapes decoded once.
    What API Gateway does with an escape that is malformed (``%G1``, a lone ``%``) or does not decode to
    UTF-8 (``%FF``) is not documented: refused here (:class:`InvalidQuery`, a 400), never replaced by
    something else (U+FFFD would make ``button_id=%FF`` and ``button_id=%FE`` the same key).
    docs/local-mode.md ("Query strings").
    """
    data = raw.encode("latin-1")  # the bytes the client sent (http.server decodes the request line as latin-1)
    if _BAD_ESCAPE.search(data):
        raise InvalidQuery("The query string has a malformed percent-escape: '%' must be followed by two hex digits")
    pairs: list[tuple[str, str]] = []
    for part in data.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        pairs.append((_form_decoded(name), _form_decoded(value)))
    return pairs


def _form_decoded(part: bytes) -> str:
    try:
        return unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        shown = part.decode("latin-1")[:60]
        raise InvalidQuery(f"The query string is not UTF-8 once percent-decoded: {shown!r}") from None


_DIGITS = re.compile(r"[0-9]+")


def framing_problem(headers: Message) -> tuple[str, str | None]:
    """Why the body's length is ambiguous (RFC 9112 §6.3), or ``("", length)``: the one ``Content-Length``
    (None when there is none). Each is answered 400 and the connection closed, as the RFC requires, rather
    than read one way here and maybe another way by a proxy in front (request smuggling):

    - ``Content-Length`` values that differ (repeated headers or a list: identical ones are one value,
      RFC 9110 §8.6), or one that is not digits;
    - ``Transfer-Encoding`` together with ``Content-Length``; ``Transfer-Encoding`` not ending in ``chunked``.
    """
    lengths = _list_values(headers, "Content-Length")
    codings = [coding.lower() for coding in _list_values(headers, "Transfer-Encoding")]
    if codings and lengths:
        return "Content-Length and Transfer-Encoding together make the body's length ambiguous; send one", None
    if codings and codings[-1] != "chunked":
        return "Transfer-Encoding must end in chunked, or the body's length cannot be known", None
    if any(not _DIGITS.fullmatch(length) for length in lengths):
        return "Content-Length must be a non-negative integer in digits", None
    if len(set(lengths)) > 1:
        return f"Content-Length is given {len(lengths)} times with different values; give it once", None
    return "", lengths[0] if lengths else None


def _list_values(headers: Message, name: str) -> list[str]:
    """Every value of a list header, repeated headers and comma-separated values alike (RFC 9110 §5.3)."""
    return [part.strip() for value in headers.get_all(name) or [] for part in value.split(",")]


def _read_body(environ: dict[str, Any], model: ApiModel) -> bytes | Answer:
    """The body, or the answer to give instead (always a 4xx JSON error). Ambiguous framing never gets
    here: :meth:`_RequestHandler.parse_request` refused it."""
    if "chunked" in (environ.get("HTTP_TRANSFER_ENCODING") or "").lower():
        return json_error(411, "length_required", "Send Content-Length; chunked bodies are not supported locally")
    declared = (environ.get("CONTENT_LENGTH") or "0").strip()
    if not _DIGITS.fullmatch(declared):
        return json_error(400, "bad_request", "Content-Length must be a non-negative integer in digits")
    length = int(declared)
    if length > MAX_PAYLOAD_BYTES:
        return model.gateway_answer("REQUEST_TOO_LARGE")  # werkzeug drains the rest after answering
    try:
        body = environ["wsgi.input"].read(length) if length else b""
    except (TimeoutError, OSError):
        body = b""
    if len(body) < length:
        return json_error(400, "bad_request", f"Body ended after {len(body)} of {length} bytes")
    return bytes(body)


def proxy_response(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
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


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, plus: framing checks, JSON for http.server's own errors, a read timeout, the raw
    header list."""

    timeout = READ_TIMEOUT_SECONDS  # a client that stops sending mid-request is answered, not waited for

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        problem, length = framing_problem(self.headers)
        if problem:
            self.send_error(400, problem)  # and close: what follows on this connection cannot be framed
            return False
        if length is not None:  # one value, however it was repeated: werkzeug reads the body by it
            del self.headers["Content-Length"]
            self.headers["Content-Length"] = length
        return True

    def make_environ(self) -> Any:
        environ = super().make_environ()
        environ["local.raw_headers"] = list(self.headers.items())  # duplicates kept (the WSGI keys merge them)
        return environ

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        self.close_connection = True
        status, headers, body = json_error(code, "bad_request" if code < 500 else "server_error", message or "")
        with contextlib.suppress(OSError):
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.info("%s %s %s", self.address_string(), self.requestline, code)


class LocalGateway:
    """The gateway's server: werkzeug's threaded WSGI server on 127.0.0.1, in a thread of its own."""

    def __init__(self, port: int, app: LocalGatewayApp, read_timeout: float = READ_TIMEOUT_SECONDS) -> None:
        handler = type("_TimedRequestHandler", (_RequestHandler,), {"timeout": read_timeout})
        self.server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True, request_handler=handler)
        self._thread = threading.Thread(target=self.server.serve_forever, name="local-gateway", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)
