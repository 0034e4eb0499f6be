"""The collector's view of suppressed users (privacy/suppression.py): cached per tenant for at most its max age,
loaded again after it, never a failed request, digests only for tenants that have suppressions."""

from __future__ import annotations

import pytest

from event_collector.errors import StorageError
from event_collector.privacy import suppression as module
from event_collector.privacy.regulations import Selector, Suppression, subject_digest
from event_collector.privacy.suppression import SuppressionCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Source:
    """The store's ``suppressions``: what it holds now, how often it was read, and whether it fails."""

    def __init__(self) -> None:
        self.held: list[Suppression] = []
        self.loads = 0
        self.failing = False

    def suppress(self, tenant: str, selector: Selector, value: str) -> None:
        subject = subject_digest(tenant, selector, value)
        self.held.append(Suppression(tenant, selector, subject, since=0, request="reg-x"))

    def suppressions(self, tenant: str) -> list[Suppression]:
        self.loads += 1
        if self.failing:
            raise StorageError("reading suppressions failed: InternalServerError")
        return [s for s in self.held if s.tenant == tenant]


@pytest.fixture
def source() -> Source:
    return Source()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_given_a_suppressed_user_id_then_its_events_by_user_or_alias_are_suppressed_and_others_not(source, clock):
    source.suppress("acme", "user_id", "u-1")
    cache = SuppressionCache(source, 60, clock=clock)

    assert cache.is_suppressed("acme", {"user_id": "u-1", "anonymous_id": "a-9"})
    assert cache.is_suppressed("acme", {"previous_id": "u-1", "user_id": "u-2"})  # Segment's alias
    assert not cache.is_suppressed("acme", {"user_id": "u-2", "anonymous_id": "u-1"})  # another selector
    assert not cache.is_suppressed("acme", {"event_type": "button_click", "button_id": "u-1"})
    assert not cache.is_suppressed("globex", {"user_id": "u-1"})  # another tenant's user


def test_given_a_suppressed_anonymous_id_then_its_events_are_suppressed_whoever_they_name_besides(source, clock):
    source.suppress("acme", "anonymous_id", "device-7")
    cache = SuppressionCache(source, 60, clock=clock)

    assert cache.is_suppressed("acme", {"anonymous_id": "device-7", "user_id": "u-3"})
    assert not cache.is_suppressed("acme", {"user_id": "device-7"})


def test_given_many_requests_then_one_load_per_tenant_and_max_age_and_a_new_suppression_holds_after_it(source, clock):
    cache = SuppressionCache(source, 60, clock=clock)
    event = {"user_id": "u-1"}

    before = [cache.is_suppressed("acme", event) for _ in range(50)]
    source.suppress("acme", "user_id", "u-1")  # acknowledged now
    clock.now += 59.999
    stale = cache.is_suppressed("acme", event)
    clock.now += 0.001
    fresh = cache.is_suppressed("acme", event)

    assert before == [False] * 50
    assert stale is False  # within the cache's age: the list loaded before
    assert fresh is True
    assert source.loads == 2


def test_given_a_tenant_without_suppressions_then_no_digest_is_computed(source, clock, monkeypatch):
    digests: list[object] = []

    def counted(tenant: str, record: object) -> set[object]:
        digests.append(record)
        return set()

    monkeypatch.setattr(module, "event_subjects", counted)
    source.suppress("globex", "user_id", "u-1")
    cache = SuppressionCache(source, 60, clock=clock)

    cache.is_suppressed("acme", {"user_id": "u-1"})
    cache.is_suppressed("globex", {"user_id": "u-2"})

    assert digests == [{"user_id": "u-2"}]


def test_given_a_failed_load_then_the_list_loaded_before_holds_it_is_reported_and_retried_later(source, clock):
    failures: list[tuple[str, str]] = []
    source.suppress("acme", "user_id", "u-1")
    cache = SuppressionCache(source, 60, clock=clock, on_load_failed=lambda t, e: failures.append((t, str(e))))
    cache.is_suppressed("acme", {"user_id": "u-1"})
    source.failing = True
    clock.now += 60

    during = [cache.is_suppressed("acme", {"user_id": "u-1"}) for _ in range(20)]
    loads_during = source.loads
    clock.now += 5
    source.failing = False
    source.held = []
    after = cache.is_suppressed("acme", {"user_id": "u-1"})

    assert during == [True] * 20  # the previous list, not a failed request
    assert failures == [("acme", "reading suppressions failed: InternalServerError")]
    assert loads_during == 2  # one attempt, then none until the retry
    assert after is False


def test_given_a_failed_first_load_then_nothing_is_suppressed_and_the_request_goes_on(source, clock):
    failures: list[str] = []
    source.suppress("acme", "user_id", "u-1")
    source.failing = True
    cache = SuppressionCache(source, 60, clock=clock, on_load_failed=lambda t, e: failures.append(t))

    assert cache.is_suppressed("acme", {"user_id": "u-1"}) is False  # delivered, not lost with everyone else's
    assert failures == ["acme"]


def test_given_a_max_age_under_the_retry_delay_then_a_failed_load_is_retried_within_the_max_age(source, clock):
    source.failing = True
    cache = SuppressionCache(source, 2, clock=clock)

    cache.subjects("acme")
    clock.now += 2
    cache.subjects("acme")

    assert source.loads == 2
