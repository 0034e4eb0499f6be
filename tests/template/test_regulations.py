"""The regulations table as template.yaml declares it: the audit record of privacy requests."""

from __future__ import annotations

import pytest

from event_collector.ingest.routes import ROUTES
from tests.template.policies import allows, resolver, statements
from tools.template import template


def test_given_the_regulations_table_then_keyed_by_tenant_and_item_encrypted_recoverable_and_never_expiring():
    resource = template()["Resources"]["RegulationsTable"]
    properties = resource["Properties"]

    assert properties["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {(a["AttributeName"], a["AttributeType"]) for a in properties["AttributeDefinitions"]} == {
        ("pk", "S"),
        ("sk", "S"),
    }
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert "TimeToLiveSpecification" not in properties  # the requests are the audit record
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert template()["Outputs"]["RegulationsTableName"]["Value"] == {"Ref": "RegulationsTable"}


@pytest.mark.parametrize(
    ("role", "api_type"), [("CollectorFunctionRole", "REST"), ("HttpCollectorFunctionRole", "HTTP")]
)
def test_given_either_collector_then_it_may_ask_and_read_requests_in_the_regulations_table_and_no_more(role, api_type):
    resolved = resolver(ApiType=api_type)
    granted = statements(resolved, role)
    regulations = resolved.arn("RegulationsTable")

    for action in ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"):
        assert allows(granted, action, regulations), action
    for action in ("dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteTable"):
        assert not allows(granted, action, regulations), action
    for table in ("CountersTable", "TenantKeysTable", "CompactionStateTable"):
        for action in ("dynamodb:PutItem", "dynamodb:DeleteItem"):
            assert not allows(granted, action, resolved.arn(table)), (table, action)


def test_given_both_api_types_then_the_authorizer_guards_exactly_the_route_tables_gateway_routes():
    gateway = {(route.method, route.path) for route in ROUTES if route.auth == "gateway"}
    resources = template()["Resources"]

    for function, kind in (("CollectorFunction", "Api"), ("HttpCollectorFunction", "HttpApi")):
        events = [e["Properties"] for e in resources[function]["Properties"]["Events"].values() if e["Type"] == kind]
        authorized = {(e["Method"].upper(), e["Path"]) for e in events if e.get("Auth", {}).get("Authorizer") != "NONE"}
        assert authorized == gateway, function
    assert {("POST", "/v1/regulations"), ("GET", "/v1/regulations/{id}")} <= gateway
