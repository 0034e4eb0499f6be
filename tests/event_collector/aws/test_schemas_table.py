"""The schema registry port: the same expectations of the DynamoDB adapter (against moto) and of the in-memory
fake; then what only the adapter decides: its items, pagination, races and AWS errors."""

from __future__ import annotations

import os
from typing import Any

import pytest

from event_collector.aws.schemas_table import SchemasTable
from event_collector.errors import StorageError
from event_collector.schemas.registry import RegisteredSchema, SchemaKind, TenantSchemas, TypeTaken, VersionTaken
from tests.conftest import fail_calls
from tests.fakes.schemas import MemorySchemas

T0 = 1_790_000_000_000


def document(*fields: str) -> dict[str, Any]:
    """An object schema whose properties keep the order given (``total`` before ``order_id``)."""
    return {"type": "object", "properties": {name: {"type": "string"} for name in fields}}


def version(
    number: int, *fields: str, tenant: str = "acme", kind: SchemaKind = "type", name: str = "order_completed"
) -> RegisteredSchema:
    return RegisteredSchema(tenant, kind, name, number, document(*fields), T0 + number)


@pytest.fixture(params=["dynamodb", "memory"])
def registry(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemorySchemas()
    aws = request.getfixturevalue("aws")
    return SchemasTable(aws.dynamodb, os.environ["SCHEMAS_TABLE_NAME"])


def test_given_no_schema_when_read_then_empty_with_the_default_policy(registry):
    assert registry.tenant_schemas("acme") == TenantSchemas(types={}, tracks={}, unplanned="accept")
    assert registry.versions("acme", "type", "order_completed") == []
    assert registry.owner_of("order_completed") is None
    assert registry.type_schema("order_completed") is None


def test_given_versions_when_put_then_read_back_in_order_with_their_documents_and_key_order(registry):
    for number, fields in ((1, ("total", "order_id")), (2, ("total", "order_id", "coupon"))):
        registry.put_version(version(number, *fields))

    versions = registry.versions("acme", "type", "order_completed")

    assert [schema.version for schema in versions] == [1, 2]
    assert versions[1] == version(2, "total", "order_id", "coupon")
    assert list(versions[1].document["properties"]) == ["total", "order_id", "coupon"]  # columns follow this
    assert registry.owner_of("order_completed") == "acme"
    assert registry.type_schema("order_completed") == version(2, "total", "order_id", "coupon")


def test_given_types_plans_and_a_policy_when_the_tenant_is_read_then_the_latest_of_each_in_one_answer(registry):
    for number in (1, 2, 3):
        registry.put_version(version(number, *(f"f{i}" for i in range(number))))
    registry.put_version(version(1, "a", name="cart_viewed"))
    registry.put_version(version(1, "orderId", kind="track", name="Order Completed"))
    registry.put_version(version(2, "orderId", "total", kind="track", name="Order Completed"))
    registry.put_version(version(1, "x", kind="track", name="Order Completed #2"))  # a name holding '#'
    registry.put_version(version(1, "b", tenant="globex", name="signup"))
    registry.set_unplanned("acme", "reject")

    schemas = registry.tenant_schemas("acme")

    assert {name: schema.version for name, schema in schemas.types.items()} == {"order_completed": 3, "cart_viewed": 1}
    assert {name: schema.version for name, schema in schemas.tracks.items()} == {
        "Order Completed": 2,
        "Order Completed #2": 1,
    }
    assert schemas.unplanned == "reject"
    assert registry.tenant_schemas("globex").unplanned == "accept"
    assert [s.version for s in registry.versions("acme", "track", "Order Completed")] == [1, 2]  # not "#2"'s


def test_given_another_tenants_type_when_a_version_is_put_then_type_taken_and_nothing_stored(registry):
    registry.put_version(version(1, "a"))

    with pytest.raises(TypeTaken) as raised:
        registry.put_version(version(1, "b", tenant="globex"))
    with pytest.raises(TypeTaken):
        registry.put_version(version(2, "b", tenant="globex"))

    assert "acme" not in str(raised.value)
    assert registry.owner_of("order_completed") == "acme"
    assert registry.tenant_schemas("globex").types == {}
    assert registry.type_schema("order_completed") == version(1, "a")


def test_given_a_stored_version_when_put_again_then_version_taken_and_the_first_document_stays(registry):
    registry.put_version(version(1, "a"))
    registry.put_version(version(1, "a", kind="track", name="Signed Up"))

    with pytest.raises(VersionTaken):
        registry.put_version(version(1, "b"))
    with pytest.raises(VersionTaken):
        registry.put_version(version(1, "b", kind="track", name="Signed Up"))

    assert registry.versions("acme", "type", "order_completed") == [version(1, "a")]
    assert registry.versions("acme", "track", "Signed Up") == [version(1, "a", kind="track", name="Signed Up")]


def test_given_two_tenants_with_one_track_name_when_put_then_each_has_its_own_plan(registry):
    registry.put_version(version(1, "a", kind="track", name="Signed Up"))
    registry.put_version(version(1, "b", tenant="globex", kind="track", name="Signed Up"))

    assert registry.tenant_schemas("acme").tracks["Signed Up"].document == document("a")
    assert registry.tenant_schemas("globex").tracks["Signed Up"].document == document("b")


def test_given_a_policy_when_set_again_then_the_last_one_holds(registry):
    registry.set_unplanned("acme", "reject")
    registry.set_unplanned("acme", "accept")

    assert registry.tenant_schemas("acme").unplanned == "accept"


# What only the adapter decides.


def stored_keys(aws: Any) -> set[tuple[str, str]]:
    items = aws.dynamodb.scan(TableName=os.environ["SCHEMAS_TABLE_NAME"])["Items"]
    return {(item["pk"]["S"], item["sk"]["S"]) for item in items}


@pytest.fixture
def table(aws) -> SchemasTable:
    return SchemasTable(aws.dynamodb, os.environ["SCHEMAS_TABLE_NAME"])


def test_given_schemas_when_stored_then_items_are_keyed_by_tenant_kind_name_and_six_digit_version(aws, table):
    table.put_version(version(12, "a"))
    table.put_version(version(1, "a", kind="track", name="Order Completed"))
    table.set_unplanned("acme", "reject")

    assert stored_keys(aws) == {
        ("acme", "type#order_completed#000012"),
        ("acme", "track#Order Completed#000001"),
        ("acme", "policy"),
        ("#types", "order_completed"),
    }


def test_given_a_tenant_with_more_than_a_page_when_read_then_every_page_is_read(aws, table):
    big = {"type": "object", "properties": {"text": {"type": "string", "description": "x" * 60_000}}}
    for number in range(1, 21):  # about 1.2 MB: more than one page of a Query
        table.put_version(RegisteredSchema("acme", "type", "order_completed", number, big, T0))
    table.put_version(version(1, "a", name="zeta"))

    schemas = table.tenant_schemas("acme")

    assert {name: schema.version for name, schema in schemas.types.items()} == {"order_completed": 20, "zeta": 1}


def test_given_a_second_version_when_its_type_name_is_claimed_then_the_first_claim_time_stays(aws, table):
    table.put_version(version(1, "a"))
    table.put_version(version(2, "a", "b"))

    item = aws.dynamodb.get_item(
        TableName=os.environ["SCHEMAS_TABLE_NAME"], Key={"pk": {"S": "#types"}, "sk": {"S": "order_completed"}}
    )["Item"]
    assert (item["owner"]["S"], item["claimed_at"]["N"]) == ("acme", str(T0 + 1))


@pytest.mark.parametrize(
    "schema",
    [
        version(1, "a", tenant="#types"),
        version(1, "a", name="Order-Completed"),
        version(1, "a", kind="track", name="a\nb"),
        version(1, "a", kind="track", name=""),
        version(0, "a"),
        version(1_000_000, "a"),
    ],
)
def test_given_a_key_that_cannot_be_stored_when_put_then_value_error_and_nothing_stored(aws, table, schema):
    with pytest.raises(ValueError):
        table.put_version(schema)
    assert stored_keys(aws) == set()


def test_given_names_no_key_can_have_when_read_then_nothing_without_a_call(aws, table):
    calls = fail_calls(aws.dynamodb, "Query", "InternalServerError")
    fail_calls(aws.dynamodb, "GetItem", "InternalServerError")

    assert table.tenant_schemas("#types") == TenantSchemas()
    assert table.versions("acme", "track", "x" * 129) == []
    assert table.owner_of("Not A Type") is None
    assert calls == [0]


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("Query", lambda table: table.tenant_schemas("acme")),
        ("Query", lambda table: table.versions("acme", "type", "order_completed")),
        ("GetItem", lambda table: table.owner_of("order_completed")),
        ("TransactWriteItems", lambda table: table.put_version(version(1, "a"))),
        ("PutItem", lambda table: table.put_version(version(1, "a", kind="track", name="Signed Up"))),
        ("PutItem", lambda table: table.set_unplanned("acme", "reject")),
    ],
)
def test_given_dynamodb_failing_when_called_then_storage_error_naming_the_code(aws, table, operation, call):
    fail_calls(aws.dynamodb, operation, "ProvisionedThroughputExceededException")

    with pytest.raises(StorageError, match="ProvisionedThroughputExceededException"):
        call(table)
