"""Lake objects and the day partitions compaction works on."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..identifiers import is_event_type, is_tenant_id

_EVENT_OBJECT = re.compile(
    r"^events/(?P<event_type>[a-z][a-z0-9_]{0,63})/tenant=(?P<tenant>[a-z0-9][a-z0-9-]{1,62})/"
    r"year=(?P<year>\d{4})/month=(?P<month>\d{2})/day=(?P<day>\d{2})/hour=(?P<hour>\d{2})/[^/]+\.json\.gz$"
)


@dataclass(frozen=True, order=True)
class DayPartition:
    event_type: str
    tenant: str
    year: str
    month: str
    day: str

    def __post_init__(self) -> None:
        if not (is_event_type(self.event_type) and is_tenant_id(self.tenant)):
            raise ValueError("partition values must be validated identifiers")
        for value, digits in ((self.year, 4), (self.month, 2), (self.day, 2)):
            if not (value.isdigit() and len(value) == digits):
                raise ValueError("year, month and day must be zero-padded digits")

    @property
    def id(self) -> str:
        return f"{self.event_type}#{self.tenant}#{self.year}-{self.month}-{self.day}"

    @property
    def raw_prefix(self) -> str:
        return f"events/{self.event_type}/tenant={self.tenant}/year={self.year}/month={self.month}/day={self.day}/"

    def as_dict(self) -> dict[str, str]:
        return {
            "event_type": self.event_type,
            "tenant": self.tenant,
            "year": self.year,
            "month": self.month,
            "day": self.day,
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> DayPartition:
        return cls(**{field: str(value[field]) for field in ("event_type", "tenant", "year", "month", "day")})


@dataclass(frozen=True)
class LakeObject:
    key: str
    etag: str
    size: int
    partition: DayPartition
    hour: str

    @property
    def hour_end(self) -> datetime:
        p = self.partition
        start = datetime(int(p.year), int(p.month), int(p.day), int(self.hour), tzinfo=UTC)
        return start + timedelta(hours=1)


def parse_lake_object(key: str, etag: str, size: int) -> LakeObject | None:
    """A fan-out output object, or None for anything else under events/."""
    found = _EVENT_OBJECT.match(key)
    if not found:
        return None
    partition = DayPartition(found["event_type"], found["tenant"], found["year"], found["month"], found["day"])
    return LakeObject(key=key, etag=etag.strip('"'), size=size, partition=partition, hour=found["hour"])


def closed(objects: Iterable[LakeObject], cutoff: datetime) -> list[LakeObject]:
    """Objects whose hour ended at or before ``cutoff`` (now minus the grace period)."""
    return [item for item in objects if item.hour_end <= cutoff]


def fingerprint(objects: Iterable[LakeObject]) -> str:
    """Changes whenever an object is added, replaced or removed; independent of listing order."""
    digest = hashlib.sha256()
    for item in sorted(objects, key=lambda o: o.key):
        digest.update(f"{item.key}\n{item.etag}\n".encode())
    return digest.hexdigest()
