"""Counter keys: what one request adds to DynamoDB, and how counts are read back.

Layout (one table, ``pk``/``sk`` strings):

- ``pk = <tenant>#<event_type>#key#<counter key>`` for one key (a URL, a button id, a track name)
- ``pk = <tenant>#<event_type>#all`` for every key of the type
- ``sk = total`` for the running total, ``sk = hour#YYYY-MM-DDTHH`` for an
  hourly bucket (with ``expires_at`` for DynamoDB TTL).

Tenant and event type are validated identifiers without ``#``, and the
counter key is the last component, so two different counters never share a
``pk``. Keys longer than DynamoDB allows are replaced by their SHA-256.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

TOTAL_SORT_KEY = "total"
HOUR_PREFIX = "hour#"
MAX_RAW_KEY_BYTES = 1024
MAX_SERIES_HOURS = 31 * 24


@dataclass(frozen=True)
class CounterIncrement:
    pk: str
    sk: str
    amount: int
    expires_at: int | None = None


def encode_counter_key(key: str) -> str:
    if len(key.encode("utf-8")) > MAX_RAW_KEY_BYTES:
        return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()
    return key


def counter_pk(tenant: str, event_type: str, key: str | None) -> str:
    if key is None:
        return f"{tenant}#{event_type}#all"
    return f"{tenant}#{event_type}#key#{encode_counter_key(key)}"


def hour_label(epoch_millis: int) -> str:
    return datetime.fromtimestamp(epoch_millis / 1000, tz=UTC).strftime("%Y-%m-%dT%H")


def hour_sort_key(epoch_millis: int) -> str:
    return HOUR_PREFIX + hour_label(epoch_millis)


def counter_increments(
    events: Iterable[tuple[str, str]],
    *,
    tenant: str,
    received_at: int,
    hourly_retention_days: int,
) -> list[CounterIncrement]:
    """One increment per distinct counter touched, never one per event.

    Every event of a request shares ``received_at``, so each counter gets a
    total and a single hourly bucket.
    """
    per_counter: Counter[str] = Counter()
    for event_type, key in events:
        per_counter[counter_pk(tenant, event_type, key)] += 1
        per_counter[counter_pk(tenant, event_type, None)] += 1
    hour_key = hour_sort_key(received_at)
    expires_at = received_at // 1000 + hourly_retention_days * 86400
    increments = []
    for pk, amount in per_counter.items():
        increments.append(CounterIncrement(pk=pk, sk=TOTAL_SORT_KEY, amount=amount))
        increments.append(CounterIncrement(pk=pk, sk=hour_key, amount=amount, expires_at=expires_at))
    return increments


def hours_between(start: datetime, end: datetime) -> list[str]:
    """Hour labels from ``start`` to ``end`` inclusive, both truncated to the hour."""
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    last = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    labels = []
    hour = first
    while hour <= last:
        labels.append(hour.strftime("%Y-%m-%dT%H"))
        hour += timedelta(hours=1)
    return labels
