"""DynamoDB adapter for the regulations table (privacy/regulations.py: ``RegulationStore``).

Items, one partition per tenant (``pk = <tenant>``):

- ``sk = request#<request id>``: ``kind``, ``selector``, ``subject``, ``requested_at`` (epoch ms), ``status``,
  ``applied_at`` (epoch ms, once applied), ``removed`` (a map: table or prefix -> count), ``source``;
- ``sk = suppressed#<selector>#<subject>``: ``since`` (epoch ms), ``request`` (the suppress request's id).

A user's id is never stored: only its subject (a digest). Requests are the audit record: no TTL.

Writes are conditional, so concurrent asks of the same request settle on one stored request: a new request
is put only if absent, a renewed one (privacy/renewal.py) only if it is still as read, and a suppress or
unsuppress writes its request and the suppression in one ``TransactWriteItems``. A write that loses a race
reads again and decides again, a few times at most.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast

from event_collector.aws.errors import aws_errors, error_code
from event_collector.errors import StorageError
from event_collector.identifiers import is_regulation_id, is_tenant_id
from event_collector.privacy.regulations import (
    KINDS,
    SELECTORS,
    Kind,
    Regulation,
    Selector,
    Status,
    Suppression,
)
from event_collector.privacy.renewal import renewal, suppression_change

REQUEST_PREFIX = "request#"
SUPPRESSED_PREFIX = "suppressed#"
STATUSES: tuple[Status, ...] = ("received", "applying", "applied")
# Another writer changed the request between our read and our write: read again and decide again.
LOST_RACE = frozenset({"ConditionalCheckFailedException", "TransactionCanceledException"})
MAX_ATTEMPTS = 5


class RegulationsTable:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def put_request(self, regulation: Regulation) -> Regulation:
        for _ in range(MAX_ATTEMPTS):
            stored = self.get(regulation.tenant, regulation.id)
            if stored is None:
                if self._write(regulation, condition="attribute_not_exists(sk)", values={}):
                    return regulation
                continue
            suppressed = None
            if regulation.kind != "delete":
                suppressed = self._suppression_exists(regulation.tenant, regulation.selector, regulation.subject)
            renewed = renewal(stored, regulation, suppressed=bool(suppressed))
            if renewed is None:
                return stored
            still_as_read = "requested_at = :seen_at AND #status = :seen_status"
            seen = {":seen_at": {"N": str(stored.requested_at)}, ":seen_status": {"S": stored.status}}
            if self._write(renewed, condition=still_as_read, values=seen, suppressed=suppressed):
                return renewed
        raise StorageError("storing a request failed: it kept changing while being stored")

    def get(self, tenant: str, regulation_id: str) -> Regulation | None:
        if not is_tenant_id(tenant) or not is_regulation_id(regulation_id):
            return None  # no such key can exist
        try:
            item = self._client.get_item(
                TableName=self._table_name, Key=_key(tenant, REQUEST_PREFIX + regulation_id), ConsistentRead=True
            ).get("Item")
        except aws_errors() as error:
            raise StorageError(f"reading a request failed: {error_code(error)}") from error
        return _regulation(item) if item else None

    def requests(self, tenant: str) -> list[Regulation]:
        found = [_regulation(item) for item in self._query(tenant, REQUEST_PREFIX, "listing requests")]
        return sorted(found, key=lambda regulation: (-regulation.requested_at, regulation.id))

    def suppressions(self, tenant: str) -> list[Suppression]:
        return [_suppression(item) for item in self._query(tenant, SUPPRESSED_PREFIX, "reading suppressions")]

    def pending(self) -> list[Regulation]:
        """A Scan: the table holds a few items per request ever made, and this runs once per compaction."""
        scan: dict[str, Any] = {
            "TableName": self._table_name,
            "FilterExpression": "begins_with(sk, :request) AND #status <> :applied",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":request": {"S": REQUEST_PREFIX}, ":applied": {"S": "applied"}},
            "ConsistentRead": True,
        }
        found: list[Regulation] = []
        try:
            while True:
                page = self._client.scan(**scan)
                found += [_regulation(item) for item in page.get("Items", [])]
                if "LastEvaluatedKey" not in page:
                    return found
                scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except aws_errors() as error:
            raise StorageError(f"listing pending requests failed: {error_code(error)}") from error

    def mark(self, regulation: Regulation, status: Status, removed: Mapping[str, int], at: int) -> None:
        """Unless the request was asked anew since ``regulation`` was read (another ``requested_at``): then
        the newer request stays to be applied and nothing changes."""
        update = "SET #status = :status, removed = :removed"
        values: dict[str, Any] = {
            ":status": {"S": status},
            ":removed": {"M": {name: {"N": str(count)} for name, count in removed.items()}},
            ":requested_at": {"N": str(regulation.requested_at)},
        }
        if status == "applied":
            update += ", applied_at = :at"
            values[":at"] = {"N": str(at)}
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key=_key(regulation.tenant, REQUEST_PREFIX + regulation.id),
                UpdateExpression=update,
                ConditionExpression="requested_at = :requested_at",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
            )
        except aws_errors() as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise StorageError(f"marking a request failed: {error_code(error)}") from error
            if self.get(regulation.tenant, regulation.id) is None:
                raise StorageError("marking a request failed: no such request") from error

    def _write(
        self, regulation: Regulation, *, condition: str, values: dict[str, Any], suppressed: bool | None = None
    ) -> bool:
        """Put the request if ``condition`` holds, and begin or end its suppression in the same transaction;
        False when another writer got there first. ``suppressed``: whether the suppression was found (None: not
        read, a new request)."""
        put = {
            "TableName": self._table_name,
            "Item": _request_item(regulation),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#status": "status"} if "#status" in condition else None,
            "ExpressionAttributeValues": values or None,
        }
        put = {name: value for name, value in put.items() if value is not None}
        change = suppression_change(regulation)
        try:
            if change is None:
                self._client.put_item(**put)
            else:
                suppression = self._suppression_write(regulation, suppressed)
                self._client.transact_write_items(TransactItems=[{"Put": put}, suppression])
        except aws_errors() as error:
            if error_code(error) in LOST_RACE:
                return False
            raise StorageError(f"storing a request failed: {error_code(error)}") from error
        return True

    def _suppression_write(self, regulation: Regulation, suppressed: bool | None) -> dict[str, Any]:
        """Begin (put) or end (delete) the user's suppression; when asked anew, only if it is still as read."""
        key = _key(regulation.tenant, _suppression_sort_key(regulation.selector, regulation.subject))
        if suppression_change(regulation) == "begin":
            item = {
                **key,
                "since": {"N": str(regulation.requested_at)},
                "request": {"S": regulation.id},
            }
            put: dict[str, Any] = {"TableName": self._table_name, "Item": item}
            if suppressed is not None:
                put["ConditionExpression"] = "attribute_not_exists(sk)"
            return {"Put": put}
        delete: dict[str, Any] = {"TableName": self._table_name, "Key": key}
        if suppressed is not None:
            delete["ConditionExpression"] = "attribute_exists(sk)"
        return {"Delete": delete}

    def _suppression_exists(self, tenant: str, selector: Selector, subject: str) -> bool:
        try:
            item = self._client.get_item(
                TableName=self._table_name,
                Key=_key(tenant, _suppression_sort_key(selector, subject)),
                ConsistentRead=True,
            ).get("Item")
        except aws_errors() as error:
            raise StorageError(f"reading a suppression failed: {error_code(error)}") from error
        return item is not None

    def _query(self, tenant: str, prefix: str, doing: str) -> Iterator[dict[str, Any]]:
        if not is_tenant_id(tenant):
            return
        query: dict[str, Any] = {
            "TableName": self._table_name,
            "KeyConditionExpression": "pk = :tenant AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":tenant": {"S": tenant}, ":prefix": {"S": prefix}},
            "ConsistentRead": True,
        }
        try:
            while True:
                page = self._client.query(**query)
                yield from page.get("Items", [])
                if "LastEvaluatedKey" not in page:
                    return
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except aws_errors() as error:
            raise StorageError(f"{doing} failed: {error_code(error)}") from error


