"""Start the local mode as a subprocess on free ports; stop it after the module's tests."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.template import ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
    api_port, aws_port = free_port(), free_port()
    env = {
        **os.environ,
        "LOCAL_API_PORT": str(api_port),
        "LOCAL_AWS_PORT": str(aws_port),
        "LOCAL_STATE_DIR": str(tmp_path),
        "LOCAL_QUIET": "1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    env.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:  # blocks until the banner, or EOF if the stack died
        seen.append(line)
        if "ready in" in line:
            break
    else:
        process.wait()
        raise AssertionError("local mode did not start:\n" + "".join(seen))
    # Keep reading its output: a child blocked on a full pipe would look like a hung stack.
    threading.Thread(target=lambda: [None for _ in process.stdout or ()], daemon=True).start()
    stack_file = tmp_path / "stack.json"
    return RunningStack(process, json.loads(stack_file.read_text()), api_port, aws_port, stack_file)


def stop_stack(stack: RunningStack) -> int:
    stack.process.send_signal(signal.SIGINT)
    try:
        stack.process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        stack.process.communicate()
        raise
    return stack.process.returncode


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(tmp_path_factory.mktemp("local"), {"LOCAL_AUTHORIZER_TTL": "0"})
    yield stack
    if stack.process.poll() is None:
        stop_stack(stack)
