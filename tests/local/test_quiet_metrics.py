"""No metric lines unless asked (issue 25): the quiet local mode printed an EMF line every ~100 requests or
fan-outs, because Powertools, with metrics disabled, never clears its metric set and prints it by itself once a
metric holds 100 values. The local mode drops what an invocation added (local/lambdas.py, discard_metrics)."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from local.lambdas import LocalFunction
from tests.local.test_lifecycle import BOUND, STOP_BOUND
from tests.local.test_signals import Lines
from tools.harness import free_port
from tools.template import ROOT

INVOCATIONS = 250  # past Powertools' 100 values per metric, twice


@pytest.fixture(autouse=True)
def no_metrics_left_over() -> Iterator[None]:
    """Every Metrics of a process shares one set: start and end each test with it empty."""
    Metrics().clear_metrics()
    yield
    Metrics().clear_metrics()


def function_adding_a_metric(*, discard_metrics: bool) -> LocalFunction:
    metrics = Metrics(namespace="LocalTest", service="quiet")

    @metrics.log_metrics
    def handler(event: Any, context: Any) -> dict[str, Any]:
        metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=1)
        return {}

    function = LocalFunction(
        "Function",
        "local-function",
        "arn:aws:lambda:us-east-1:123456789012:function:local-function",
        "fan_out",
        "lambda_handler",
        3,
        128,
        {},
        discard_metrics=discard_metrics,
    )
    function._handler = handler
    return function


def metric_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if '"_aws"' in line]


def test_given_the_quiet_local_mode_when_a_function_runs_many_times_then_no_metric_line_is_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    function = function_adding_a_metric(discard_metrics=True)

    for _ in range(INVOCATIONS):
        function.invoke({})

    assert metric_lines(capsys.readouterr().out) == []


def test_given_metrics_only_disabled_when_a_function_runs_many_times_then_powertools_prints_them_anyway(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The cause, kept visible: should Powertools clear its set when disabled, discard_metrics can go."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    function = function_adding_a_metric(discard_metrics=False)

    for _ in range(INVOCATIONS):
        function.invoke({})

    assert len(metric_lines(capsys.readouterr().out)) == INVOCATIONS // 100


def test_given_local_verbose_when_a_function_runs_then_each_invocation_prints_its_metric_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    function = function_adding_a_metric(discard_metrics=False)

    for _ in range(3):
        function.invoke({})

    assert len(metric_lines(capsys.readouterr().out)) == 3


REQUESTS = 60  # one raw object each, so one fan-out each, and one more each by the backfill: 120 LinesIn values


def test_given_the_default_local_stack_when_loaded_and_backfilled_then_it_prints_no_metric_line(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "LOCAL_STATE_DIR": str(tmp_path), "LOCAL_API_PORT": str(free_port())}
    env["LOCAL_AWS_PORT"] = str(free_port())
    for name in ("AWS_ENDPOINT_URL", "LOCAL_QUIET", "LOCAL_VERBOSE", "POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_DEV"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "local"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = Lines(process)
    try:
        lines.wait_for("ready in")
        info = json.loads((tmp_path / "stack.json").read_text())
        auth = "Basic " + base64.b64encode(f"{info['tenant']}:{info['api_key']}".encode()).decode()
        for number in range(REQUESTS):
            body = json.dumps({"events": [{"event_type": "track", "name": f"quiet-{number}"}]}).encode()
            call(info["api_url"] + "/v1/events", body, {"Authorization": auth, "Content-Type": "application/json"})
        call(info["api_url"] + "/__local/drain", b"", {})
        backfill = subprocess.run(
            [str(Path(sys.executable).parent / "event-collector-lake"), "--endpoint-url", info["aws_endpoint_url"],
             "--region", info["region"], "backfill", "--function", info["fan_out_function"],
             "--raw-bucket", info["raw_bucket"], "--prefix", "raw/"],
            env={**env, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"},
            capture_output=True, text=True, timeout=BOUND, check=False,
        )  # fmt: skip
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=STOP_BOUND)
    output = lines.rest()

    assert backfill.returncode == 0, backfill.stderr
    assert json.loads(backfill.stdout)["objects"] >= REQUESTS
    assert "backfill [" in backfill.stderr
    assert metric_lines(output) == [], output[:2000]
    assert metric_lines(backfill.stdout) == []


def call(url: str, body: bytes, headers: dict[str, str]) -> None:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=BOUND) as answer:
        assert answer.status == 200
