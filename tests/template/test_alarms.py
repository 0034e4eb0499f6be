"""Alarms on the SAM-transformed template: the API's 5xx (either API type), the authorizer's errors and
Firehose's deliveries to the raw bucket each have one, on the metric AWS publishes for that resource."""

from __future__ import annotations

import operator
from typing import Any

import pytest

from tests.template.policies import resolver
from tools.intrinsics import Resolver

COMPARE = {
    "GreaterThanOrEqualToThreshold": operator.ge,
    "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}


def alarm_on(resolved: Resolver, namespace: str, metric: str, dimensions: dict[str, str]) -> dict[str, Any]:
    """The one active alarm on exactly this metric and these dimensions."""
    (found,) = [
        properties
        for name, resource in resolved.template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm" and resolved.is_active(name)
        for properties in [resolved.resolve(resource["Properties"])]
        if (properties["Namespace"], properties["MetricName"]) == (namespace, metric)
        and {d["Name"]: d["Value"] for d in properties["Dimensions"]} == dimensions
    ]
    return found


def fires(alarm: dict[str, Any], value: float) -> bool:
    return bool(COMPARE[alarm["ComparisonOperator"]](value, float(alarm["Threshold"])))


def test_given_the_rest_api_when_it_answers_a_5xx_then_its_alarm_fires():
    resolved = resolver(ApiType="REST")
    body = resolved.resolve(resolved.template["Resources"]["Api"]["Properties"]["Body"])
    stage = resolved.resolve({"Ref": "StageName"})

    alarm = alarm_on(resolved, "AWS/ApiGateway", "5XXError", {"ApiName": body["info"]["title"], "Stage": stage})

    assert alarm["Statistic"] == "Sum"
    assert (fires(alarm, 1), fires(alarm, 0)) == (True, False)


def test_given_the_http_api_when_it_answers_a_5xx_then_its_alarm_fires():
    resolved = resolver(ApiType="HTTP")

    alarm = alarm_on(resolved, "AWS/ApiGateway", "5xx", {"ApiId": resolved.ref("HttpApi")})

    assert alarm["Statistic"] == "Sum"
    assert (fires(alarm, 1), fires(alarm, 0)) == (True, False)


@pytest.mark.parametrize("api_type", ["REST", "HTTP"])
def test_given_the_authorizer_when_it_raises_or_times_out_then_its_alarm_fires(api_type):
    resolved = resolver(ApiType=api_type)

    alarm = alarm_on(resolved, "AWS/Lambda", "Errors", {"FunctionName": resolved.ref("AuthorizerFunction")})

    assert alarm["Statistic"] == "Sum"
    assert (fires(alarm, 1), fires(alarm, 0)) == (True, False)


def test_given_firehose_when_a_put_to_the_raw_bucket_fails_or_delivery_stalls_then_an_alarm_fires():
    resolved = resolver()
    stream = {"DeliveryStreamName": resolved.ref("DeliveryStream")}
    interval = int(resolved.resolve({"Ref": "FirehoseBufferIntervalSeconds"}))

    failed = alarm_on(resolved, "AWS/Firehose", "DeliveryToS3.Success", stream)
    stuck = alarm_on(resolved, "AWS/Firehose", "DeliveryToS3.DataFreshness", stream)

    # Success is successful puts over all puts in the period: any failed put brings its minimum below 1.
    assert failed["Statistic"] == "Minimum"
    assert (fires(failed, 0.99), fires(failed, 1)) == (True, False)
    # Freshness is the age of the oldest record not delivered yet: up to the buffer interval is normal.
    assert stuck["Statistic"] == "Maximum"
    assert (fires(stuck, 900), fires(stuck, interval)) == (False, False)
    assert fires(stuck, 3600)


@pytest.mark.parametrize("metric", ["CounterUpdateFailures", "SuppressionLoadFailures", "SchemaLoadFailures"])
def test_given_a_collector_metric_of_a_failure_kept_quiet_for_the_client_then_its_alarm_fires(metric):
    """The collector answers 200 and meters what it could not do (functions/collector/app.py publishes both
    under the service's dimension, tests/functions check the names): one alarm each, at the first."""
    alarm = alarm_on(resolver(ApiType="REST"), "EventCollector", metric, {"service": "event-collector"})

    assert fires(alarm, 1)
    assert not fires(alarm, 0)


def test_given_every_alarm_when_resolved_then_it_notifies_the_topic_and_idle_periods_are_not_alarms():
    resolved = resolver()
    topic = resolved.ref("AlarmTopic")
    alarms = [
        resolved.resolve(resource["Properties"])
        for resource in resolved.template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    ]

    assert all(alarm["AlarmActions"] == [topic] for alarm in alarms)
    assert all(alarm["TreatMissingData"] == "notBreaching" for alarm in alarms)