def _key(tenant: str, sort_key: str) -> dict[str, Any]:
    return {"pk": {"S": tenant}, "sk": {"S": sort_key}}


def _suppression_sort_key(selector: Selector, subject: str) -> str:
    return f"{SUPPRESSED_PREFIX}{selector}#{subject}"


def _request_item(regulation: Regulation) -> dict[str, Any]:
    item: dict[str, Any] = {
        **_key(regulation.tenant, REQUEST_PREFIX + regulation.id),
        "kind": {"S": regulation.kind},
        "selector": {"S": regulation.selector},
        "subject": {"S": regulation.subject},
        "requested_at": {"N": str(regulation.requested_at)},
        "status": {"S": regulation.status},
        "removed": {"M": {name: {"N": str(count)} for name, count in regulation.removed.items()}},
        "source": {"S": regulation.source},
    }
    if regulation.applied_at is not None:
        item["applied_at"] = {"N": str(regulation.applied_at)}
    return item


def _one_of(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise StorageError(f"a stored request has an unknown {name}")
    return value


def _regulation(item: Mapping[str, Any]) -> Regulation:
    applied_at = item.get("applied_at")
    return Regulation(
        id=item["sk"]["S"].removeprefix(REQUEST_PREFIX),
        tenant=item["pk"]["S"],
        kind=cast(Kind, _one_of(item["kind"]["S"], KINDS, "kind")),
        selector=cast(Selector, _one_of(item["selector"]["S"], SELECTORS, "selector")),
        subject=item["subject"]["S"],
        requested_at=int(item["requested_at"]["N"]),
        status=cast(Status, _one_of(item["status"]["S"], STATUSES, "status")),
        applied_at=int(applied_at["N"]) if applied_at else None,
        removed={name: int(count["N"]) for name, count in item.get("removed", {}).get("M", {}).items()},
        source="api" if item.get("source", {}).get("S") == "api" else "cli",
    )


def _suppression(item: Mapping[str, Any]) -> Suppression:
    selector, _, subject = item["sk"]["S"].removeprefix(SUPPRESSED_PREFIX).partition("#")
    return Suppression(
        tenant=item["pk"]["S"],
        selector=cast(Selector, _one_of(selector, SELECTORS, "selector")),
        subject=subject,
        since=int(item["since"]["N"]),
        request=item["request"]["S"],
    )
