"""The deployed wiring, in-process: each ``functions/*/app.py`` imported with exactly the environment the
SAM-transformed template gives it, its module-level clients (the lean request-path clients included)
pointed at a moto server on 127.0.0.1 that holds the template's resources.

Nothing of our own composition is replaced: AWS is moto, API Gateway is two event builders
(``local/gateway/events.py``) and the rule of which routes run the authorizer, read from template.yaml.
Faults are answers of that moto server (``local/faults.py``), as AWS would give them.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3

from event_collector.aws.tenant_keys_table import TenantKeysTable
from event_collector.tenants.admin import TenantAdmin
from local.faults import Faults
from local.functions import load_function
from local.gateway.events import authorizer_event, proxy_event
from local.moto_bridge import MotoServer
from local.provision import Clients, provision_data_resources
from tools.intrinsics import Resolver
from tools.sam import code_path, transformed_template
from tools.template import template

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
SERVICES = ("s3", "dynamodb", "firehose", "sqs", "glue", "iam", "lambda", "stepfunctions")


def authorized_routes(function: str) -> set[tuple[str, str]]:
    """(METHOD, path) of the function's API events that run the authorizer (no ``Authorizer: NONE``)."""
    routes = set()
    for event in template()["Resources"][function]["Properties"].get("Events", {}).values():
        properties = event.get("Properties", {})
        if event["Type"] in ("Api", "HttpApi") and properties.get("Auth", {}).get("Authorizer") != "NONE":
            routes.add((properties["Method"].upper(), properties["Path"]))
    return routes


