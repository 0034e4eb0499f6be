"""No metric lines unless asked (issue 25): the quiet local mode printed an EMF line every ~100 requests or
fan-outs, because Powertools, with metrics disabled, never clears its metric set and prints it by itself once a
metric holds 100 values. The local mode drops what an invocation added (local/lambdas.py, discard_metrics)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from local.lambdas import LocalFunction

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
