"""DynamoDB adapter for compaction state: one item per day partition (its last fingerprint)."""

from __future__ import annotations

from typing import Any

from ..errors import StorageError
from .aws_errors import AWS_ERRORS, error_code


class CompactionStateTable:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def fingerprints(self) -> dict[str, str]:
        found: dict[str, str] = {}
        arguments: dict[str, Any] = {"TableName": self._table_name, "ProjectionExpression": "pk, fingerprint"}
        try:
            while True:
                page = self._client.scan(**arguments)
                for item in page.get("Items", []):
                    found[item["pk"]["S"]] = item["fingerprint"]["S"]
                if "LastEvaluatedKey" not in page:
                    return found
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except AWS_ERRORS as error:
            raise StorageError(f"reading compaction state failed: {error_code(error)}") from error

    def record(self, partition_id: str, fingerprint: str, rows: int, compacted_at: str) -> None:
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item={
                    "pk": {"S": partition_id},
                    "fingerprint": {"S": fingerprint},
                    "rows": {"N": str(rows)},
                    "compacted_at": {"S": compacted_at},
                },
            )
        except AWS_ERRORS as error:
            raise StorageError(f"writing compaction state failed: {error_code(error)}") from error
