"""Daily counts of one event type over up to 366 UTC days (``GET /v1/counts/daily``, the dashboard's long ranges).

Each day is answered from the best thing that holds it:

- ``compacted``: the day's rollup item (counts/rollups.py), written by compaction: exact events, distinct
  sessions and users, and the day's top keys. Kept ten years;
- ``realtime``: no rollup, but the type's total counter (``*``) still holds the day (it expires after
  ``CounterRetentionDays``): its hours summed; sessions and users unknown (null). Today (UTC) is always
  read here: a day not yet over is compacted an hour at a time, so its rollup holds only its first hours;
- neither: ``source`` null and 0 events (no events, or a day older than the counters keep that no
  compaction rolled up).

Top keys are summed over the compacted days' stored top lists (:data:`~rollups.TOP_KEYS` a day), so a key
outside some day's top list is under-counted by that day's events (exact when no day had more keys).

Every parameter is checked first, so no query string makes this raise anything but :class:`ClientInputError`
(a 400 naming the parameter) or a storage error (a 503). Plain functions over the ``RollupStore`` and
``CounterReader`` ports: no AWS here.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from event_collector.counts.layout import ALL_KEYS, counter_pk
from event_collector.counts.queries import CounterReader, OwnedTypes, check_event_type
from event_collector.counts.rollups import TOP_KEYS, DayRollup, RollupStore
from event_collector.errors import ClientInputError

DEFAULT_DAYS = 30
MAX_DAYS = 366
DEFAULT_LIMIT = 10
MAX_LIMIT = TOP_KEYS
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
DAY_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

Source = Literal["compacted", "realtime"]


class DayCount(BaseModel):
    day: str = Field(description="The UTC day, YYYY-MM-DD")
    events: int = Field(description="Events that day (0 when source is null)")
    sessions: int | None = Field(description="Distinct session_id that day (compacted days only, else null)")
    users: int | None = Field(description="Distinct user_id or anonymous_id that day (compacted days only, else null)")
    source: Source | None = Field(
        description=(
            "compacted: the day's rollup, exact; realtime: the real-time counters' hours (no rollup yet, or "
            "today); null: neither holds the day"
        )
    )


class KeyTotal(BaseModel):
    key: str = Field(description="The key (URL, button id, name), or its SHA-256 hex when kind is hashed")
    kind: Literal["key", "hashed"] = Field(description="hashed: a key over 1,000 UTF-8 bytes, by its SHA-256")
    events: int = Field(description="Its events summed over the compacted days whose top 100 it is in")


class DailyCountsResult(BaseModel):
    """One event type's UTC days, oldest first, and its top keys over the compacted days."""

    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)

    tenant: str
    event_type: str
    first_day: str = Field(alias="from", description="The first day of the range, YYYY-MM-DD")
    last_day: str = Field(alias="to", description="The last day of the range, YYYY-MM-DD")
    days: list[DayCount] = Field(description="Every day of the range, oldest first")
    total: int = Field(description="The days' events summed")
    keys: list[KeyTotal] = Field(
        description=(
            "The top keys over the compacted days, most events first (then by key); a key outside a day's stored "
            "top 100 is under-counted by that day's events (exact when no day had more than 100 keys)"
        )
    )


def _bad(message: str) -> ClientInputError:
    return ClientInputError(400, "invalid_query", message)


def parse_day(value: str, name: str) -> date:
    """A UTC day, ``YYYY-MM-DD`` exactly (ASCII digits), between 2000-01-01 and 2099-12-31."""
    problem = f"'{name}' must be a UTC day YYYY-MM-DD between {FIRST_DAY} and {LAST_DAY}"
    if not DAY_PATTERN.fullmatch(value):
        raise _bad(problem)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise _bad(problem) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise _bad(problem)
    return day


def parse_limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not (value.isascii() and value.isdigit() and len(value) <= 3 and int(value) <= MAX_LIMIT):
        raise _bad(f"'limit' must be a whole number from 0 to {MAX_LIMIT}")
    return int(value)


def day_range(start: str | None, end: str | None, today: date) -> list[date]:
    """The days from ``start`` to ``end`` inclusive; ``end`` defaults to today, ``start`` to the
    :data:`DEFAULT_DAYS` days ending with ``end``."""
    last = parse_day(end, "to") if end is not None else today
    first = parse_day(start, "from") if start is not None else max(FIRST_DAY, last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise _bad("'from' must not be after 'to'")
    span = (last - first).days + 1
    if span > MAX_DAYS:
        raise _bad(f"the range spans at most {MAX_DAYS} days ('from' to 'to' inclusive), not {span}")
    return [first + timedelta(days=offset) for offset in range(span)]


def realtime_days(counters: CounterReader, tenant: str, event_type: str, days: list[str]) -> dict[str, int]:
    """The events of the days the type's total counter holds (one Query from the first to the last)."""
    if not days:
        return {}
    hours = counters.hourly(counter_pk(tenant, event_type, ALL_KEYS), f"{days[0]}T00", f"{days[-1]}T23")
    wanted = set(days)
    found: dict[str, int] = {}
    for label, count in hours.items():
        if label[:10] in wanted:
            found[label[:10]] = found.get(label[:10], 0) + count
    return found


def top_keys(rollups: list[DayRollup], limit: int) -> list[KeyTotal]:
    summed: Counter[tuple[str, bool]] = Counter()
    for rollup in rollups:
        for entry in rollup.top:
            summed[(entry.key, entry.hashed)] += entry.events
    ranked = sorted(summed.items(), key=lambda found: (-found[1], found[0][0], found[0][1]))
    return [
        KeyTotal(key=key, kind="hashed" if hashed else "key", events=events) for (key, hashed), events in ranked[:limit]
    ]


def read_daily(
    rollups: RollupStore,
    counters: CounterReader,
    *,
    tenant: str,
    event_type: str,
    start: str | None,
    end: str | None,
    limit: str | None,
    now: datetime,
    owns: OwnedTypes | None = None,
) -> DailyCountsResult:
    """``now``: the request's instant (UTC), which names today; ``owns``: the tenant's own types (None:
    built-in types only)."""
    check_event_type(event_type, owns)
    today = now.date().isoformat()
    days = [day.isoformat() for day in day_range(start, end, now.date())]
    top = parse_limit(limit)
    stored = rollups.rollups(tenant, event_type, days[0], days[-1])
    compacted = {rollup.day: rollup for rollup in stored if rollup.day < today}
    realtime = realtime_days(counters, tenant, event_type, [day for day in days if day not in compacted])
    answered: list[DayCount] = []
    for day in days:
        if day in compacted:
            found = compacted[day]
            answered.append(
                DayCount(day=day, events=found.events, sessions=found.sessions, users=found.users, source="compacted")
            )
        elif day in realtime:
            answered.append(DayCount(day=day, events=realtime[day], sessions=None, users=None, source="realtime"))
        else:
            answered.append(DayCount(day=day, events=0, sessions=None, users=None, source=None))
    return DailyCountsResult(
        tenant=tenant,
        event_type=event_type,
        first_day=days[0],
        last_day=days[-1],
        days=answered,
        total=sum(day.events for day in answered),
        keys=top_keys(list(compacted.values()), top),
    )
