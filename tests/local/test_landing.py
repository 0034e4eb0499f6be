"""The landing page at ``/`` (issue 15): what is running, where to go, and commands that work as shown."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import pytest

from local.landing import commands
from tests.local.conftest import RunningStack
from tests.local.test_local_security import raw_request

BASH = shutil.which("bash") or "/bin/bash"


def test_the_landing_page_says_what_runs_and_links_where_to_go(local_stack: RunningStack) -> None:
    answer = local_stack.request("GET", "/")

    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    page = answer.body.decode()
    links = set(re.findall(r'href="([^"]+)"', page))
    assert {"/dashboard", "/v1/docs", "/__local/stack.json"} <= links
    for value in (local_stack.info["api_url"], local_stack.info["aws_endpoint_url"], "demo-two"):
        assert value in page
    for link in ("/v1/docs", "/__local/stack.json", "/favicon.ico"):
        assert local_stack.request("GET", link).status == 200, link


def test_stack_json_is_served_as_written(local_stack: RunningStack) -> None:
    served = local_stack.request("GET", "/__local/stack.json").json()
    assert served == json.loads(local_stack.stack_file.read_text())


def test_the_favicon_is_an_image(local_stack: RunningStack) -> None:
    answer = local_stack.request("GET", "/favicon.ico")
    assert answer.headers["Content-Type"] == "image/svg+xml"
    assert answer.body.startswith(b"<svg")


def test_the_curl_commands_on_the_page_work_as_shown(local_stack: RunningStack) -> None:
    page = local_stack.request("GET", "/").body.decode()
    shown = [html.unescape(code) for code in re.findall(r"<code>(.*?)</code>", page, flags=re.S)]
    curls = [command for _, command in commands(local_stack.info) if command.startswith("curl")]
    assert curls
    assert all(command in shown for command in curls)
    for command in curls:
        result = subprocess.run([BASH, "-c", command], capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        assert "error" not in answer, answer


@pytest.mark.parametrize("path", ["/", "/__local/stack.json"])
def test_the_landing_routes_answer_only_the_stack_own_address(local_stack: RunningStack, path: str) -> None:
    status, _ = raw_request(local_stack, "GET", path, [("Host", "evil.example")])
    assert status == 403
