"""The compaction state adapter against (moto) DynamoDB: the queue, the tenant lease, the in-flight unit."""

from __future__ import annotations

import os

import pytest

from event_collector.aws.compaction_state import CompactionStateTable
from event_collector.errors import StorageError
from event_collector.lake.queue import Inflight, PendingObject
from tests.conftest import fail_calls


@pytest.fixture
def state(aws) -> CompactionStateTable:
    return CompactionStateTable(aws.dynamodb, os.environ["COMPACTION_STATE_TABLE_NAME"])


def objects(count: int, tenant: str = "acme") -> list[PendingObject]:
    return [
        PendingObject(f"events/track/tenant={tenant}/{i:05d}", f"etag-{i}", 100 + i, 3600 * (i % 3))
        for i in range(count)
    ]


def test_given_more_objects_than_one_batch_when_queued_then_each_is_pending_once_with_its_fields(state):
    queued = objects(260)
    state.enqueue("acme", queued)
    state.enqueue("acme", queued[:30])  # a retried fan-out: the same items again
    state.enqueue("globex", objects(3, "globex"))

    assert sorted(state.pending("acme"), key=lambda o: o.key) == queued
    assert sorted(tenant for tenant, _ in state.all_pending()) == ["acme"] * 260 + ["globex"] * 3


def test_given_compacted_objects_when_marked_done_then_only_the_others_stay_pending(state):
    queued = objects(60)
    state.enqueue("acme", queued)

    state.done("acme", [item.key for item in queued[:55]])

    assert sorted(state.pending("acme"), key=lambda o: o.key) == queued[55:]


def test_given_a_lease_when_another_owner_asks_then_it_waits_until_expiry_and_the_holder_can_renew(state):
    assert state.acquire_lease("acme", "run-1", now=100, until=200)
    assert state.acquire_lease("acme", "run-1", now=150, until=250)  # the same run again (a retried task)
    assert not state.acquire_lease("acme", "run-2", now=249, until=349)
    assert state.acquire_lease("globex", "run-2", now=249, until=349)  # leases are per tenant
    assert state.acquire_lease("acme", "run-2", now=251, until=351)  # expired: a crashed holder does not block


def test_given_a_lease_when_someone_else_releases_it_then_it_stays(state):
    state.acquire_lease("acme", "run-1", now=100, until=200)

    state.release_lease("acme", "run-2")
    assert not state.acquire_lease("acme", "run-2", now=150, until=250)

    state.release_lease("acme", "run-1")
    assert state.acquire_lease("acme", "run-2", now=150, until=250)


def test_given_an_inflight_unit_when_set_read_and_cleared_then_it_round_trips(state):
    assert state.inflight("acme") is None
    state.set_inflight("acme", Inflight("u1", ["compacted/track/tenant=acme/", "ledger/tenant=acme/"]))

    assert state.inflight("acme") == Inflight("u1", ["compacted/track/tenant=acme/", "ledger/tenant=acme/"])
    state.clear_inflight("acme")
    assert state.inflight("acme") is None


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("BatchWriteItem", lambda s: s.enqueue("acme", objects(1))),
        ("Query", lambda s: s.pending("acme")),
        ("Scan", lambda s: list(s.all_pending())),
        ("PutItem", lambda s: s.acquire_lease("acme", "r", 1, 2)),
        ("GetItem", lambda s: s.inflight("acme")),
    ],
)
def test_given_dynamodb_failing_when_the_state_is_used_then_a_storage_error_names_the_step(aws, state, operation, call):
    fail_calls(aws.dynamodb, operation, "InternalServerError")

    with pytest.raises(StorageError, match="compaction"):
        call(state)
