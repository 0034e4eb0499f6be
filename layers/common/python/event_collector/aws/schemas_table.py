"""DynamoDB adapter for the schemas table (schemas/registry.py: ``SchemaRegistry``).

Items, one partition per tenant (``pk = <tenant>``), and one for the stack's event type names:

- ``sk = type#<event type>#<version, 6 digits>`` and ``sk = track#<event name>#<version, 6 digits>``: one
  version of a schema: ``document`` (the JSON Schema as compact JSON text, its keys in the order given, since
  a type's columns follow the order of its ``properties``), ``registered_at`` (epoch ms). Versions are never
  changed nor deleted: a stored event names the version it was validated against;
- ``sk = policy``: ``unplanned`` (``accept`` or ``reject``), what happens to a ``track`` name without a plan;
- ``pk = #types``, ``sk = <event type>``: ``owner`` (the tenant that registered it first), ``claimed_at``.
  ``#types`` is no tenant id (identifiers.TENANT_ID_PATTERN), so no tenant's partition is ever it.

Zero-padded versions sort as numbers, so a Query of a tenant's partition (``tenant_schemas``, what the
collector caches) meets each schema's versions in order and keeps the last. A track name is free text and may
hold ``#``: an item's name is what lies between the kind and the last ``#``.

Writes never overwrite: a version is put only if absent, in one transaction with the claim of its type name
(set only if unclaimed, else only if the tenant's), so two tenants racing for one name end with one owner,
and two registrations racing for one version with one document (:class:`VersionTaken` for the other).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, cast

from event_collector.aws.errors import aws_errors, error_code
from event_collector.errors import StorageError
from event_collector.identifiers import is_event_type, is_tenant_id
from event_collector.json_values import compact_json
from event_collector.schemas.names import track_name_problem
from event_collector.schemas.registry import (
    DEFAULT_UNPLANNED,
    UNPLANNED_POLICIES,
    RegisteredSchema,
    SchemaKind,
    TenantSchemas,
    TypeTaken,
    UnplannedPolicy,
    VersionTaken,
)

TYPES_PARTITION = "#types"
POLICY_SORT_KEY = "policy"
KINDS: tuple[SchemaKind, ...] = ("type", "track")
MAX_VERSION = 999_999  # six digits in the sort key
LOST_RACE = frozenset({"ConditionalCheckFailedException", "TransactionCanceledException"})
TYPE_TAKEN = "this event type is registered by another tenant: choose another name"


class SchemasTable:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def tenant_schemas(self, tenant: str) -> TenantSchemas:
        types: dict[str, RegisteredSchema] = {}
        tracks: dict[str, RegisteredSchema] = {}
        unplanned: UnplannedPolicy = DEFAULT_UNPLANNED
        for item in self._query(tenant, "", "reading a tenant's schemas"):
            if item["sk"]["S"] == POLICY_SORT_KEY:
                unplanned = _policy(item)
                continue
            schema = _schema(item)
            (types if schema.kind == "type" else tracks)[schema.name] = schema  # versions come in order
        return TenantSchemas(types=types, tracks=tracks, unplanned=unplanned)

    def versions(self, tenant: str, kind: SchemaKind, name: str) -> list[RegisteredSchema]:
        if not _is_name(kind, name):
            return []
        found = (_schema(item) for item in self._query(tenant, f"{kind}#{name}#", "reading a schema's versions"))
        return [schema for schema in found if schema.name == name]  # not a longer track name's, "A#B" after "A"

    def owner_of(self, event_type: str) -> str | None:
        if not is_event_type(event_type):
            return None
        try:
            item = self._client.get_item(
                TableName=self._table_name, Key=_key(TYPES_PARTITION, event_type), ConsistentRead=True
            ).get("Item")
        except aws_errors() as error:
            raise StorageError(f"reading an event type's owner failed: {error_code(error)}") from error
        return str(item["owner"]["S"]) if item else None

    def type_schema(self, event_type: str) -> RegisteredSchema | None:
        owner = self.owner_of(event_type)
        if owner is None:
            return None
        query = {
            **_partition_query(self._table_name, owner, f"type#{event_type}#"),
            "ScanIndexForward": False,
            "Limit": 1,
        }
        try:
            items = self._client.query(**query).get("Items", [])
        except aws_errors() as error:
            raise StorageError(f"reading an event type's schema failed: {error_code(error)}") from error
        return _schema(items[0]) if items else None

    def put_version(self, schema: RegisteredSchema) -> None:
        _check(schema)
        put = {
            "TableName": self._table_name,
            "Item": _version_item(schema),
            "ConditionExpression": "attribute_not_exists(sk)",
        }
        try:
            if schema.kind == "track":
                self._client.put_item(**put)
            else:
                self._client.transact_write_items(TransactItems=[{"Put": put}, {"Update": self._claim(schema)}])
        except aws_errors() as error:
            if error_code(error) not in LOST_RACE:
                raise StorageError(f"storing a schema failed: {error_code(error)}") from error
            if schema.kind == "type" and self.owner_of(schema.name) != schema.tenant:
                raise TypeTaken(TYPE_TAKEN) from None
            raise VersionTaken(f"version {schema.version} of {schema.name!r} is stored already") from None

    def set_unplanned(self, tenant: str, policy: UnplannedPolicy) -> None:
        if not is_tenant_id(tenant) or policy not in UNPLANNED_POLICIES:
            raise ValueError(f"not a tenant id and policy: {tenant!r}, {policy!r}")
        try:
            self._client.put_item(
                TableName=self._table_name, Item={**_key(tenant, POLICY_SORT_KEY), "unplanned": {"S": policy}}
            )
        except aws_errors() as error:
            raise StorageError(f"storing the unplanned-name policy failed: {error_code(error)}") from error

    def _claim(self, schema: RegisteredSchema) -> dict[str, Any]:
        """The type name for the tenant: claimed if unclaimed, left as it is if the tenant's, else refused."""
        return {
            "TableName": self._table_name,
            "Key": _key(TYPES_PARTITION, schema.name),
            "UpdateExpression": "SET #owner = :tenant, claimed_at = if_not_exists(claimed_at, :at)",
            "ConditionExpression": "attribute_not_exists(pk) OR #owner = :tenant",
            "ExpressionAttributeNames": {"#owner": "owner"},
            "ExpressionAttributeValues": {":tenant": {"S": schema.tenant}, ":at": {"N": str(schema.registered_at)}},
        }

    def _query(self, tenant: str, prefix: str, doing: str) -> Iterator[dict[str, Any]]:
        if not is_tenant_id(tenant):
            return
        query = _partition_query(self._table_name, tenant, prefix)
        try:
            while True:
                page = self._client.query(**query)
                yield from page.get("Items", [])
                if "LastEvaluatedKey" not in page:
                    return
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except aws_errors() as error:
            raise StorageError(f"{doing} failed: {error_code(error)}") from error


