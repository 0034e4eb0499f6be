"""The optional rate limit per key (auth/rates.py) against an in-memory store (tests/fakes/rates.py); its
DynamoDB adapter is tested in tests/event_collector/aws/test_rate_limits.py."""

from __future__ import annotations

import pytest

from event_collector.auth.rates import RateLimiter
from event_collector.errors import RateLimited
from tests.fakes.rates import MemoryRateStore

MINUTE = 29_000_000  # an epoch minute


def test_given_a_limit_when_the_minute_is_full_then_429_with_the_seconds_left() -> None:
    now = [MINUTE * 60 + 17.25]
    limiter = RateLimiter(MemoryRateStore(), clock=lambda: now[0])
    limiter.check("k1", 2)
    limiter.check("k1", 2)

    with pytest.raises(RateLimited) as refused:
        limiter.check("k1", 2)

    assert (refused.value.status, refused.value.code, refused.value.retry_after) == (429, "rate_limited", 43)
    limiter.check("k2", 2)  # another key has its own minute
    now[0] = (MINUTE + 1) * 60  # the next minute starts afresh
    limiter.check("k1", 2)


def test_given_no_limit_then_the_store_is_never_asked() -> None:
    store = MemoryRateStore(fail=True)
    RateLimiter(store).check("k1", None)
    RateLimiter(store).check(None, 5)


def test_given_the_store_failing_then_the_request_is_admitted_and_reported() -> None:
    heard: list[str] = []
    limiter = RateLimiter(MemoryRateStore(fail=True), on_unavailable=lambda error: heard.append(str(error)))

    limiter.check("k1", 1)
    limiter.check("k1", 1)

    assert heard == ["throttled", "throttled"]
