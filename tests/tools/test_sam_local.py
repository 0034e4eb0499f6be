"""The per-ApiType templates `make build` writes for `sam local` (tools/sam_local.py).

The built template is template.yaml with its code paths rewritten, so these
tests prune template.yaml itself; `make parity` loads SAM CLI's providers on
the real build output (tools/sam_local_check.py).
"""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from tools.sam import transformed_template
from tools.sam_local import (
    EMULATOR_VARIABLES,
    LocalTemplateError,
    decided_conditions,
    local_template,
    template_name,
    write_local_templates,
)
from tools.sam_local_expectations import deployed_api
from tools.template import load_template, template

OTHER = {"REST": "HTTP", "HTTP": "REST"}
# Each API type's own resources in template.yaml, and the other's.
OWN = {
    "REST": {
        "Api",
        "CollectorFunction",
        "CollectorFunctionLogs",
        "ApiServerErrorsAlarm",
        "ApiGatewayCloudWatchRole",
        "ApiGatewayLoggingRole",
        "ApiGatewayLoggingRoleFunction",
        "ApiGatewayLoggingRoleFunctionLogs",
    },
    "HTTP": {"HttpApi", "HttpCollectorFunction", "HttpCollectorFunctionLogs", "HttpApiServerErrorsAlarm"},
}


@pytest.mark.parametrize("api_type", ["REST", "HTTP"])
def test_given_an_api_type_when_pruned_then_only_its_api_and_collector_remain_without_their_condition(api_type):
    local = local_template(template(), api_type)

    resources = local["Resources"]
    assert OWN[api_type] <= set(resources)
    assert not OWN[OTHER[api_type]] & set(resources)
    assert all("Condition" not in resources[logical_id] for logical_id in OWN[api_type])
    assert set(template()["Resources"]) - set(resources) == OWN[OTHER[api_type]]


@pytest.mark.parametrize("api_type", ["REST", "HTTP"])
def test_given_an_api_type_when_pruned_then_the_sam_transform_deploys_the_same_api(api_type):
    """What SAM CLI reads is what CloudFormation would deploy for that type, nothing of the other."""
    local = local_template(template(), api_type)

    assert deployed_api(api_type, transformed_template(local)) == deployed_api(api_type)


@pytest.mark.parametrize("api_type", ["REST", "HTTP"])
def test_given_an_api_type_when_pruned_then_the_parameter_allows_only_that_type(api_type):
    parameter = local_template(template(), api_type)["Parameters"]["ApiType"]

    assert (parameter["Default"], parameter["AllowedValues"]) == (api_type, [api_type])


def test_given_the_rest_type_when_pruned_then_outputs_choose_the_rest_branch_and_other_conditions_stay():
    local = local_template(template(), "REST")

    assert "HttpApi" not in json.dumps(local["Outputs"]["ApiUrl"])
    assert "Fn::If" not in json.dumps(local["Outputs"]["ApiUrl"])
    assert {"UseRestApi", "UseHttpApi"}.isdisjoint(local["Conditions"])
    assert local["Conditions"]["HasAlarmEmail"] == template()["Conditions"]["HasAlarmEmail"]
    assert local["Resources"]["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"
    assert "TracingActive" in json.dumps(local["Resources"]["Api"])  # Fn::If on other parameters stays


@pytest.mark.parametrize("api_type", ["REST", "HTTP"])
def test_given_a_pruned_template_when_read_then_every_function_declares_where_aws_is(api_type):
    variables = local_template(template(), api_type)["Globals"]["Function"]["Environment"]["Variables"]

    assert {name: variables[name] for name in EMULATOR_VARIABLES} == EMULATOR_VARIABLES
    assert variables["AWS_ENDPOINT_URL"].startswith("http://host.docker.internal:")


def test_given_the_repository_template_when_pruned_then_it_is_left_unchanged():
    before = copy.deepcopy(template())

    local_template(template(), "REST")

    assert template() == before


def test_given_a_condition_built_on_an_api_condition_when_decided_then_it_is_decided_too():
    document = copy.deepcopy(template())
    document["Conditions"]["RestAndAlarm"] = {"Fn::And": [{"Condition": "UseRestApi"}, {"Condition": "HasAlarmEmail"}]}

    decided = decided_conditions(document, "HTTP")

    assert decided == {"RestAndAlarm": False, "UseHttpApi": True, "UseRestApi": False}


@pytest.mark.parametrize("api_type", ["SOAP", "rest", ""])
def test_given_an_unknown_api_type_when_pruned_then_it_is_refused_naming_the_choices(api_type):
    with pytest.raises(LocalTemplateError, match="REST, HTTP"):
        local_template(template(), api_type)


def test_given_a_template_without_the_api_parameter_when_pruned_then_refused():
    document = copy.deepcopy(template())
    del document["Parameters"]["ApiType"]

    with pytest.raises(LocalTemplateError, match="no ApiType parameter"):
        local_template(document, "REST")


@pytest.mark.parametrize("where", ["Globals", "FanOutFunction"])
def test_given_a_deployed_template_declaring_an_aws_variable_when_pruned_then_refused_naming_it(where):
    document = copy.deepcopy(template())
    block = document["Globals"]["Function"] if where == "Globals" else document["Resources"][where]["Properties"]
    block["Environment"]["Variables"]["AWS_ENDPOINT_URL"] = "http://example.invalid"

    with pytest.raises(LocalTemplateError, match=f"{where}: AWS_ENDPOINT_URL"):
        local_template(document, "REST")


def test_given_a_resource_naming_the_other_api_without_fn_if_when_pruned_then_refused_naming_both():
    document = copy.deepcopy(template())
    document["Resources"]["FanOutFunction"]["Properties"]["Environment"]["Variables"]["API"] = {"Ref": "HttpApi"}

    with pytest.raises(LocalTemplateError, match="FanOutFunction -> HttpApi"):
        local_template(document, "REST")


def test_given_a_build_dir_when_written_then_both_templates_load_and_say_they_are_local_only(tmp_path):
    (tmp_path / "template.yaml").write_text(yaml.safe_dump(template(), sort_keys=False), encoding="utf-8")

    written = write_local_templates(tmp_path)

    assert [path.name for path in written] == [template_name("REST"), template_name("HTTP")]
    for path, api_type in zip(written, ["REST", "HTTP"], strict=True):
        assert "Never deploy it" in path.read_text(encoding="utf-8").splitlines()[1]
        assert load_template(path) == local_template(template(), api_type)


def test_given_no_build_when_written_then_refused_saying_make_build(tmp_path):
    with pytest.raises(LocalTemplateError, match="make build"):
        write_local_templates(tmp_path)
