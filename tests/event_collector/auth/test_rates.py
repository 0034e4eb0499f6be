"""The optional rate limit per key (auth/rates.py) against a scripted store, and its DynamoDB adapter
against moto (aws/rate_limits.py)."""

from __future__ import annotations

import os

import pytest

from event_collector.auth.rates import RateLimiter
from event_collector.aws.rate_limits import RateLimitTable
from event_collector.errors import RateLimited, StorageError

MINUTE = 29_000_000  # an epoch minute


class Store:
    def __init__(self, fail: bool = False) -> None:
        self.counts: dict[tuple[str, int], int] = {}
        self.fail = fail

    def take(self, key_id: str, minute: int, limit: int) -> bool:
        if self.fail:
            raise StorageError("throttled")
        used = self.counts.get((key_id, minute), 0)
        if used >= limit:
            return False
        self.counts[(key_id, minute)] = used + 1
        return True


def test_given_a_limit_when_the_minute_is_full_then_429_with_the_seconds_left() -> None:
    now = [MINUTE * 60 + 17.25]
    limiter = RateLimiter(Store(), clock=lambda: now[0])
    limiter.check("k1", 2)
    limiter.check("k1", 2)

    with pytest.raises(RateLimited) as refused:
        limiter.check("k1", 2)

    assert (refused.value.status, refused.value.code, refused.value.retry_after) == (429, "rate_limited", 43)
    limiter.check("k2", 2)  # another key has its own minute
    now[0] = (MINUTE + 1) * 60  # the next minute starts afresh
    limiter.check("k1", 2)


def test_given_no_limit_then_the_store_is_never_asked() -> None:
    store = Store(fail=True)
    RateLimiter(store).check("k1", None)
    RateLimiter(store).check(None, 5)


def test_given_the_store_failing_then_the_request_is_admitted_and_reported() -> None:
    heard: list[str] = []
    limiter = RateLimiter(Store(fail=True), on_unavailable=lambda error: heard.append(str(error)))

    limiter.check("k1", 1)
    limiter.check("k1", 1)

    assert heard == ["throttled", "throttled"]


def test_given_moto_when_a_minute_fills_then_take_says_so_per_key_and_minute(aws) -> None:
    table = RateLimitTable(aws.dynamodb, os.environ["COUNTERS_TABLE_NAME"])

    assert [table.take("k1", MINUTE, 3) for _ in range(5)] == [True, True, True, False, False]
    assert table.take("k1", MINUTE + 1, 3)
    assert table.take("k2", MINUTE, 3)
    item = aws.dynamodb.get_item(
        TableName=os.environ["COUNTERS_TABLE_NAME"],
        Key={"pk": {"S": "ratelimit#k1"}, "sk": {"S": f"minute#{MINUTE}"}},
    )["Item"]
    assert item["n"] == {"N": "3"}
    assert int(item["expires_at"]["N"]) == (MINUTE + 1) * 60 + 3600


def test_given_an_unreachable_table_then_a_storage_error(aws) -> None:
    with pytest.raises(StorageError):
        RateLimitTable(aws.dynamodb, "no-such-table").take("k1", MINUTE, 3)
