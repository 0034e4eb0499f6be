"""Build the events API Gateway hands to Lambda functions: a REST API's Lambda proxy events, and an HTTP
API's payload format 1.0 (``http_api=True``: the same shape, with ``version``, the ``$default`` stage,
no stage in paths, and the authorizer's identity source).

Used by the local gateway and by the tests, so both exercise the handlers
with the same event shapes the cloud produces.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

ACCOUNT_ID = "123456789012"
API_ID = "localapi01"
REGION = "us-east-1"


def _single_and_multi(pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value  # API Gateway keeps the last value in the single-value map
        multi.setdefault(name, []).append(value)
    return single, multi


def _body_fields(body: bytes | None) -> tuple[str | None, bool]:
    if body is None or body == b"":
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def method_arn(method: str, path: str, stage: str, region: str = REGION) -> str:
    return f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{API_ID}/{stage}/{method.upper()}{path}"


def request_context(
    *,
    method: str,
    path: str,
    resource: str,
    stage: str,
    source_ip: str,
    user_agent: str | None,
    authorizer: Mapping[str, Any] | None,
    base_path: str | None = None,
) -> dict[str, Any]:
    """``base_path``: what the client's URL held before the route: the stage on API Gateway's own
    endpoint (the default), nothing on a custom domain mapped to the stage, or on the local gateway."""
    now = time.time()
    return {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "authorizer": dict(authorizer) if authorizer is not None else None,
        "domainName": "localhost",
        "httpMethod": method.upper(),
        "identity": {"sourceIp": source_ip, "userAgent": user_agent},
        "path": f"/{stage}{path}" if base_path is None else f"{base_path}{path}",
        "protocol": "HTTP/1.1",
        "requestId": str(uuid.uuid4()),
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "requestTimeEpoch": int(now * 1000),
        "resourceId": "local",
        "resourcePath": resource,
        "stage": stage,
    }


def proxy_event(
    *,
    method: str,
    path: str,
    resource: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    headers: Sequence[tuple[str, str]] = (),
    query: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
    stage: str = "prod",
    authorizer: Mapping[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
    base_path: str | None = None,
    http_api: bool = False,
) -> dict[str, Any]:
    """A Lambda-proxy event, as API Gateway sends it to the integration."""
    single_headers, multi_headers = _single_and_multi(headers)
    single_query, multi_query = _single_and_multi(query)
    body_text, is_base64 = _body_fields(body)
    user_agent = next((value for name, value in headers if name.lower() == "user-agent"), None)
    version = {"version": "1.0"} if http_api else {}
    return {
        **version,
        "resource": resource or path,
        "path": path,
        "httpMethod": method.upper(),
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": request_context(
            method=method,
            path=path,
            resource=resource or path,
            stage=stage,
            source_ip=source_ip,
            user_agent=user_agent,
            authorizer=authorizer,
            base_path=base_path,
        ),
        "body": body_text,
        "isBase64Encoded": is_base64,
    }


def authorizer_event(
    *,
    method: str,
    path: str,
    resource: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
    query: Sequence[tuple[str, str]] = (),
    stage: str = "prod",
    http_api: bool = False,
    identity_header: str = "Authorization",
) -> dict[str, Any]:
    """The event of a REQUEST authorizer (an HTTP API's payload 1.0 adds its version and identity source)."""
    single_headers, multi_headers = _single_and_multi(headers)
    single_query, multi_query = _single_and_multi(query)
    extra: dict[str, Any] = {}
    if http_api:
        identity = ",".join(value for name, value in headers if name.lower() == identity_header.lower())
        extra = {"version": "1.0", "identitySource": identity, "authorizationToken": identity}
    return {
        **extra,
        "type": "REQUEST",
        "methodArn": method_arn(method, path, stage),
        "resource": resource or path,
        "path": path,
        "httpMethod": method.upper(),
        "headers": single_headers or {},
        "multiValueHeaders": multi_headers or {},
        "queryStringParameters": single_query or {},
        "multiValueQueryStringParameters": multi_query or {},
        "pathParameters": {},
        "stageVariables": {},
        "requestContext": request_context(
            method=method,
            path=path,
            resource=resource or path,
            stage=stage,
            source_ip="127.0.0.1",
            user_agent=None,
            authorizer=None,
        ),
    }
