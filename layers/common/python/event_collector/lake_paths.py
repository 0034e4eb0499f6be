"""Lake object keys. Every component built from data is a validated identifier first.

- ``events/<event_type>/tenant=<t>/year=YYYY/month=MM/day=DD/hour=HH/<source id>.json.gz``
- ``quarantine/YYYY/MM/DD/HH/<source id>.json.gz``

``<source id>`` is derived from the source object (bucket, key, ETag), so a
replayed S3 event or a retried invocation writes the same keys again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from .identifiers import is_event_type, is_tenant_id

_RAW_HOUR = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})/")


@dataclass(frozen=True, order=True)
class Partition:
    event_type: str
    tenant: str
    year: str
    month: str
    day: str
    hour: str

    def __post_init__(self) -> None:
        # The last line of defence: a partition that could escape its prefix cannot exist.
        if not is_event_type(self.event_type) or not is_tenant_id(self.tenant):
            raise ValueError("partition values must be validated identifiers")

    @classmethod
    def of(cls, event_type: str, tenant: str, epoch_millis: int) -> Partition:
        moment = datetime.fromtimestamp(epoch_millis / 1000, tz=UTC)
        return cls(event_type, tenant, f"{moment:%Y}", f"{moment:%m}", f"{moment:%d}", f"{moment:%H}")

    def prefix(self, root: str = "events") -> str:
        return (
            f"{root}/{self.event_type}/tenant={self.tenant}/"
            f"year={self.year}/month={self.month}/day={self.day}/hour={self.hour}/"
        )


def source_id(bucket: str, key: str, etag: str) -> str:
    digest = hashlib.sha256(f"{bucket}\n{key}\n{etag.strip(chr(34))}".encode()).hexdigest()
    return digest[:32]


def event_object_key(partition: Partition, source: str) -> str:
    return f"{partition.prefix()}{source}.json.gz"


def quarantine_object_key(source_key: str, source: str, fallback: datetime) -> str:
    """Under the hour of the raw object (from its ``raw/YYYY/MM/DD/HH/`` key, else ``fallback``)."""
    found = _RAW_HOUR.search(source_key)
    year, month, day, hour = (
        found.groups() if found else (f"{fallback:%Y}", f"{fallback:%m}", f"{fallback:%d}", f"{fallback:%H}")
    )
    return f"quarantine/{year}/{month}/{day}/{hour}/{source}.json.gz"
