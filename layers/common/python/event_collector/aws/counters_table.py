"""DynamoDB adapter for the counters table: the fan-out's atomic ADDs, key admission, and the API's reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from event_collector.aws.errors import aws_errors, error_code
from event_collector.counts.layout import (
    DAY_PREFIX,
    DAY_TOTAL,
    HOUR_PREFIX,
    CounterIncrement,
    HourGroup,
    counter_pk,
    day_sort_key,
    hour_attribute,
    registry_pk,
)
from event_collector.errors import StorageError

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

# UpdateItem calls run side by side; boto3 clients are thread-safe.
MAX_PARALLEL_UPDATES = 8
BATCH_GET = 100  # BatchGetItem takes at most 100 keys
ADMIT_ATTEMPTS = 5
APPLIED_PREFIX = "applied#"


class CountersTable:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table_name = table_name
        # Created on first use and kept for the container's life: no thread start-up per object.
        self._pool: ThreadPoolExecutor | None = None

    # -- writes (the fan-out) -------------------------------------------------------------
    def first_application(self, source_id: str, expires_at: int) -> bool:
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item={
                    "pk": {"S": APPLIED_PREFIX + source_id},
                    "sk": {"S": "object"},
                    "expires_at": {"N": str(expires_at)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except aws_errors() as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise StorageError(f"marking counts applied failed: {error_code(error)}") from error
        return True

    def known_keys(self, group: HourGroup, encoded: Sequence[str]) -> set[str]:
        """The keys whose day item already counts this hour (its ``hHH`` attribute exists)."""
        sort_key, attribute = day_sort_key(group.label), hour_attribute(group.label)
        prefix = counter_pk(group.tenant, group.event_type, "")
        found: set[str] = set()
        for start in range(0, len(encoded), BATCH_GET):
            keys = [{"pk": {"S": prefix + key}, "sk": {"S": sort_key}} for key in encoded[start : start + BATCH_GET]]
            request: dict[str, Any] = {
                self._table_name: {
                    "Keys": keys,
                    "ProjectionExpression": "pk, #hour",
                    "ExpressionAttributeNames": {"#hour": attribute},
                }
            }
            for _ in range(ADMIT_ATTEMPTS):
                try:
                    response = self._client.batch_get_item(RequestItems=request)
                except aws_errors() as error:
                    raise StorageError(f"reading counters failed: {error_code(error)}") from error
                found |= {
                    item["pk"]["S"].removeprefix(prefix)
                    for item in response["Responses"].get(self._table_name, [])
                    if attribute in item
                }
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise StorageError("reading counters failed: keys left unprocessed")
        return found

    def admit(self, group: HourGroup, wanted: int, limit: int, expires_at: int) -> int:
        key = {"pk": {"S": registry_pk(group.tenant, group.event_type)}, "sk": {"S": HOUR_PREFIX + group.label}}
        ask = min(wanted, limit)
        for _ in range(ADMIT_ATTEMPTS):
            if ask <= 0:
                return 0
            try:
                self._client.update_item(
                    TableName=self._table_name,
                    Key=key,
                    UpdateExpression="ADD admitted :n SET expires_at = :exp",
                    ConditionExpression="attribute_not_exists(admitted) OR admitted <= :room",
                    ExpressionAttributeValues={
                        ":n": {"N": str(ask)},
                        ":room": {"N": str(limit - ask)},
                        ":exp": {"N": str(expires_at)},
                    },
                )
                return ask
            except aws_errors() as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise StorageError(f"admitting counter keys failed: {error_code(error)}") from error
            ask = min(wanted, limit - self._admitted(key))
        return 0

    def _admitted(self, key: dict[str, Any]) -> int:
        try:
            item = self._client.get_item(TableName=self._table_name, Key=key, ConsistentRead=True).get("Item")
        except aws_errors() as error:
            raise StorageError(f"reading admitted keys failed: {error_code(error)}") from error
        return int(item["admitted"]["N"]) if item and "admitted" in item else 0

    def add(self, increments: Sequence[CounterIncrement]) -> None:
        """One ``UpdateItem ADD`` per increment; raises StorageError if any failed."""
        if len(increments) <= 2:
            failures = [self._add_one(increment) for increment in increments]
        else:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor  # the fan-out's writes only, not the API's reads

                self._pool = ThreadPoolExecutor(max_workers=MAX_PARALLEL_UPDATES, thread_name_prefix="counters")
            failures = list(self._pool.map(self._add_one, increments))
        problems = [failure for failure in failures if failure]
        if problems:
            raise StorageError(f"{len(problems)} of {len(increments)} counter updates failed: {problems[0]}")

    def _add_one(self, increment: CounterIncrement) -> str | None:
        """One ``UpdateItem``: every hour of the increment and the day's total, atomically."""
        names = {"#total": DAY_TOTAL, "#expires": "expires_at"}
        values = {":total": {"N": str(increment.amount)}, ":expires": {"N": str(increment.expires_at)}}
        additions = ["#total :total"]
        for index, (attribute, amount) in enumerate(sorted(increment.hours.items())):
            names[f"#h{index}"] = attribute
            values[f":h{index}"] = {"N": str(amount)}
            additions.append(f"#h{index} :h{index}")
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key={"pk": {"S": increment.pk}, "sk": {"S": increment.sk}},
                UpdateExpression=f"ADD {', '.join(additions)} SET #expires = :expires",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except aws_errors() as error:
            return error_code(error)
        return None

    # -- reads (the API) --------------------------------------------------------------------
    def total(self, pk: str) -> int:
        """The key's events over the days still kept: the sum of its day items' totals."""
        query = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :day)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":day": {"S": DAY_PREFIX}},
            "ProjectionExpression": "#total",
            "ExpressionAttributeNames": {"#total": DAY_TOTAL},
        }
        return sum(int(item[DAY_TOTAL]["N"]) for item in self._query(query) if DAY_TOTAL in item)

    def hourly(self, pk: str, first_hour: str, last_hour: str) -> dict[str, int]:
        """Counts per hour label (``YYYY-MM-DDTHH``) between the two labels, inclusive."""
        query = {
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": pk},
                ":first": {"S": day_sort_key(first_hour)},
                ":last": {"S": day_sort_key(last_hour)},
            },
        }
        counts: dict[str, int] = {}
        for item in self._query(query):
            day = item["sk"]["S"].removeprefix(DAY_PREFIX)
            for name, value in item.items():
                if len(name) == 3 and name.startswith("h") and name[1:].isdigit():
                    label = f"{day}T{name[1:]}"
                    if first_hour <= label <= last_hour:
                        counts[label] = int(value["N"])
        return counts

    def _query(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        request: dict[str, Any] = {"TableName": self._table_name, **query}
        items: list[dict[str, Any]] = []
        try:
            while True:
                page = self._client.query(**request)
                items += page.get("Items", [])
                if "LastEvaluatedKey" not in page:
                    return items
                request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}
        except aws_errors() as error:
            raise StorageError(f"reading counters failed: {error_code(error)}") from error
