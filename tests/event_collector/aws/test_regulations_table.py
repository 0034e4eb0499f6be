"""The regulations port: the same expectations of the DynamoDB adapter (against moto) and of the in-memory fake;
then what only the adapter decides: its items, pagination, races between writers and AWS errors."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from event_collector.aws.regulations_table import RegulationsTable
from event_collector.errors import StorageError
from event_collector.privacy.regulations import Kind, Regulation, Selector, request_id, subject_digest
from tests.conftest import fail_calls
from tests.fakes.regulations import MemoryRegulations

USER = "user-42@example.com"  # a user's id: never stored
T0 = 1_790_000_000_000


def asked(
    kind: Kind, value: str = USER, *, tenant: str = "acme", at: int = T0, selector: Selector = "user_id"
) -> Regulation:
    """A request as the API or the CLI asks it (an unsuppress is applied as it is stored)."""
    subject = subject_digest(tenant, selector, value)
    applied = kind == "unsuppress"
    return Regulation(
        id=request_id(tenant, kind, selector, subject),
        tenant=tenant,
        kind=kind,
        selector=selector,
        subject=subject,
        requested_at=at,
        status="applied" if applied else "received",
        applied_at=at if applied else None,
        source="api",
    )


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemoryRegulations()
    aws = request.getfixturevalue("aws")
    return RegulationsTable(aws.dynamodb, os.environ["REGULATIONS_TABLE_NAME"])


def suppressed(store: Any, tenant: str = "acme") -> list[tuple[str, str, int, str]]:
    return sorted((s.selector, s.subject, s.since, s.request) for s in store.suppressions(tenant))


def test_given_a_new_request_when_put_then_it_is_stored_as_asked_and_read_back(store):
    deletion = asked("delete")

    stored = store.put_request(deletion)

    assert stored == deletion
    assert store.get("acme", deletion.id) == deletion
    assert store.requests("acme") == [deletion]
    assert store.get("globex", deletion.id) is None  # another tenant's id is no request of this one
    assert store.get("acme", request_id("acme", "delete", "user_id", "0" * 64)) is None


def test_given_a_request_asked_again_when_not_yet_applied_then_the_stored_one_stands(store):
    first = store.put_request(asked("delete"))

    again = store.put_request(asked("delete", at=T0 + 5_000))

    assert again == first
    assert store.requests("acme") == [first]


def test_given_an_applied_deletion_when_asked_again_then_it_is_received_again_keeping_what_it_removed(store):
    first = store.put_request(asked("delete"))
    store.mark(first, "applied", {"raw/": 3}, at=T0 + 60_000)

    again = store.put_request(asked("delete", at=T0 + 90_000))

    assert (again.status, again.requested_at) == ("received", T0 + 90_000)
    assert (again.applied_at, again.removed) == (T0 + 60_000, {"raw/": 3})
    assert store.get("acme", first.id) == again
    assert [r.id for r in store.pending()] == [first.id]


def test_given_a_suppress_when_put_then_the_suppression_starts_at_its_request(store):
    suppress = store.put_request(asked("suppress"))
    store.put_request(asked("suppress", at=T0 + 1_000))  # asked again while suppressed: it stands

    assert suppressed(store) == [("user_id", suppress.subject, T0, suppress.id)]
    assert store.suppressions("globex") == []


def test_given_suppress_unsuppress_suppress_when_put_then_each_turn_is_recorded_and_the_last_one_holds(store):
    store.put_request(asked("suppress"))
    ended = store.put_request(asked("unsuppress", at=T0 + 1_000))
    again = store.put_request(asked("suppress", at=T0 + 2_000))

    assert (again.status, again.requested_at) == ("received", T0 + 2_000)
    assert suppressed(store) == [("user_id", again.subject, T0 + 2_000, again.id)]
    assert (ended.status, ended.applied_at) == ("applied", T0 + 1_000)

    ended_again = store.put_request(asked("unsuppress", at=T0 + 3_000))

    assert suppressed(store) == []
    assert ended_again.requested_at == T0 + 3_000
    assert [r.kind for r in store.requests("acme")] == ["unsuppress", "suppress"]  # newest first


def test_given_an_unsuppress_when_the_user_is_not_suppressed_then_it_is_stored_once_and_stands(store):
    first = store.put_request(asked("unsuppress"))

    again = store.put_request(asked("unsuppress", at=T0 + 1_000))

    assert again == first
    assert suppressed(store) == []


def test_given_two_selectors_of_one_user_then_each_is_its_own_request_and_suppression(store):
    by_user = store.put_request(asked("suppress"))
    by_device = store.put_request(asked("suppress", "device-7", selector="anonymous_id", at=T0 + 1))

    assert by_user.id != by_device.id
    assert [s[0] for s in suppressed(store)] == sorted(["user_id", "anonymous_id"])


def test_given_requests_of_several_tenants_then_pending_lists_every_one_not_applied(store):
    kept = [store.put_request(asked("delete", f"u-{n}", tenant=t)) for n in range(3) for t in ("acme", "globex")]
    done = store.put_request(asked("delete", "u-done"))
    store.mark(done, "applied", {}, at=T0 + 1)
    store.put_request(asked("unsuppress", "u-back"))  # applied as it is stored

    assert sorted(r.id for r in store.pending()) == sorted(r.id for r in kept)
    assert {r.tenant for r in store.requests("globex")} == {"globex"}


def test_given_a_request_when_marked_applying_then_applied_then_pending_no_more_with_its_counts(store):
    deletion = store.put_request(asked("delete"))

    store.mark(deletion, "applying", {}, at=T0 + 1_000)
    applying = store.get("acme", deletion.id)
    store.mark(deletion, "applied", {"compacted/page_view": 4, "raw/": 2}, at=T0 + 2_000)
    applied = store.get("acme", deletion.id)

    assert (applying.status, applying.applied_at) == ("applying", None)
    assert (applied.status, applied.applied_at) == ("applied", T0 + 2_000)
    assert applied.removed == {"compacted/page_view": 4, "raw/": 2}
    assert store.pending() == []


def test_given_a_request_asked_anew_after_it_was_read_when_marked_then_the_newer_one_stays_pending(store):
    first = store.put_request(asked("delete"))
    store.mark(first, "applied", {}, at=T0 + 1_000)
    read = store.get("acme", first.id)
    renewed = store.put_request(asked("delete", at=T0 + 2_000))

    store.mark(read, "applied", {"raw/": 9}, at=T0 + 3_000)

    assert store.get("acme", first.id) == renewed
    assert [r.requested_at for r in store.pending()] == [T0 + 2_000]


def test_given_an_unknown_request_when_marked_then_a_storage_error_says_so(store):
    with pytest.raises(StorageError, match="no such request"):
        store.mark(asked("delete"), "applied", {}, at=T0)


# The adapter only, against moto.


@pytest.fixture
def table(aws) -> RegulationsTable:
    return RegulationsTable(aws.dynamodb, os.environ["REGULATIONS_TABLE_NAME"])


def items(aws: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = aws.dynamodb.scan(TableName=os.environ["REGULATIONS_TABLE_NAME"])["Items"]
    return found


def test_given_requests_and_a_suppression_when_stored_then_the_items_are_as_documented_and_hold_no_user_id(aws, table):
    suppress = table.put_request(asked("suppress"))
    table.put_request(asked("delete", at=T0 + 1))

    stored = {item["sk"]["S"]: item for item in items(aws)}

    assert set(stored) == {
        f"request#{suppress.id}",
        f"request#{asked('delete').id}",
        f"suppressed#user_id#{suppress.subject}",
    }
    assert stored[f"suppressed#user_id#{suppress.subject}"] == {
        "pk": {"S": "acme"},
        "sk": {"S": f"suppressed#user_id#{suppress.subject}"},
        "since": {"N": str(T0)},
        "request": {"S": suppress.id},
    }
    request = stored[f"request#{suppress.id}"]
    assert {name: next(iter(value.values())) for name, value in request.items() if name not in ("pk", "sk")} == {
        "kind": "suppress",
        "selector": "user_id",
        "subject": suppress.subject,
        "requested_at": str(T0),
        "status": "received",
        "removed": {},
        "source": "api",
    }
    assert USER not in json.dumps(items(aws))


class Paged:
    """The client with DynamoDB's page limit hit after every two items (a Scan or Query of a large table)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self.client, name)
        if name not in ("scan", "query"):
            return operation
        return lambda **params: operation(Limit=2, **params)


