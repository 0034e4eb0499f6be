"""The rate limiter's DynamoDB adapter (aws/rate_limits.py) against moto."""

from __future__ import annotations

import os

import pytest

from event_collector.aws.rate_limits import RateLimitTable
from event_collector.errors import StorageError

MINUTE = 29_000_000  # an epoch minute


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
