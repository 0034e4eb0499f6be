"""Read real-time counts for one tenant: a total plus an hourly series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from .counters import MAX_SERIES_HOURS, counter_pk, hours_between
from .errors import ClientInputError
from .identifiers import has_control_characters
from .models import EVENT_MODELS, CountsResult, HourlyCount

DEFAULT_SERIES_HOURS = 24
MAX_KEY_LENGTH = 2048


class CounterReader(Protocol):
    def total(self, pk: str) -> int: ...
    def hourly(self, pk: str, first_hour: str, last_hour: str) -> dict[str, int]: ...


def parse_instant(value: str, name: str) -> datetime:
    """Epoch milliseconds or ISO 8601 with a time zone."""
    try:
        if value.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise ClientInputError(400, "invalid_query", f"'{name}' must be epoch milliseconds or ISO 8601") from None
    if parsed.tzinfo is None:
        raise ClientInputError(400, "invalid_query", f"'{name}' must carry a time zone")
    return parsed


def check_counter_query(event_type: str, key: str | None) -> None:
    if event_type not in EVENT_MODELS:
        raise ClientInputError(400, "invalid_query", f"'event_type' must be one of {', '.join(sorted(EVENT_MODELS))}")
    if key is not None and (not key or len(key) > MAX_KEY_LENGTH or has_control_characters(key)):
        raise ClientInputError(400, "invalid_query", f"'key' must be 1-{MAX_KEY_LENGTH} printable characters")


def read_total(reader: CounterReader, tenant: str, event_type: str, key: str) -> int:
    check_counter_query(event_type, key)
    return reader.total(counter_pk(tenant, event_type, key))


def read_counts(
    reader: CounterReader,
    *,
    tenant: str,
    event_type: str,
    key: str | None,
    start: str | None,
    end: str | None,
    now: datetime,
) -> CountsResult:
    check_counter_query(event_type, key)
    last = parse_instant(end, "to") if end else now
    first = parse_instant(start, "from") if start else last - timedelta(hours=DEFAULT_SERIES_HOURS - 1)
    if first > last:
        raise ClientInputError(400, "invalid_query", "'from' must not be after 'to'")
    if last - first >= timedelta(hours=MAX_SERIES_HOURS):
        raise ClientInputError(400, "invalid_query", f"the range spans at most {MAX_SERIES_HOURS} hours")
    labels = hours_between(first, last)
    pk = counter_pk(tenant, event_type, key)
    found = reader.hourly(pk, labels[0], labels[-1])
    hourly = [HourlyCount(hour=f"{label}:00:00Z", count=found.get(label, 0)) for label in labels]
    return CountsResult(event_type=event_type, key=key, total=reader.total(pk), hourly=hourly)
