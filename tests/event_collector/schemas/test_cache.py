"""The collector's cache of tenants' schemas: no read per request once cached, a just-registered type found
within seconds, unknown names unable to hammer the table, and a failed read never hiding what was known."""

from __future__ import annotations

import pytest

from event_collector.errors import SchemasUnavailable, StorageError
from event_collector.schemas.cache import RECHECK_SECONDS, SchemaCache
from event_collector.schemas.registry import RegisteredSchema, TenantSchemas
from tests.event_collector.schemas.helpers import ORDER
from tests.fakes.schemas import MemorySchemas


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class FailingSchemas(MemorySchemas):
    """The registry, failing its reads while ``failing``."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = False

    def tenant_schemas(self, tenant: str) -> TenantSchemas:
        if self.failing:
            self.reads += 1
            raise StorageError("reading a tenant's schemas failed: ProvisionedThroughputExceededException")
        return super().tenant_schemas(tenant)


def order_type(tenant: str = "acme", version: int = 1) -> RegisteredSchema:
    return RegisteredSchema(tenant, "type", "order_completed", version, ORDER, 0)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry() -> FailingSchemas:
    registry = FailingSchemas()
    registry.put_version(order_type())
    return registry


def test_given_schemas_read_when_asked_within_the_ttl_then_no_read_and_after_it_read_again(registry, clock):
    cache = SchemaCache(registry, 60, clock=clock)

    for _ in range(3):
        assert cache.for_request("acme").event_type("order_completed") == order_type()
    clock.now += 59.9
    cache.for_request("acme").event_type("order_completed")
    assert registry.reads == 1
    clock.now += 0.1
    cache.for_request("acme").event_type("order_completed")
    assert registry.reads == 2


def test_given_a_ttl_of_zero_when_requests_need_schemas_then_each_reads_once(registry, clock):
    cache = SchemaCache(registry, 0, clock=clock)

    for _ in range(3):
        lookup = cache.for_request("acme")
        lookup.event_type("order_completed")
        lookup.event_type("order_completed")
        lookup.track_plan("Order Completed")

    assert registry.reads == 3


def test_given_a_type_registered_after_the_tenant_was_cached_when_sent_then_found_by_a_recheck(registry, clock):
    cache = SchemaCache(registry, 60, clock=clock)
    assert cache.for_request("acme").event_type("refund_issued") is None
    refund = RegisteredSchema("acme", "type", "refund_issued", 1, ORDER, 0)
    registry.put_version(refund)

    clock.now += RECHECK_SECONDS - 0.1
    assert cache.for_request("acme").event_type("refund_issued") is None  # read moments ago: not again
    clock.now += 0.1
    assert cache.for_request("acme").event_type("refund_issued") == refund
    assert registry.reads == 2


def test_given_a_client_sending_unknown_types_when_it_keeps_sending_then_one_read_per_recheck_period(registry, clock):
    cache = SchemaCache(registry, 3600, clock=clock)

    for _ in range(100):  # 100 requests over 50 s, each with two unknown types and an unplanned track name
        lookup = cache.for_request("acme")
        assert lookup.event_type("nope") is None
        assert lookup.event_type("nope_either") is None
        assert lookup.track_plan("Never Planned") is None
        clock.now += 0.5

    assert registry.reads == 10  # at 0 s, then once every 5 s: 5, 10, ..., 45


def test_given_expired_schemas_and_an_unknown_type_when_one_request_needs_both_then_one_read(registry, clock):
    cache = SchemaCache(registry, 60, clock=clock)
    cache.for_request("acme").event_type("order_completed")
    clock.now += 120

    lookup = cache.for_request("acme")
    lookup.event_type("order_completed")
    lookup.event_type("nope")

    assert registry.reads == 2


def test_given_two_tenants_when_each_asks_then_each_sees_only_its_own_types(registry, clock):
    cache = SchemaCache(registry, 60, clock=clock)

    assert cache.for_request("globex").event_type("order_completed") is None
    assert cache.for_request("acme").event_type("order_completed") is not None


def test_given_cached_schemas_when_a_read_fails_then_they_are_kept_reported_and_retried_only_later(registry, clock):
    failures: list[tuple[str, Exception]] = []
    cache = SchemaCache(
        registry, 60, clock=clock, on_load_failed=lambda tenant, error: failures.append((tenant, error))
    )
    cache.for_request("acme").event_type("order_completed")
    registry.failing = True
    clock.now += 61

    assert cache.for_request("acme").event_type("order_completed") == order_type()
    clock.now += RECHECK_SECONDS - 0.1
    assert cache.for_request("acme").event_type("order_completed") == order_type()
    assert registry.reads == 2  # the one that failed; the next waits
    assert [(tenant, type(error)) for tenant, error in failures] == [("acme", StorageError)]

    registry.failing = False
    clock.now += 0.1
    registry.put_version(order_type(version=2))
    assert cache.for_request("acme").event_type("order_completed") == order_type(version=2)


def test_given_nothing_cached_when_a_read_fails_then_the_request_is_refused_with_a_503_and_reported(registry, clock):
    failures: list[str] = []
    cache = SchemaCache(registry, 60, clock=clock, on_load_failed=lambda tenant, error: failures.append(tenant))
    registry.failing = True

    with pytest.raises(SchemasUnavailable):
        cache.for_request("acme").event_type("order_completed")
    assert failures == ["acme"]


def test_given_a_lookup_when_no_event_needs_it_then_nothing_is_read(registry, clock):
    cache = SchemaCache(registry, 60, clock=clock)

    cache.for_request("acme")

    assert registry.reads == 0


def test_given_a_tenant_accepting_unplanned_names_when_they_keep_coming_then_no_read_after_the_first(registry, clock):
    cache = SchemaCache(registry, 3600, clock=clock)

    for _ in range(100):  # 100 requests over 50 s, each with a track name that has no plan
        assert cache.for_request("acme").track_plan("Never Planned") is None
        clock.now += 0.5

    assert registry.reads == 1  # accepted either way: a plan registered since waits for the TTL


def test_given_a_tenant_rejecting_unplanned_names_when_a_plan_is_registered_then_a_recheck_finds_it(registry, clock):
    registry.set_unplanned("acme", "reject")
    cache = SchemaCache(registry, 3600, clock=clock)
    assert cache.for_request("acme").track_plan("Order Completed") is None
    plan = RegisteredSchema("acme", "track", "Order Completed", 1, ORDER, 0)
    registry.put_version(plan)

    clock.now += RECHECK_SECONDS
    assert cache.for_request("acme").track_plan("Order Completed") == plan


def test_given_a_kept_version_when_an_event_fails_it_then_a_newer_version_is_found_once_per_recheck(registry, clock):
    cache = SchemaCache(registry, 3600, clock=clock)
    kept = cache.for_request("acme").event_type("order_completed")
    assert kept == order_type()
    registry.put_version(order_type(version=2))

    assert cache.for_request("acme").newer(order_type()) is None  # read a moment ago: not again
    clock.now += RECHECK_SECONDS
    assert cache.for_request("acme").newer(order_type()) == order_type(version=2)
    assert cache.for_request("acme").event_type("order_completed") == order_type(version=2)
    assert registry.reads == 2  # the first, and one recheck
