"""Start the local mode as a subprocess on free ports; stop it after the module's tests."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tools.harness import spawn_stack, stop_child


def is_listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    info: dict[str, Any]
    api_port: int
    aws_port: int
    stack_file: Path

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        auth: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        data = json.dumps(body).encode() if body is not None else None
        all_headers = dict(headers or {})
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
        if auth:
            all_headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request = urllib.request.Request(self.info["api_url"] + path, data=data, headers=all_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return Response(answer.status, dict(answer.headers.items()), answer.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers.items()), error.read())

    def drain(self) -> None:
        """Wait until every S3 notification (fan-out and its counting) has been handled."""
        answer = self.request("POST", "/__local/drain")
        assert answer.status == 200, answer.body

    def demo_auth(self, index: int = 0) -> tuple[str, str]:
        tenant = self.info["tenants"][index]
        return tenant["tenant"], tenant["api_key"]

    def aws(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.info["aws_endpoint_url"],
            region_name=self.info["region"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
            aws_session_token="local",
        )


def start_stack(tmp_path: Path, extra_env: dict[str, str] | None = None) -> RunningStack:
    child = spawn_stack(tmp_path, {"POWERTOOLS_LOG_LEVEL": "WARNING", **(extra_env or {})})
    return RunningStack(child.process, child.info, child.api_port, child.aws_port, child.stack_file)


def stop_stack(stack: RunningStack) -> int:
    return stop_child(stack.process)


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(tmp_path_factory.mktemp("local"), {"LOCAL_AUTHORIZER_TTL": "0"})
    yield stack
    if stack.process.poll() is None:
        stop_stack(stack)