def matching_route(routes: set[tuple[str, str]], method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The template path of ``routes`` that ``path`` matches for ``method`` (``{id}`` is one path segment), and
    its path parameters, as API Gateway routes a request."""
    for route_method, template_path in routes:
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template_path))
        found = re.fullmatch(pattern, path)
        if route_method == method.upper() and found:
            return template_path, found.groupdict()
    return None


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class DeployedStack:
    server: MotoServer
    faults: Faults
    clients: Clients
    stack_name: str = "wiring"
    modules: dict[str, ModuleType] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def resolver(self, parameters: dict[str, str] | None = None) -> Resolver:
        return Resolver(transformed_template(), self.stack_name, REGION, parameters)

    def name(self, logical_id: str) -> str:
        return self.resolver().physical_name(logical_id)

    def environment(self, logical_id: str, parameters: dict[str, str] | None = None) -> dict[str, str]:
        """The function's own variables as CloudFormation sets them (Globals merged), and where AWS is."""
        resolver = self.resolver(parameters)
        properties = resolver.template["Resources"][logical_id]["Properties"]
        variables = resolver.resolve(properties.get("Environment", {}).get("Variables", {}))
        return {**{k: str(v) for k, v in variables.items()}, **CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    def function(self, logical_id: str, parameters: dict[str, str] | None = None) -> ModuleType:
        """``functions/<code>/app.py`` of ``logical_id``, imported once per parameter set (a container)."""
        tag = logical_id + "".join(f"_{k}_{v}" for k, v in sorted((parameters or {}).items()))
        if tag not in self.modules:
            resolver = self.resolver(parameters)
            code = code_path(resolver.template["Resources"][logical_id]["Properties"]["Code"])
            self.modules[tag] = load_function(
                code.rstrip("/").rsplit("/", 1)[-1],
                self.environment(logical_id, parameters),
                module_name=f"deployed_{self.stack_name}_{tag}",
            )
        return self.modules[tag]

    def admin(self) -> TenantAdmin:
        # Keys without expiry: the authorizer's own clock never decides these tests.
        return TenantAdmin(
            TenantKeysTable(self.clients.dynamodb, self.name("TenantKeysTable")), clock=lambda: int(time.time())
        )

    def raw_lines(self) -> list[dict[str, Any]]:
        bucket = self.name("RawBucket")
        lines = []
        for item in self.clients.s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            body = self.clients.s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            lines += [json.loads(line) for line in body.splitlines() if line]
        return lines

    def raw_keys(self) -> list[str]:
        listed = self.clients.s3.list_objects_v2(Bucket=self.name("RawBucket")).get("Contents", [])
        return [item["Key"] for item in listed]


def start_deployed_stack(stack_name: str = "wiring") -> DeployedStack:
    """The template's resources on a moto server. Moto's state outlives a server in the process, so each test
    module starts a stack of its own name: its own resource names, and its own imports of the functions."""
    faults = Faults()
    resolver = Resolver(transformed_template(), stack_name, REGION)
    server = MotoServer("127.0.0.1", 0, faults.middleware(resolver.physical_name("LakeBucket")))
    server.start()
    endpoint = f"http://127.0.0.1:{server.port}"
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    made = {name: session.client(name, endpoint_url=endpoint) for name in SERVICES}
    clients = Clients(**{("lambda_" if name == "lambda" else name): client for name, client in made.items()})
    provision_data_resources(resolver, clients)
    return DeployedStack(server, faults, clients, stack_name)


def context(function_name: str = "collector", seconds: float = 15.0) -> SimpleNamespace:
    """Lambda's context with the template's 15 s timeout just started."""
    return SimpleNamespace(
        function_name=function_name,
        function_version="$LATEST",
        memory_limit_in_mb=512,
        invoked_function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:{function_name}",
        aws_request_id="00000000-0000-0000-0000-000000000000",
        log_group_name=f"/aws/lambda/{function_name}",
        log_stream_name="wiring",
        get_remaining_time_in_millis=lambda: int(seconds * 1000),
    )


def basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Api:
    """One API type's routes as API Gateway forwards them: the authorizer on the routes the template gives
    it (a denial or a missing header answered as the gateway would), then the collector."""

    def __init__(self, stack: DeployedStack, api_type: str = "REST") -> None:
        parameters = {"ApiType": api_type}
        collector = "CollectorFunction" if api_type == "REST" else "HttpCollectorFunction"
        self.http_api = api_type == "HTTP"
        self.authorizer = stack.function("AuthorizerFunction", parameters)
        self.collector = stack.function(collector, parameters)
        self.authorized = authorized_routes(collector)

    def request(
        self,
        method: str,
        path: str,
        *,
        auth: str | None = None,
        body: Any = None,
        raw_body: bytes | None = None,
        headers: Sequence[tuple[str, str]] = (),
        query: Sequence[tuple[str, str]] = (),
        gzipped: bool = False,
    ) -> Answer:
        all_headers = list(headers)
        if auth is not None:
            all_headers.append(("Authorization", auth))
        if raw_body is None and body is not None:
            raw_body = json.dumps(body).encode()
            all_headers.append(("Content-Type", "application/json"))
        if gzipped and raw_body is not None:
            raw_body = gzip.compress(raw_body)
            all_headers.append(("Content-Encoding", "gzip"))
        authorizer_context = None
        route = matching_route(self.authorized, method, path)
        resource, path_parameters = route if route else (None, {})
        if route is not None:
            if auth is None:
                return Answer(401, {}, {"error": "unauthorized"})
            decision = self.authorizer.lambda_handler(
                authorizer_event(
                    method=method, path=path, resource=resource, headers=all_headers, http_api=self.http_api
                ),
                context("authorizer"),
            )
            if decision["policyDocument"]["Statement"][0]["Effect"] != "Allow":
                return Answer(403, {}, {"error": "forbidden"})
            authorizer_context = decision["context"]
        event = proxy_event(
            method=method,
            path=path,
            resource=resource,
            path_parameters=path_parameters,
            headers=all_headers,
            query=query,
            body=raw_body,
            authorizer=authorizer_context,
            http_api=self.http_api,
        )
        if self.http_api:
            event["requestContext"]["stage"] = "$default"
        if not self.http_api and raw_body is not None and not event["isBase64Encoded"]:
            # The REST API has BinaryMediaTypes */*: every body reaches the collector base64-encoded.
            event["body"] = base64.b64encode(raw_body).decode()
            event["isBase64Encoded"] = True
        response = self.collector.lambda_handler(event, context())
        answer_headers = {**(response.get("headers") or {})}
        for name, values in (response.get("multiValueHeaders") or {}).items():
            answer_headers[name] = values[-1]
        text = response.get("body")
        return Answer(response["statusCode"], answer_headers, json.loads(text) if text else None)
