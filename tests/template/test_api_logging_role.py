"""API Gateway's CloudWatch Logs role, on the SAM-transformed template: a REST API's access logs need the account
to have one, an account-wide setting the stack must not overwrite. A custom resource sets the stack's role only
when the account has none (functions/api_gateway_logging_role/), before the stage that logs; its function may
read and change that one setting and pass that one role, nothing else."""

from __future__ import annotations

import pytest

from tests.template.policies import REGION, allows, resolver, statements
from tools.sam import depends_on

FUNCTION_ROLE = "ApiGatewayLoggingRoleFunctionRole"
ACCOUNT_SETTINGS = f"arn:aws:apigateway:{REGION}::/account"


def of_type(resources: dict, resource_type: str) -> list[str]:
    return [name for name, resource in resources.items() if resource["Type"] == resource_type]


@pytest.mark.parametrize("api_type", ["REST", "HTTP"])
def test_given_either_api_type_when_deployed_then_nothing_overwrites_the_account_s_logging_role(api_type):
    resources = resolver(ApiType=api_type).template["Resources"]

    # AWS::ApiGateway::Account sets the role whatever the account had (AWS: keep one per account and Region).
    assert of_type(resources, "AWS::ApiGateway::Account") == []


def test_given_the_rest_api_when_its_stage_logs_then_the_custom_resource_has_given_the_account_a_role_first():
    resolved = resolver(ApiType="REST")
    document = resolved.template
    resources = document["Resources"]
    (stage,) = of_type(resources, "AWS::ApiGateway::Stage")
    (setting,) = of_type(resources, "Custom::ApiGatewayLoggingRole")
    properties = resources[setting]["Properties"]
    (role, attribute) = properties["RoleArn"]["Fn::GetAtt"]
    trusted = resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]

    assert resolved.is_active(setting)
    assert depends_on(document, stage, setting)  # the stage, whose access logs need the role, after it
    assert properties["ServiceToken"] == {"Fn::GetAtt": ["ApiGatewayLoggingRoleFunction", "Arn"]}
    assert (resources[role]["Type"], attribute) == ("AWS::IAM::Role", "Arn")
    assert [s["Principal"]["Service"] for s in trusted] == ["apigateway.amazonaws.com"]
    assert resolved.resolve(resources[role]["Properties"]["ManagedPolicyArns"]) == [
        "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    ]
    # If it became the account's role, the account's REST APIs log through it after this stack is gone.
    assert resources[role]["DeletionPolicy"] == resources[role]["UpdateReplacePolicy"] == "Retain"


def test_given_the_http_api_when_deployed_then_no_logging_role_nor_its_custom_resource_exists():
    resolved = resolver(ApiType="HTTP")
    resources = resolved.template["Resources"]

    made = [name for name in resources if "LoggingRole" in name or name == "ApiGatewayCloudWatchRole"]

    assert made
    assert not [name for name in made if resolved.is_active(name)]


def test_given_the_custom_resource_s_function_when_it_runs_then_it_may_read_and_set_only_the_account_s_role():
    resolved = resolver(ApiType="REST")
    granted = statements(resolved, FUNCTION_ROLE)
    role_arn = resolved.get_att("ApiGatewayCloudWatchRole", "Arn")

    assert allows(granted, "apigateway:GET", ACCOUNT_SETTINGS)
    assert allows(granted, "apigateway:PATCH", ACCOUNT_SETTINGS)
    assert allows(granted, "iam:PassRole", role_arn)
    # Nothing else: no API of the account, no other role, no other action.
    assert not allows(granted, "apigateway:PATCH", f"arn:aws:apigateway:{REGION}::/restapis/abc123")
    assert not allows(granted, "apigateway:DELETE", ACCOUNT_SETTINGS)
    assert not allows(granted, "iam:PassRole", "arn:aws:iam::123456789012:role/Admin")
    actions = {action for s in granted for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert actions == {"apigateway:GET", "apigateway:PATCH", "iam:PassRole"}
    managed = resolved.resolve(resolved.template["Resources"][FUNCTION_ROLE]["Properties"]["ManagedPolicyArns"])
    assert set(managed) <= {
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    }
