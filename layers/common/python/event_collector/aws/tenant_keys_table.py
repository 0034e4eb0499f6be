"""DynamoDB adapter for the tenant-keys table.

Items: ``pk = <tenant>``; ``sk = TENANT`` for the tenant itself and
``sk = KEY#<key id>`` for each key (hash, status, scope, origins, rate limit, created/expires
epoch seconds). The ``key_id`` index finds a key from its id alone: a write key
names no tenant (docs/authentication.md).
"""

from __future__ import annotations

from typing import Any

from event_collector.auth.keys import KeyRecord, KeyStatus
from event_collector.aws.errors import aws_errors, error_code
from event_collector.errors import StorageError, TenantExistsError

TENANT_SORT_KEY = "TENANT"
KEY_PREFIX = "KEY#"
KEY_ID_INDEX = "key_id"


class TenantKeysTable:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def get_key(self, tenant: str, key_id: str) -> KeyRecord | None:
        try:
            item = self._client.get_item(
                TableName=self._table_name,
                Key={"pk": {"S": tenant}, "sk": {"S": KEY_PREFIX + key_id}},
                ConsistentRead=True,
            ).get("Item")
        except aws_errors() as error:
            raise StorageError(f"reading a key failed: {error_code(error)}") from error
        return _key_record(item) if item else None

    def find_key(self, key_id: str) -> KeyRecord | None:
        """The key with this id, whichever tenant holds it (the index is eventually consistent: a key
        issued a second ago may not be found yet)."""
        try:
            items = self._client.query(
                TableName=self._table_name,
                IndexName=KEY_ID_INDEX,
                KeyConditionExpression="key_id = :id",
                ExpressionAttributeValues={":id": {"S": key_id}},
            ).get("Items", [])
        except aws_errors() as error:
            raise StorageError(f"reading a key failed: {error_code(error)}") from error
        # Two tenants holding one 64-bit random id never happens by chance; if it did, trust neither.
        return _key_record(items[0]) if len(items) == 1 else None

    def tenant_exists(self, tenant: str) -> bool:
        try:
            item = self._client.get_item(
                TableName=self._table_name, Key={"pk": {"S": tenant}, "sk": {"S": TENANT_SORT_KEY}}
            ).get("Item")
        except aws_errors() as error:
            raise StorageError(f"reading a tenant failed: {error_code(error)}") from error
        return item is not None

    def create_tenant(self, tenant: str, created_at: int) -> None:
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item={"pk": {"S": tenant}, "sk": {"S": TENANT_SORT_KEY}, "created_at": {"N": str(created_at)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except aws_errors() as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise TenantExistsError(f"tenant {tenant!r} already exists") from error
            raise StorageError(f"creating a tenant failed: {error_code(error)}") from error

    def put_key(self, record: KeyRecord) -> None:
        item: dict[str, Any] = {
            "pk": {"S": record.tenant},
            "sk": {"S": KEY_PREFIX + record.key_id},
            "key_id": {"S": record.key_id},
            "secret_hash": {"S": record.secret_hash},
            "status": {"S": record.status},
            "created_at": {"N": str(record.created_at)},
        }
        if record.expires_at is not None:
            item["expires_at"] = {"N": str(record.expires_at)}
        item["scope"] = {"S": record.scope}
        if record.origins:
            item["origins"] = {"L": [{"S": origin} for origin in record.origins]}
        if record.rate_per_minute is not None:
            item["rate_per_minute"] = {"N": str(record.rate_per_minute)}
        try:
            self._client.put_item(TableName=self._table_name, Item=item, ConditionExpression="attribute_not_exists(sk)")
        except aws_errors() as error:
            raise StorageError(f"storing a key failed: {error_code(error)}") from error

    def list_keys(self, tenant: str) -> list[KeyRecord]:
        query: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "pk = :tenant AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":tenant": {"S": tenant}, ":prefix": {"S": KEY_PREFIX}},
            "ConsistentRead": True,
        }
        records: list[KeyRecord] = []
        try:
            while True:
                page = self._client.query(**query)
                records += [_key_record(item) for item in page.get("Items", [])]
                if "LastEvaluatedKey" not in page:
                    return records
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except aws_errors() as error:
            raise StorageError(f"listing keys failed: {error_code(error)}") from error

    def update_key(self, tenant: str, key_id: str, *, status: KeyStatus, expires_at: int | None) -> None:
        update = "SET #status = :status"
        values: dict[str, Any] = {":status": {"S": status}}
        if expires_at is not None:
            update += ", expires_at = :expires"
            values[":expires"] = {"N": str(expires_at)}
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key={"pk": {"S": tenant}, "sk": {"S": KEY_PREFIX + key_id}},
                UpdateExpression=update,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
                ConditionExpression="attribute_exists(sk)",
            )
        except aws_errors() as error:
            raise StorageError(f"updating a key failed: {error_code(error)}") from error


def _key_record(item: dict[str, Any]) -> KeyRecord:
    expires = item.get("expires_at")
    status = item["status"]["S"]
    scope = item.get("scope", {}).get("S", "secret")  # keys issued before scopes existed are secret
    return KeyRecord(
        tenant=item["pk"]["S"],
        key_id=item["sk"]["S"].removeprefix(KEY_PREFIX),
        secret_hash=item["secret_hash"]["S"],
        status="active" if status == "active" else "revoked",
        created_at=int(item["created_at"]["N"]),
        expires_at=int(expires["N"]) if expires else None,
        scope="publishable" if scope == "publishable" else "secret",
        origins=tuple(value["S"] for value in item.get("origins", {}).get("L", [])),
        rate_per_minute=int(item["rate_per_minute"]["N"]) if "rate_per_minute" in item else None,
    )