def test_given_more_items_than_one_page_when_listed_then_every_page_is_read(aws):
    table = RegulationsTable(Paged(aws.dynamodb), os.environ["REGULATIONS_TABLE_NAME"])
    for n in range(5):
        table.put_request(asked("delete", f"u-{n}", at=T0 + n))
        table.put_request(asked("suppress", f"u-{n}", at=T0 + n))

    assert len(table.pending()) == 10
    assert [r.requested_at for r in table.requests("acme")][::2] == [T0 + n for n in (4, 3, 2, 1, 0)]
    assert len(table.suppressions("acme")) == 5


class RacedBy:
    """The client, with another writer storing ``first`` just before our first write."""

    def __init__(self, client: Any, other: RegulationsTable, first: Regulation) -> None:
        self.client, self.other = client, other
        self.first: Regulation | None = first

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self.client, name)
        first = self.first
        if name not in ("put_item", "transact_write_items") or first is None:
            return operation

        def raced(**params: Any) -> Any:
            self.first = None
            self.other.put_request(first)
            return operation(**params)

        return raced


@pytest.mark.parametrize("kind", ["delete", "suppress"])
def test_given_another_writer_stores_the_same_request_first_then_its_request_is_the_one_returned(aws, table, kind):
    theirs = asked(kind)
    raced = RegulationsTable(RacedBy(aws.dynamodb, table, theirs), os.environ["REGULATIONS_TABLE_NAME"])

    ours = raced.put_request(asked(kind, at=T0 + 500))

    assert ours == theirs
    assert table.requests("acme") == [theirs]


