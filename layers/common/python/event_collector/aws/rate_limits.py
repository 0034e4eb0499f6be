"""DynamoDB adapter of the per-key rate limit (auth/rates.py): one item per key and UTC minute in the
counters table, ``pk = ratelimit#<key id>``, ``sk = minute#<epoch minute>``, expiring an hour later."""

from __future__ import annotations

from typing import Any

from event_collector.aws.errors import aws_errors, error_code
from event_collector.errors import StorageError

RATE_PREFIX = "ratelimit#"
MINUTE_PREFIX = "minute#"
KEPT_SECONDS = 3600  # DynamoDB's TTL removes a minute's item after this (and some hours of TTL's own lag)


class RateLimitTable:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def take(self, key_id: str, minute: int, limit: int) -> bool:
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key={"pk": {"S": RATE_PREFIX + key_id}, "sk": {"S": f"{MINUTE_PREFIX}{minute}"}},
                UpdateExpression="ADD n :one SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(n) OR n < :limit",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":expires": {"N": str((minute + 1) * 60 + KEPT_SECONDS)},
                },
            )
        except aws_errors() as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise StorageError(f"counting a rate-limited key failed: {error_code(error)}") from error
        return True
