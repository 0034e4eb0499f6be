"""TracingMode on the SAM-transformed template: whatever records traces may also send them to X-Ray."""

from __future__ import annotations

import pytest

from tests.template.policies import allows, resolver, statements

XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets")
XRAY_MANAGED_POLICY = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"


@pytest.mark.parametrize(("mode", "traced"), [("Active", True), ("PassThrough", False)])
def test_given_a_tracing_mode_when_transformed_then_the_state_machine_s_role_may_trace_exactly_when_it_does(
    mode, traced
):
    resolved = resolver(TracingMode=mode)
    machine = resolved.template["Resources"]["CompactionStateMachine"]["Properties"]

    granted = statements(resolved, "CompactionStateMachineRole")

    assert resolved.resolve(machine["TracingConfiguration"]) == {"Enabled": traced}
    assert [allows(granted, action, "*") for action in XRAY_ACTIONS] == [traced] * len(XRAY_ACTIONS)


def test_given_active_tracing_when_transformed_then_every_function_s_role_may_send_its_traces():
    resolved = resolver(TracingMode="Active")
    resources = resolved.template["Resources"]
    functions = {
        name: resource
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function" and resolved.is_active(name)
    }

    for name, function in functions.items():
        assert resolved.resolve(function["Properties"]["TracingConfig"]) == {"Mode": "Active"}, name
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]  # the role SAM generated for it
        managed = resolved.resolve(resources[role]["Properties"].get("ManagedPolicyArns", []))
        assert XRAY_MANAGED_POLICY in managed or all(
            allows(statements(resolved, role), action, "*") for action in XRAY_ACTIONS
        ), name