def test_given_another_writer_renews_a_suppression_first_then_theirs_stands_and_one_suppression_holds(aws, table):
    table.put_request(asked("suppress"))
    table.put_request(asked("unsuppress", at=T0 + 1))
    theirs = asked("suppress", at=T0 + 2)
    raced = RegulationsTable(RacedBy(aws.dynamodb, table, theirs), os.environ["REGULATIONS_TABLE_NAME"])

    ours = raced.put_request(asked("suppress", at=T0 + 3))  # read "not suppressed", lost the write, read again

    assert ours.requested_at == T0 + 2
    assert [(s.since, s.request) for s in table.suppressions("acme")] == [(T0 + 2, ours.id)]


def test_given_the_transaction_refused_when_suppressing_then_neither_request_nor_suppression_is_stored(aws, table):
    fail_calls(aws.dynamodb, "TransactWriteItems", "InternalServerError")

    with pytest.raises(StorageError, match="storing a request failed: InternalServerError") as raised:
        table.put_request(asked("suppress"))

    assert USER not in str(raised.value)
    assert items(aws) == []


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("GetItem", lambda t: t.get("acme", asked("delete").id)),
        ("Query", lambda t: t.requests("acme")),
        ("Query", lambda t: t.suppressions("acme")),
        ("Scan", lambda t: t.pending()),
        ("UpdateItem", lambda t: t.mark(asked("delete"), "applied", {}, at=T0)),
    ],
)
def test_given_dynamodb_failing_when_called_then_a_storage_error_names_the_code(aws, table, operation, call):
    fail_calls(aws.dynamodb, operation, "ProvisionedThroughputExceededException")

    with pytest.raises(StorageError, match="ProvisionedThroughputExceededException"):
        call(table)


def test_given_malformed_ids_when_read_then_no_request_and_no_call(aws, table):
    calls = fail_calls(aws.dynamodb, "GetItem", "ShouldNotBeCalled")

    assert table.get("acme", "reg-../../x") is None
    assert table.get("Not A Tenant", asked("delete").id) is None
    assert table.requests("Not A Tenant") == []
    assert calls == [0]


def test_given_a_stored_item_with_an_unknown_kind_when_read_then_a_storage_error(aws, table):
    deletion = table.put_request(asked("delete"))
    aws.dynamodb.update_item(
        TableName=os.environ["REGULATIONS_TABLE_NAME"],
        Key={"pk": {"S": "acme"}, "sk": {"S": f"request#{deletion.id}"}},
        UpdateExpression="SET kind = :k",
        ExpressionAttributeValues={":k": {"S": "forget"}},
    )

    with pytest.raises(StorageError, match="unknown kind"):
        table.get("acme", deletion.id)
