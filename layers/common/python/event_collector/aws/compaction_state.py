"""DynamoDB adapter for compaction's bookkeeping (one table, ``pk``/``sk``):

- ``pending#<tenant>`` / ``<lake key>``: a lake object the fan-out wrote and compaction has not
  consumed yet (size, ETag, end of its hour). Deleted once compacted, so the table holds only
  pending work and Plan never lists the lake;
- ``tenant#<tenant>`` / ``lease``: one Compact at a time per tenant (owner, until);
- ``tenant#<tenant>`` / ``inflight``: the unit a Compact is writing, so a crashed attempt's
  uncommitted files are removed by the next one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from event_collector.aws.errors import aws_errors, error_code
from event_collector.errors import StorageError
from event_collector.lake.queue import Inflight, PendingObject

PENDING = "pending#"
TENANT = "tenant#"
BATCH_WRITE = 25  # BatchWriteItem takes at most 25 requests


class CompactionStateTable:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # -- the queue ------------------------------------------------------------------------------
    def enqueue(self, tenant: str, objects: Sequence[PendingObject]) -> None:
        self._batch_write(
            [
                {
                    "PutRequest": {
                        "Item": {
                            "pk": {"S": PENDING + tenant},
                            "sk": {"S": item.key},
                            "etag": {"S": item.etag},
                            "size": {"N": str(item.size)},
                            "hour_end": {"N": str(item.hour_end)},
                        }
                    }
                }
                for item in objects
            ]
        )

    def done(self, tenant: str, keys: Sequence[str]) -> None:
        self._batch_write(
            [{"DeleteRequest": {"Key": {"pk": {"S": PENDING + tenant}, "sk": {"S": key}}}} for key in keys]
        )

    def pending(self, tenant: str) -> list[PendingObject]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": PENDING + tenant}},
            "ConsistentRead": True,
        }
        return [_pending(item) for item in self._pages("query", query)]

    def all_pending(self) -> Iterator[tuple[str, PendingObject]]:
        """(tenant, object) of every pending object: a scan of pending work only, never of the lake."""
        scan = {
            "TableName": self._table,
            "FilterExpression": "begins_with(pk, :pending)",
            "ExpressionAttributeValues": {":pending": {"S": PENDING}},
        }
        for item in self._pages("scan", scan):
            yield item["pk"]["S"].removeprefix(PENDING), _pending(item)

    # -- one Compact per tenant ---------------------------------------------------------------
    def acquire_lease(self, tenant: str, owner: str, now: int, until: int) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": TENANT + tenant},
                    "sk": {"S": "lease"},
                    "owner": {"S": owner},
                    "until": {"N": str(until)},
                },
                ConditionExpression="attribute_not_exists(pk) OR #until < :now OR #owner = :owner",
                ExpressionAttributeNames={"#until": "until", "#owner": "owner"},
                ExpressionAttributeValues={":now": {"N": str(now)}, ":owner": {"S": owner}},
            )
        except aws_errors() as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise StorageError(f"taking the compaction lease failed: {error_code(error)}") from error
        return True

    def release_lease(self, tenant: str, owner: str) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key={"pk": {"S": TENANT + tenant}, "sk": {"S": "lease"}},
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except aws_errors() as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise StorageError(f"releasing the compaction lease failed: {error_code(error)}") from error

    def inflight(self, tenant: str) -> Inflight | None:
        try:
            item = self._client.get_item(
                TableName=self._table, Key={"pk": {"S": TENANT + tenant}, "sk": {"S": "inflight"}}, ConsistentRead=True
            ).get("Item")
        except aws_errors() as error:
            raise StorageError(f"reading compaction state failed: {error_code(error)}") from error
        if not item:
            return None
        return Inflight(unit=item["unit"]["S"], prefixes=[value["S"] for value in item["prefixes"]["L"]])

    def set_inflight(self, tenant: str, inflight: Inflight) -> None:
        item = {
            "pk": {"S": TENANT + tenant},
            "sk": {"S": "inflight"},
            "unit": {"S": inflight.unit},
            "prefixes": {"L": [{"S": prefix} for prefix in inflight.prefixes]},
        }
        self._put(item)

    def clear_inflight(self, tenant: str) -> None:
        try:
            self._client.delete_item(TableName=self._table, Key={"pk": {"S": TENANT + tenant}, "sk": {"S": "inflight"}})
        except aws_errors() as error:
            raise StorageError(f"writing compaction state failed: {error_code(error)}") from error

    # -- plumbing ---------------------------------------------------------------------------------
    def _put(self, item: dict[str, Any]) -> None:
        try:
            self._client.put_item(TableName=self._table, Item=item)
        except aws_errors() as error:
            raise StorageError(f"writing compaction state failed: {error_code(error)}") from error

    def _pages(self, operation: str, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        try:
            while True:
                page = getattr(self._client, operation)(**request)
                yield from page.get("Items", [])
                if "LastEvaluatedKey" not in page:
                    return
                request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}
        except aws_errors() as error:
            raise StorageError(f"reading compaction state failed: {error_code(error)}") from error

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), BATCH_WRITE):
            pending: dict[str, Any] = {self._table: requests[start : start + BATCH_WRITE]}
            for attempt in range(8):
                if attempt:
                    time.sleep(0.05 * 2**attempt)  # unprocessed items: DynamoDB asks for a back-off
                try:
                    pending = self._client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                except aws_errors() as error:
                    raise StorageError(f"writing compaction state failed: {error_code(error)}") from error
                if not pending:
                    break
            else:
                raise StorageError("writing compaction state failed: items left unprocessed")


def _pending(item: dict[str, Any]) -> PendingObject:
    return PendingObject(
        key=item["sk"]["S"], etag=item["etag"]["S"], size=int(item["size"]["N"]), hour_end=int(item["hour_end"]["N"])
    )
