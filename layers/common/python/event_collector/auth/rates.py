"""An optional rate limit per key: at most ``rate_per_minute`` requests that send events per UTC minute.

A publishable key is as public as the page it is on; its limit is the first
line against someone replaying it from a script with a forged ``Origin``
(docs/authentication.md). Only keys issued with a limit pay for it: one
conditional DynamoDB write per request. When the limit's store cannot be
reached, the request is admitted and the caller told (``on_unavailable``):
losing events is worse than over-admitting for a moment.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol

from event_collector.errors import RateLimited, StorageError


class RateStore(Protocol):
    def take(self, key_id: str, minute: int, limit: int) -> bool:
        """Count one request of ``key_id`` in ``minute`` (epoch minutes) if fewer than ``limit`` were;
        False when the minute is full. Raises StorageError when it cannot tell."""
        ...


class RateLimiter:
    def __init__(
        self,
        store: RateStore,
        clock: Callable[[], float] = time.time,
        on_unavailable: Callable[[StorageError], None] = lambda error: None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._on_unavailable = on_unavailable

    def check(self, key_id: str | None, rate_per_minute: int | None) -> None:
        """Nothing for a key without a limit; a 429 (RateLimited, with the seconds to the next minute)
        for a request over its key's limit."""
        if rate_per_minute is None or key_id is None:
            return
        now = self._clock()
        minute = int(now // 60)
        try:
            admitted = self._store.take(key_id, minute, rate_per_minute)
        except StorageError as error:
            self._on_unavailable(error)
            return
        if not admitted:
            raise RateLimited(rate_per_minute, retry_after=max(1, math.ceil((minute + 1) * 60 - now)))
