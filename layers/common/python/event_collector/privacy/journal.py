"""A deletion sweep's durable state: what it is doing, where it stopped, and a receipt per change it makes.

Everything lives under ``regulations/sweep/`` in the lake bucket (lake/layout.py) and holds request ids,
subjects (digests), object keys, counts and event ids, never a user's id:

- ``state.json``: the sweep's targets, its phase, the cursor of the pass in progress, per tenant;
- ``receipts/<area>/<digest>.json``: written *before* the change it describes (an object rewritten or
  removed, a counter deleted), saying what the change removes per request, and for compacted rows their
  event ids by day (the ledger step needs them once the rows are gone). A rerun rewrites the receipt of a
  change not made yet with the same content, and finds nothing to change (so writes no receipt) where the
  change was made: summing receipts counts every removal exactly once.

Removed once the sweep is over: a tenant's receipts when its regulations are marked applied, the state last.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from event_collector.lake.layout import (
    SWEEP_PREFIX,
    parse_receipt_key,
    receipt_key,
    receipts_prefix,
    sweep_state_key,
)
from event_collector.privacy.matching import Target
from event_collector.privacy.regulations import Kind, Regulation, Selector

TenantPhase = Literal["events", "compacted", "ledger", "counters", "done"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SweepTarget(_Model):
    request: str
    tenant: str
    kind: Kind
    selector: Selector
    subject: str
    requested_at: int
    until: int | None = None  # a suppression an unsuppress ended (matching.Target)

    @classmethod
    def of(cls, regulation: Regulation, until: int | None = None) -> SweepTarget:
        return cls(
            request=regulation.id,
            tenant=regulation.tenant,
            kind=regulation.kind,
            selector=regulation.selector,
            subject=regulation.subject,
            requested_at=regulation.requested_at,
            until=until,
        )

    @property
    def target(self) -> Target:
        return Target(self.request, self.tenant, self.kind, self.selector, self.subject, self.requested_at, self.until)

    @property
    def regulation(self) -> Regulation:
        return Regulation(
            self.request, self.tenant, self.kind, self.selector, self.subject, self.requested_at, status="applying"
        )


class TenantProgress(_Model):
    phase: TenantPhase = "events"
    after: str | None = None  # the last key the pass in progress finished


class SweepState(_Model):
    sweep: str  # the run that began it
    began_at: int
    targets: list[SweepTarget]
    phase: Literal["raw", "quarantine", "tenants"] = "raw"
    after: str | None = None
    lake_removed: dict[str, dict[str, int]] = Field(default_factory=dict)  # request -> prefix -> count
    tenants: dict[str, TenantProgress] = Field(default_factory=dict)


class Receipt(_Model):
    key: str  # what changed: an object's key, or "counter"
    removed: dict[str, dict[str, int]] = Field(default_factory=dict)  # request -> table or prefix -> count
    ids: dict[str, dict[str, list[str]]] = Field(default_factory=dict)  # request -> day -> event ids
    hours: list[tuple[str, int]] = Field(default_factory=list)  # (event type, hour start ms) that lost events


class JsonStore(Protocol):
    def listing(self, bucket: str, prefix: str, start_after: str | None = None) -> Iterable[tuple[str, str, int]]: ...
    def put_json(self, bucket: str, key: str, document: Any) -> None: ...
    def get_json(self, bucket: str, key: str) -> Any: ...
    def delete(self, bucket: str, keys: list[str]) -> None: ...


@dataclass(frozen=True)
class Journal:
    store: JsonStore
    bucket: str

    def load(self) -> SweepState | None:
        key = sweep_state_key()
        if not any(found == key for found, _, _ in self.store.listing(self.bucket, key)):
            return None  # listed first: a failing read must not pass for no sweep
        return SweepState.model_validate(self.store.get_json(self.bucket, key))

    def save(self, state: SweepState) -> None:
        self.store.put_json(self.bucket, sweep_state_key(), state.model_dump(mode="json"))

    def write(self, area: str, subject: str, receipt: Receipt) -> None:
        self.store.put_json(self.bucket, receipt_key(area, subject), receipt.model_dump(mode="json"))

    def written(self, area: str) -> set[str]:
        return {key for key, _, _ in self.store.listing(self.bucket, receipts_prefix(area))}

    def receipts(self, area: str) -> list[Receipt]:
        return [
            Receipt.model_validate(self.store.get_json(self.bucket, key))
            for key in sorted(self.written(area))
            if parse_receipt_key(key) is not None
        ]

    def forget(self, area: str) -> None:
        self.store.delete(self.bucket, sorted(self.written(area)))

    def end(self) -> None:
        """Remove the sweep: receipts first, the state last (a crash in between leaves a sweep to finish)."""
        keys = [key for key, _, _ in self.store.listing(self.bucket, SWEEP_PREFIX) if key != sweep_state_key()]
        self.store.delete(self.bucket, keys)
        self.store.delete(self.bucket, [sweep_state_key()])


def totals(receipts: Iterable[Receipt]) -> dict[str, dict[str, int]]:
    """Per request, per table or prefix: what the receipts say was removed."""
    summed: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for receipt in receipts:
        for request, counts in receipt.removed.items():
            for name, count in counts.items():
                summed[request][name] += count
    return {request: dict(counts) for request, counts in summed.items()}


def merged(*parts: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for part in parts:
        for request, counts in part.items():
            for name, count in counts.items():
                result[request][name] = result[request].get(name, 0) + count
    return dict(result)


class Budget(Protocol):
    def left(self) -> bool:
        """Whether there is time to start one more object."""
        ...


@dataclass(frozen=True)
class Deadline:
    """The Lambda's remaining time, less a margin for the object in hand and the final saves."""

    at: float  # time.monotonic()

    @classmethod
    def within(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def left(self) -> bool:
        return time.monotonic() < self.at


@dataclass
class Stats:
    objects_scanned: int = 0
    objects_rewritten: int = 0
    objects_removed: int = 0
    bytes_written: int = 0
    changed: list[str] = field(default_factory=list)  # every key rewritten or removed, in order
