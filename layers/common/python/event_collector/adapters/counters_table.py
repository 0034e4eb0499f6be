"""DynamoDB adapter for the counters table: atomic ADDs and reads."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..counters import HOUR_PREFIX, TOTAL_SORT_KEY, CounterIncrement
from ..errors import StorageError
from .aws_errors import AWS_ERRORS, error_code

# UpdateItem calls of one request run side by side; boto3 clients are thread-safe.
MAX_PARALLEL_UPDATES = 8


class CountersTable:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table_name = table_name
        # Created on first use and kept for the container's life: no thread start-up per request.
        self._pool: ThreadPoolExecutor | None = None

    def add(self, increments: Sequence[CounterIncrement]) -> None:
        """One ``UpdateItem ADD`` per increment; raises StorageError if any failed."""
        if len(increments) <= 2:
            failures = [self._add_one(increment) for increment in increments]
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=MAX_PARALLEL_UPDATES, thread_name_prefix="counters")
            failures = list(self._pool.map(self._add_one, increments))
        problems = [failure for failure in failures if failure]
        if problems:
            raise StorageError(f"{len(problems)} of {len(increments)} counter updates failed: {problems[0]}")

    def _add_one(self, increment: CounterIncrement) -> str | None:
        update = "ADD #count :amount"
        names = {"#count": "count"}
        values: dict[str, Any] = {":amount": {"N": str(increment.amount)}}
        if increment.expires_at is not None:
            update += " SET #expires = :expires"
            names["#expires"] = "expires_at"
            values[":expires"] = {"N": str(increment.expires_at)}
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key={"pk": {"S": increment.pk}, "sk": {"S": increment.sk}},
                UpdateExpression=update,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except AWS_ERRORS as error:
            return error_code(error)
        return None

    def total(self, pk: str) -> int:
        try:
            item = self._client.get_item(
                TableName=self._table_name,
                Key={"pk": {"S": pk}, "sk": {"S": TOTAL_SORT_KEY}},
                ProjectionExpression="#count",
                ExpressionAttributeNames={"#count": "count"},
            ).get("Item")
        except AWS_ERRORS as error:
            raise StorageError(f"reading a counter failed: {error_code(error)}") from error
        return int(item["count"]["N"]) if item else 0

    def hourly(self, pk: str, first_hour: str, last_hour: str) -> dict[str, int]:
        """Counts per hour label (``YYYY-MM-DDTHH``) between the two labels, inclusive."""
        counts: dict[str, int] = {}
        query: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": pk},
                ":first": {"S": HOUR_PREFIX + first_hour},
                ":last": {"S": HOUR_PREFIX + last_hour},
            },
        }
        try:
            while True:
                page = self._client.query(**query)
                for item in page.get("Items", []):
                    counts[item["sk"]["S"].removeprefix(HOUR_PREFIX)] = int(item["count"]["N"])
                if "LastEvaluatedKey" not in page:
                    return counts
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except AWS_ERRORS as error:
            raise StorageError(f"reading hourly counters failed: {error_code(error)}") from error
