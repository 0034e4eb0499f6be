"""The schemas table as template.yaml declares it, who may read it, and the cache parameter the collectors get."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from event_collector.config import CollectorSettings, CompactSettings, RefreshSettings
from tests.template.policies import allows, resolver, statements
from tools.template import template

READERS: dict[str, type[BaseModel]] = {
    "CollectorFunction": CollectorSettings,
    "HttpCollectorFunction": CollectorSettings,
    "CompactionCompactFunction": CompactSettings,
    "CompactionRefreshFunction": RefreshSettings,
}


def test_given_the_schemas_table_then_keyed_by_partition_and_sort_key_recoverable_and_kept_on_deletion():
    resource = template()["Resources"]["SchemasTable"]
    properties = resource["Properties"]

    assert properties["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert "TimeToLiveSpecification" not in properties  # stored events name their versions: never expire
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert template()["Outputs"]["SchemasTableName"]["Value"] == {"Ref": "SchemasTable"}


@pytest.mark.parametrize("function", sorted(READERS))
def test_given_each_reader_then_it_is_told_the_table_and_its_settings_take_it(function):
    variables = template()["Resources"][function]["Properties"]["Environment"]["Variables"]

    assert variables["SCHEMAS_TABLE_NAME"] == {"Ref": "SchemasTable"}
    assert "schemas_table_name" in READERS[function].model_fields


@pytest.mark.parametrize("function", ["CollectorFunction", "HttpCollectorFunction"])
def test_given_either_collector_then_it_caches_schemas_for_the_parameter_s_seconds_within_the_settings_bounds(
    function,
):
    parameter = template()["Parameters"]["SchemaCacheSeconds"]
    variables = template()["Resources"][function]["Properties"]["Environment"]["Variables"]
    bounds = {type(m).__name__: m for m in CollectorSettings.model_fields["schema_cache_seconds"].metadata}

    assert variables["SCHEMA_CACHE_SECONDS"] == {"Ref": "SchemaCacheSeconds"}
    assert (parameter["Default"], parameter["MinValue"], parameter["MaxValue"]) == (60, 0, 3600)
    assert (bounds["Ge"].ge, bounds["Le"].le) == (0, 3600)


@pytest.mark.parametrize(
    ("role", "api_type"),
    [
        ("CollectorFunctionRole", "REST"),
        ("HttpCollectorFunctionRole", "HTTP"),
        ("CompactionCompactFunctionRole", "REST"),
        ("CompactionRefreshFunctionRole", "REST"),
    ],
)
def test_given_each_reader_then_it_may_read_the_schemas_table_and_never_write_it(role, api_type):
    """Only the admin CLI registers schemas: a function that could write one could change a tenant's types."""
    resolved = resolver(ApiType=api_type)
    granted = statements(resolved, role)
    table = resolved.arn("SchemasTable")

    for action in ("dynamodb:GetItem", "dynamodb:Query"):
        assert allows(granted, action, table), action
    for action in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"):
        assert not allows(granted, action, table), action