def _key(partition: str, sort_key: str) -> dict[str, Any]:
    return {"pk": {"S": partition}, "sk": {"S": sort_key}}


def _partition_query(table_name: str, partition: str, prefix: str) -> dict[str, Any]:
    if not prefix:
        return {
            "TableName": table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ConsistentRead": True,
        }
    return {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": prefix}},
        "ConsistentRead": True,
    }


def _is_name(kind: str, name: str) -> bool:
    if kind == "type":
        return is_event_type(name)
    return kind == "track" and track_name_problem(name) is None


def _check(schema: RegisteredSchema) -> None:
    """A schema whose key would be ambiguous or out of range is a caller's bug, never stored."""
    if not is_tenant_id(schema.tenant) or not _is_name(schema.kind, schema.name):
        raise ValueError(f"not a tenant and {schema.kind} name: {schema.tenant!r}, {schema.name!r}")
    if not 1 <= schema.version <= MAX_VERSION:
        raise ValueError(f"a version is 1 to {MAX_VERSION}, not {schema.version}")


def _version_key(kind: str, name: str, version: int) -> str:
    return f"{kind}#{name}#{version:06d}"


def _version_item(schema: RegisteredSchema) -> dict[str, Any]:
    return {
        **_key(schema.tenant, _version_key(schema.kind, schema.name, schema.version)),
        "document": {"S": compact_json(schema.document)},
        "registered_at": {"N": str(schema.registered_at)},
    }


def _schema(item: Mapping[str, Any]) -> RegisteredSchema:
    kind, _, rest = item["sk"]["S"].partition("#")
    name, _, version = rest.rpartition("#")
    if kind not in KINDS or not version.isdigit():
        raise StorageError("a stored schema has an unknown key")
    return RegisteredSchema(
        tenant=item["pk"]["S"],
        kind=cast(SchemaKind, kind),
        name=name,
        version=int(version),
        document=json.loads(item["document"]["S"]),
        registered_at=int(item["registered_at"]["N"]),
    )


def _policy(item: Mapping[str, Any]) -> UnplannedPolicy:
    policy = item.get("unplanned", {}).get("S")
    if policy not in UNPLANNED_POLICIES:
        raise StorageError("a stored unplanned-name policy is unknown")
    return cast(UnplannedPolicy, policy)
