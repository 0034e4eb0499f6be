"""DynamoDB adapter for the counters table: atomic ADDs (the collector's, or the fan-out's in the delivered
counting mode), key admission on the types' totals, and the API's reads."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from event_collector.aws.errors import aws_errors, error_code
from event_collector.counts.layout import (
    DAY_INDEX,
    DAY_PREFIX,
    OVERFLOW,
    CounterIncrement,
    HourGroup,
    counter_pk,
    day_index,
    day_sort_key,
    hour_attribute,
    is_hour_attribute,
)
from event_collector.counts.rollups import DayRollup, from_item, rollup_pk, rollup_sk, to_item
from event_collector.errors import StorageError

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

# UpdateItem calls run side by side; boto3 clients are thread-safe.
MAX_PARALLEL_UPDATES = 8
BATCH_GET = 100  # BatchGetItem takes at most 100 keys
BATCH_WRITE = 25  # BatchWriteItem takes at most 25 requests
UNPROCESSED_ATTEMPTS = 5
DAY_INDEX_NAME = "by_day"  # template.yaml: the counters table's index of a day's keys
UNPROCESSED_DELAY_SECONDS = 0.025
APPLIED_PREFIX = "applied#"
T = TypeVar("T")


class CountersTable:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table_name = table_name
        # Created on first use and kept for the container's life: no thread start-up per object.
        self._pool: ThreadPoolExecutor | None = None

    # -- writes -------------------------------------------------------------
    def counted(self, source_id: str) -> bool:
        key = {"pk": {"S": APPLIED_PREFIX + source_id}, "sk": {"S": "object"}}
        try:
            found = self._client.get_item(TableName=self._table_name, Key=key, ConsistentRead=True).get("Item")
        except aws_errors() as error:
            raise StorageError(f"reading an object's counting marker failed: {error_code(error)}") from error
        return found is not None

    def mark_counted(self, source_id: str, expires_at: int) -> None:
        item = {"pk": {"S": APPLIED_PREFIX + source_id}, "sk": {"S": "object"}, "expires_at": {"N": str(expires_at)}}
        try:
            self._client.put_item(TableName=self._table_name, Item=item)
        except aws_errors() as error:
            raise StorageError(f"marking an object counted failed: {error_code(error)}") from error

    def known_keys(self, group: HourGroup, encoded: Sequence[str], deadline: float | None = None) -> set[str]:
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
            for attempt in range(UNPROCESSED_ATTEMPTS):
                if attempt:  # DynamoDB left keys unprocessed (throttled): back off before asking again
                    time.sleep(random.uniform(0, UNPROCESSED_DELAY_SECONDS * 2**attempt))  # noqa: S311 - jitter
                if not _before(deadline):
                    raise StorageError("reading counters failed: deadline")
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

    def admit(self, totals: Sequence[CounterIncrement], deadline: float | None = None) -> list[dict[str, int]]:
        """Each type's total with its hours' new keys, one ``UpdateItem`` each (side by side if several);
        returns the admission counts after each write (``UPDATED_NEW``)."""
        answers = self._run(self._admit_one, totals, deadline)
        failed = [answer for answer in answers if isinstance(answer, str)]
        if failed:
            raise StorageError(f"admitting counter keys failed: {failed[0]}")
        return [answer for answer in answers if not isinstance(answer, str)]

    def add(self, increments: Sequence[CounterIncrement], deadline: float | None = None) -> None:
        """One ``UpdateItem ADD`` per increment, side by side; raises StorageError if any failed or
        ``deadline`` (``time.monotonic()``) passed before every write answered."""
        failures = [failure for failure in self._run(self._add_one, increments, deadline) if failure]
        if failures:
            raise StorageError(f"{len(failures)} of {len(increments)} counter updates failed: {failures[0]}")

    def _run(
        self, write: Callable[[CounterIncrement], T], increments: Sequence[CounterIncrement], deadline: float | None
    ) -> list[T | str]:
        """``write`` for every increment: in this thread for one or two, else on the container's pool.
        A write not answered by ``deadline`` is reported as ``"deadline"`` (one already running still ends
        on its client's own timeouts, after the request was answered; a queued one never starts)."""

        def in_time(increment: CounterIncrement) -> T | str:
            return write(increment) if _before(deadline) else "deadline"

        if len(increments) <= 2:
            return [in_time(increment) for increment in increments]
        from concurrent.futures import wait

        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=MAX_PARALLEL_UPDATES, thread_name_prefix="counters")
        futures = [self._pool.submit(in_time, increment) for increment in increments]
        done, _ = wait(futures, timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
        answers: list[T | str] = []
        for future in futures:
            if future in done:
                answers.append(future.result())
            else:
                future.cancel()
                answers.append("deadline")
        return answers

    def _admit_one(self, total: CounterIncrement) -> dict[str, int] | str:
        try:
            response = self._client.update_item(ReturnValues="UPDATED_NEW", **self._update(total))
        except aws_errors() as error:
            return error_code(error)
        attributes = response.get("Attributes", {})
        return {name: int(attributes[name]["N"]) for name in total.admitting if name in attributes}

    def _add_one(self, increment: CounterIncrement) -> str | None:
        try:
            self._client.update_item(**self._update(increment))
        except aws_errors() as error:
            return error_code(error)
        return None

    def _update(self, increment: CounterIncrement) -> dict[str, Any]:
        """One ``UpdateItem``: every hour of the increment (and its admissions), atomically."""
        names, values, assignments = _common_sets(increment)
        additions = []
        for index, (attribute, amount) in enumerate(sorted({**increment.hours, **increment.admitting}.items())):
            names[f"#h{index}"] = attribute
            values[f":h{index}"] = {"N": str(amount)}
            additions.append(f"#h{index} :h{index}")
        return {
            "TableName": self._table_name,
            "Key": {"pk": {"S": increment.pk}, "sk": {"S": increment.sk}},
            "UpdateExpression": f"ADD {', '.join(additions)} SET {', '.join(assignments)}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def set_hours(self, settings: Sequence[CounterIncrement]) -> None:
        """Recounts (counts/recount.py): each item's hours SET to the given values, one ``UpdateItem`` per item,
        side by side; raises StorageError if any failed."""
        failures = [failure for failure in self._run(self._set_one, settings, None) if failure]
        if failures:
            raise StorageError(f"{len(failures)} of {len(settings)} recounts failed: {failures[0]}")

    def _set_one(self, setting: CounterIncrement) -> str | None:
        names, values, assignments = _common_sets(setting)
        for index, (attribute, value) in enumerate(sorted(setting.hours.items())):
            names[f"#h{index}"] = attribute
            values[f":h{index}"] = {"N": str(value)}
            assignments.append(f"#h{index} = :h{index}")
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key={"pk": {"S": setting.pk}, "sk": {"S": setting.sk}},
                UpdateExpression=f"SET {', '.join(assignments)}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except aws_errors() as error:
            return error_code(error)
        return None

    def day_keys(self, tenant: str, event_type: str, day: str, hours: Sequence[str]) -> dict[str, set[str]]:
        """The recount's view of a day (``YYYY-MM-DD``): every key with a counter item that day (the
        ``by_day`` index) and the overflow counter, each with which of ``hours`` (``hHH``) it holds."""
        prefix = counter_pk(tenant, event_type, "")
        sort_key = DAY_PREFIX + day
        query: dict[str, Any] = {
            "IndexName": DAY_INDEX_NAME,
            "KeyConditionExpression": "#day = :day",
            "ExpressionAttributeNames": {"#day": DAY_INDEX},
            "ExpressionAttributeValues": {":day": {"S": f"{prefix}{sort_key}"}},
        }
        encoded = [OVERFLOW, *(item["pk"]["S"].removeprefix(prefix) for item in self._query(query))]
        found: dict[str, set[str]] = {}
        names = {f"#h{index}": attribute for index, attribute in enumerate(hours)}
        for start in range(0, len(encoded), BATCH_GET):
            chunk = encoded[start : start + BATCH_GET]
            request: dict[str, Any] = {
                self._table_name: {
                    "Keys": [{"pk": {"S": prefix + key}, "sk": {"S": sort_key}} for key in chunk],
                    "ProjectionExpression": ", ".join(["pk", *names]),
                    "ExpressionAttributeNames": names,
                }
            }
            for attempt in range(UNPROCESSED_ATTEMPTS):
                if attempt:
                    time.sleep(random.uniform(0, UNPROCESSED_DELAY_SECONDS * 2**attempt))  # noqa: S311 - jitter
                try:
                    response = self._client.batch_get_item(RequestItems=request)
                except aws_errors() as error:
                    raise StorageError(f"reading counters failed: {error_code(error)}") from error
                for item in response["Responses"].get(self._table_name, []):
                    found[item["pk"]["S"].removeprefix(prefix)] = {
                        attribute for name, attribute in names.items() if attribute in item
                    }
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise StorageError("reading counters failed: keys left unprocessed")
        return found

    # -- a user's deletion (privacy/sweep.py) -------------------------------------------------
    def delete_counter(self, pk: str) -> int:
        """Delete every day item of one counter (a key a client filled with a user's id); returns how many."""
        query = {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": pk}}}
        keys = [
            {"pk": item["pk"], "sk": item["sk"]} for item in self._query({**query, "ProjectionExpression": "pk, sk"})
        ]
        self._batch_write([{"DeleteRequest": {"Key": key}} for key in keys], "deleting counters")
        return len(keys)

    # -- daily rollups (counts/rollups.py): compaction writes them, the API reads them ------------------
    def put_rollups(self, rollups: Sequence[DayRollup]) -> None:
        """Each (tenant, type, day) replaced whole, ``BatchWriteItem`` 25 at a time."""
        self._batch_write([{"PutRequest": {"Item": to_item(rollup)}} for rollup in rollups], "writing rollups")

    def delete_rollups(self, tenant: str, day: str, event_types: Sequence[str]) -> None:
        """The day's items of types it no longer has (a deletion removed their every event)."""
        keys = [{"pk": {"S": rollup_pk(tenant, t)}, "sk": {"S": rollup_sk(day)}} for t in event_types]
        self._batch_write([{"DeleteRequest": {"Key": key}} for key in keys], "deleting rollups")

    def rollups(self, tenant: str, event_type: str, first_day: str, last_day: str) -> list[DayRollup]:
        """The type's rollups from ``first_day`` to ``last_day`` (``YYYY-MM-DD``, inclusive), oldest first."""
        query = {
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": rollup_pk(tenant, event_type)},
                ":first": {"S": rollup_sk(first_day)},
                ":last": {"S": rollup_sk(last_day)},
            },
        }
        return [from_item(item) for item in self._query(query)]

    def _batch_write(self, requests: list[dict[str, Any]], doing: str) -> None:
        for start in range(0, len(requests), BATCH_WRITE):
            request: dict[str, Any] = {self._table_name: requests[start : start + BATCH_WRITE]}
            for attempt in range(UNPROCESSED_ATTEMPTS):
                if attempt:
                    time.sleep(random.uniform(0, UNPROCESSED_DELAY_SECONDS * 2**attempt))  # noqa: S311 - jitter
                try:
                    request = self._client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
                except aws_errors() as error:
                    raise StorageError(f"{doing} failed: {error_code(error)}") from error
                if not request:
                    break
            else:
                raise StorageError(f"{doing} failed: items left unprocessed")

    # -- reads (the API) --------------------------------------------------------------------
    def total(self, pk: str) -> int:
        """The key's events over the days still kept: the sum of its day items' hours."""
        query = {
            "ConsistentRead": True,  # real-time: a count read right after a 200 includes it
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :day)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":day": {"S": DAY_PREFIX}},
        }
        return sum(value for item in self._query(query) for value in _hours(item).values())

    def hourly(self, pk: str, first_hour: str, last_hour: str) -> dict[str, int]:
        """Counts per hour label (``YYYY-MM-DDTHH``) between the two labels, inclusive."""
        query = {
            "ConsistentRead": True,
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
            for attribute, value in _hours(item).items():
                label = f"{day}T{attribute[1:]}"
                if first_hour <= label <= last_hour:
                    counts[label] = value
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


def _common_sets(increment: CounterIncrement) -> tuple[dict[str, str], dict[str, Any], list[str]]:
    """What every write of a counter item sets: its expiry, and a key item's day index (once)."""
    names = {"#expires": "expires_at"}
    values: dict[str, Any] = {":expires": {"N": str(increment.expires_at)}}
    assignments = ["#expires = :expires"]
    index = day_index(increment.pk, increment.sk)
    if index is not None:
        names["#day"] = DAY_INDEX
        values[":day"] = {"S": index}
        assignments.append("#day = if_not_exists(#day, :day)")
    return names, values, assignments


def _hours(item: dict[str, Any]) -> dict[str, int]:
    """A day item's hour attributes (``h00`` ... ``h23``), as numbers."""
    return {name: int(value["N"]) for name, value in item.items() if is_hour_attribute(name)}


def _before(deadline: float | None) -> bool:
    return deadline is None or time.monotonic() < deadline
