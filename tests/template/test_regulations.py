"""The regulations table as template.yaml declares it: the audit record of privacy requests."""

from __future__ import annotations

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
