"""Daily rollups as the API reads them: one DynamoDB item per tenant, event type and day (docs/querying.md).

Compaction keeps the lake's ``daily_counts`` table (compaction/rollup.py): for every (tenant, day) a run
touched, one row per event type and key with its events, distinct sessions and distinct users, exact
after dedup. The request path never reads Parquet, so the same computation also writes each (tenant,
event type, day) here, in the counters table, for ``GET /v1/counts/daily`` and the dashboard:

- ``pk = <tenant>#<event_type>#rollup``, ``sk = day#YYYY-MM-DD`` (the UTC day of ``received_at``, as the
  lake's partitions). ``rollup`` has no ``:``, so it is never an encoded counter key (``k:``, ``h:``,
  ``o:``, ``*``) and no counter shares the item;
- ``events``, ``sessions``, ``users``: the type's day (sessions and users distinct over the whole day,
  so they are not the sums of the keys');
- ``keys``: how many distinct keys the day had; ``top``: the :data:`TOP_KEYS` keys with the most
  events (then by key), each with its events, sessions and users. A key over 1,000 UTF-8 bytes is
  stored as its SHA-256 (``hashed``), as the counters do; events without a key are in the totals only;
- ``expires_at``: :data:`ROLLUP_RETENTION_DAYS` after the day. A rollup item is small and there is one
  per type and day, so it outlives the hourly counters (``CounterRetentionDays``) by design: it is what
  answers for the days they no longer keep.

A recomputed day replaces its items whole; a type the day no longer has (a privacy deletion removed
its every event) loses its item.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from event_collector.counts.layout import DAY_PREFIX, MAX_RAW_KEY_BYTES

ROLLUP = "rollup"
TOP_KEYS = 100
ROLLUP_RETENTION_DAYS = 3653  # ten years: one small item per type and day


@dataclass(frozen=True)
class KeyCount:
    """One key's day: ``key`` is the key itself, or its SHA-256 hex when ``hashed``."""

    key: str
    events: int
    sessions: int
    users: int
    hashed: bool = False


@dataclass(frozen=True)
class DayRollup:
    tenant: str
    event_type: str
    day: str  # YYYY-MM-DD (UTC)
    events: int
    sessions: int
    users: int
    keys: int  # distinct keys that day (events without a key not counted as one)
    top: tuple[KeyCount, ...] = ()  # at most TOP_KEYS, most events first, then by key


class RollupStore(Protocol):
    """Where compaction writes a day's rollups and the API reads them (the counters table in the cloud)."""

    def put_rollups(self, rollups: Sequence[DayRollup]) -> None: ...
    def delete_rollups(self, tenant: str, day: str, event_types: Sequence[str]) -> None: ...
    def rollups(self, tenant: str, event_type: str, first_day: str, last_day: str) -> list[DayRollup]: ...


def rollup_pk(tenant: str, event_type: str) -> str:
    return f"{tenant}#{event_type}#{ROLLUP}"


def rollup_sk(day: str) -> str:
    return DAY_PREFIX + day


def top_entry(key: str, events: int, sessions: int, users: int) -> KeyCount:
    """A key as stored: itself, or its SHA-256 when over 1,000 UTF-8 bytes."""
    raw = key.encode("utf-8", errors="surrogatepass")
    if len(raw) > MAX_RAW_KEY_BYTES:
        return KeyCount(hashlib.sha256(raw).hexdigest(), events, sessions, users, hashed=True)
    return KeyCount(key, events, sessions, users)


def expires_at(day: str) -> int:
    end = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC) + timedelta(days=1)
    return int((end + timedelta(days=ROLLUP_RETENTION_DAYS)).timestamp())


def to_item(rollup: DayRollup) -> dict[str, Any]:
    """The DynamoDB item (attribute values) of a day's rollup."""
    return {
        "pk": {"S": rollup_pk(rollup.tenant, rollup.event_type)},
        "sk": {"S": rollup_sk(rollup.day)},
        "events": {"N": str(rollup.events)},
        "sessions": {"N": str(rollup.sessions)},
        "users": {"N": str(rollup.users)},
        "keys": {"N": str(rollup.keys)},
        "top": {
            "L": [
                {
                    "M": {
                        "k": {"S": entry.key},
                        "h": {"BOOL": entry.hashed},
                        "n": {"N": str(entry.events)},
                        "s": {"N": str(entry.sessions)},
                        "u": {"N": str(entry.users)},
                    }
                }
                for entry in rollup.top
            ]
        },
        "expires_at": {"N": str(expires_at(rollup.day))},
    }


def from_item(item: dict[str, Any]) -> DayRollup:
    tenant, event_type, _ = item["pk"]["S"].split("#")
    top = tuple(
        KeyCount(
            key=entry["M"]["k"]["S"],
            events=int(entry["M"]["n"]["N"]),
            sessions=int(entry["M"]["s"]["N"]),
            users=int(entry["M"]["u"]["N"]),
            hashed=entry["M"]["h"]["BOOL"],
        )
        for entry in item.get("top", {}).get("L", [])
    )
    return DayRollup(
        tenant=tenant,
        event_type=event_type,
        day=item["sk"]["S"].removeprefix(DAY_PREFIX),
        events=int(item["events"]["N"]),
        sessions=int(item["sessions"]["N"]),
        users=int(item["users"]["N"]),
        keys=int(item["keys"]["N"]),
        top=top,
    )
