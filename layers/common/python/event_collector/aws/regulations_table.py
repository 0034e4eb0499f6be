"""STUB, replaced at the merge: the regulations table's adapter belongs to the requests side of issue 22
(branch privacy22-requests: requests, API, CLI, suppression). This branch (the deletion) needs the table
only through the ``RegulationStore`` port, and this stand-in exists so the Regulate and Plan functions,
the local mode, the workflow tests and ``make parity`` run against DynamoDB meanwhile. At the merge, take
the other branch's module and table and drop this file and the stub ``RegulationsTable`` in template.yaml.

Items (stub layout): ``pk = <tenant>``, ``sk = req#<id>`` for a request; ``sk = sup#<selector>#<subject>``
for an active suppression. Subjects are digests: no user id is ever stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from event_collector.aws.errors import aws_errors, error_code
from event_collector.errors import StorageError
from event_collector.privacy.regulations import Regulation, Status, Suppression

REQUEST = "req#"
SUPPRESSION = "sup#"


class RegulationsTable:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def put_request(self, regulation: Regulation) -> Regulation:
        existing = self.get(regulation.tenant, regulation.id)
        if existing is not None and not (existing.kind == "delete" and existing.status == "applied"):
            return existing
        if existing is not None:
            regulation = dataclasses.replace(existing, status="received", requested_at=regulation.requested_at)
        self._call("put_item", Item=_item(regulation))
        key = {"pk": {"S": regulation.tenant}, "sk": {"S": f"{SUPPRESSION}{regulation.selector}#{regulation.subject}"}}
        if regulation.kind == "suppress":
            item = {**key, "since": {"N": str(regulation.requested_at)}, "request": {"S": regulation.id}}
            self._call("put_item", Item=item)
        elif regulation.kind == "unsuppress":
            self._call("delete_item", Key=key)
        return regulation

    def get(self, tenant: str, regulation_id: str) -> Regulation | None:
        key = {"pk": {"S": tenant}, "sk": {"S": REQUEST + regulation_id}}
        item = self._call("get_item", Key=key, ConsistentRead=True).get("Item")
        return _regulation(item) if item else None

    def requests(self, tenant: str) -> list[Regulation]:
        found = [_regulation(item) for item in self._items(tenant, REQUEST)]
        return sorted(found, key=lambda r: (-r.requested_at, r.id))

    def suppressions(self, tenant: str) -> list[Suppression]:
        return [
            Suppression(
                tenant,
                item["sk"]["S"].split("#")[1],
                item["sk"]["S"].split("#")[2],
                int(item["since"]["N"]),
                item["request"]["S"],
            )
            for item in self._items(tenant, SUPPRESSION)
        ]

    def pending(self) -> list[Regulation]:
        scan: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "begins_with(sk, :request) AND #status <> :applied",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":request": {"S": REQUEST}, ":applied": {"S": "applied"}},
        }
        return [_regulation(item) for item in self._pages("scan", scan)]

    def mark(self, regulation: Regulation, status: Status, removed: Mapping[str, int], at: int) -> None:
        current = self.get(regulation.tenant, regulation.id) or regulation
        applied_at = at if status == "applied" else current.applied_at
        updated = dataclasses.replace(current, status=status, removed=dict(removed), applied_at=applied_at)
        self._call("put_item", Item=_item(updated))

    def _items(self, tenant: str, prefix: str) -> Iterator[dict[str, Any]]:
        query = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": tenant}, ":prefix": {"S": prefix}},
            "ConsistentRead": True,
        }
        return self._pages("query", query)

    def _pages(self, operation: str, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        while True:
            page = self._call(operation, **{k: v for k, v in request.items() if k != "TableName"})
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}

    def _call(self, operation: str, **arguments: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = getattr(self._client, operation)(TableName=self._table, **arguments)
        except aws_errors() as error:
            raise StorageError(f"regulations table: {operation} failed: {error_code(error)}") from error
        return answer


def _item(regulation: Regulation) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": regulation.tenant},
        "sk": {"S": REQUEST + regulation.id},
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


def _regulation(item: dict[str, Any]) -> Regulation:
    return Regulation(
        id=item["sk"]["S"].removeprefix(REQUEST),
        tenant=item["pk"]["S"],
        kind=item["kind"]["S"],
        selector=item["selector"]["S"],
        subject=item["subject"]["S"],
        requested_at=int(item["requested_at"]["N"]),
        status=item["status"]["S"],
        applied_at=int(item["applied_at"]["N"]) if "applied_at" in item else None,
        removed={name: int(value["N"]) for name, value in item.get("removed", {}).get("M", {}).items()},
        source=item.get("source", {}).get("S", "cli"),
    )
