"""What the compaction workflow's steps hand each other, validated at each handler's edge.

    execution input -> Plan -> (manifest in S3) -> Map(Compact per tenant) -> results in S3
                    -> Regulate (when regulations wait) -> Refresh -> Report

Large lists never travel through the state: Plan writes the work items to a
manifest the Distributed Map reads (ItemReader), each Compact writes its
result to S3, and Refresh and Report read them from there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from event_collector.identifiers import is_event_type, is_tenant_id
from event_collector.lake.layout import parse_run_item_key


def _tenant(value: str) -> str:
    if not is_tenant_id(value):
        raise ValueError("not a tenant id")
    return value


def _event_type(value: str) -> str:
    if not is_event_type(value):
        raise ValueError("not an event type")
    return value


TenantId = Annotated[str, AfterValidator(_tenant)]
EventType = Annotated[str, AfterValidator(_event_type)]
RunId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,80}$")]


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunInput(BaseModel):
    """The execution's input: empty (the schedule), or a cutoff that replaces ``now - grace``."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    cutoff: datetime | None = None


class PlanRequest(_Contract):
    """Plan's input: the execution's name (the run id) and the execution's input."""

    run_id: RunId
    input: RunInput = Field(default_factory=RunInput)


class WorkItem(_Contract):
    """One line of Plan's manifest: a tenant with closed, not yet compacted lake objects."""

    tenant: TenantId
    objects: int = Field(ge=1)
    bytes: int = Field(ge=0)


class Plan(_Contract):
    run_id: RunId
    cutoff: datetime
    items: int = Field(ge=0)
    objects: int = Field(ge=0)
    waiting: int = Field(ge=0, description="Pending objects whose hour is not closed yet")
    bucket: str
    items_prefix: str = Field(description="One object per work item, listed by the Map's ItemReader")
    results_prefix: str
    max_concurrency: int = Field(ge=1)
    regulations: int = Field(
        default=0, ge=0, description="Regulations to apply or finish this run (privacy/sweep.py); Regulate runs if any"
    )
    # Every tenant is tried: one failing tenant never stops the others (the Report fails the run).
    tolerated_failure_percentage: int = Field(default=100, ge=0, le=100)


def _item_key(value: str) -> str:
    if parse_run_item_key(value) is None:
        raise ValueError("not a work item key")
    return value


ItemKey = Annotated[str, AfterValidator(_item_key)]


class CompactRequest(_Contract):
    """One Map item: the work item's key (it names the tenant), the run's id and cutoff from the plan."""

    item_key: ItemKey
    run_id: RunId
    cutoff: datetime

    @property
    def tenant(self) -> str:
        parsed = parse_run_item_key(self.item_key)
        assert parsed is not None  # validated above
        return parsed[1]


class RawPartitionRef(_Contract):
    event_type: EventType
    tenant: TenantId
    year: str
    month: str
    day: str
    hour: str


class CompactResult(_Contract):
    tenant: TenantId
    status: Literal["ok", "skipped", "failed"]
    engine: Literal["lambda", "athena", "none"] = "none"
    unit: str | None = None
    files_in: int = 0
    rows_in: int = 0
    rows_out: int = 0
    duplicates_removed: int = Field(default=0, description="Copies of an event id within this run's input")
    duplicates_already_compacted: int = Field(
        default=0, description="Events whose id was compacted before, within the dedup window"
    )
    files_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    bytes_scanned: int = Field(default=0, description="Bytes Athena scanned for a large unit (its cost)")
    ledger_ids_read: int = Field(default=0, description="Ids of the dedup window's ledger the Lambda engine read")
    raw_partitions: list[RawPartitionRef] = Field(default_factory=list)
    event_types: list[EventType] = Field(default_factory=list)
    error: str | None = None


class FailureRecord(_Contract):
    """What the item processor's Catch hands the Report function to record: a tenant that failed."""

    run_id: RunId
    item_key: ItemKey
    error: dict[str, Any] = Field(default_factory=dict)

    @property
    def tenant(self) -> str:
        parsed = parse_run_item_key(self.item_key)
        assert parsed is not None
        return parsed[1]


class RefreshRequest(_Contract):
    plan: Plan


class RegulateRequest(_Contract):
    """Regulate's input: the run's plan (its id names the result, its cutoff says which requests are due)."""

    plan: Plan


class RegulationOutcome(_Contract):
    """What a run did for one regulation: named by its request id, never by the user's."""

    request: str
    tenant: TenantId
    status: Literal["applied", "applying", "failed"]
    removed: dict[str, int] = Field(default_factory=dict)
    error: str | None = None


class RegulateResult(_Contract):
    """``compaction/runs/<run>/regulations.json``: Report counts it; a failed regulation fails the run."""

    run_id: RunId
    sweep: str | None = Field(default=None, description="The run that began the sweep this run worked on")
    complete: bool = True
    applied: int = 0
    failed: int = 0
    in_progress: int = Field(default=0, description="Regulations of the sweep left for the next run (time, a lease)")
    waiting: int = Field(default=0, description="Requests not due yet: their events may still be on their way")
    queued: int = Field(
        default=0, description="Requests due but not in the sweep under way: the next sweep takes them, once it ends"
    )
    objects_scanned: int = 0
    objects_rewritten: int = 0
    objects_removed: int = 0
    bytes_written: int = 0
    outcomes: list[RegulationOutcome] = Field(default_factory=list)


class FailedRun(BaseModel):
    """The state of a run that took the failure path: whatever it had (maybe no plan) and the error."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    plan: Plan | None = None
    error: dict[str, Any] = Field(default_factory=dict)


class ReportRequest(_Contract):
    """Report's input: a finished run's plan, a failed run's state, or a tenant failure to record."""

    plan: Plan | None = None
    failed_run: FailedRun | None = None
    record_failure: FailureRecord | None = None


TOTALS = (
    "files_in",
    "files_out",
    "rows_in",
    "rows_out",
    "duplicates_removed",
    "duplicates_already_compacted",
    "bytes_in",
    "bytes_out",
    "bytes_scanned",
)


class Report(_Contract):
    run_id: str | None
    items: int = 0
    ok: int = 0
    skipped: int = 0
    failed: int = 0
    files_in: int = 0
    files_out: int = 0
    rows_in: int = 0
    rows_out: int = 0
    duplicates_removed: int = 0
    duplicates_already_compacted: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    bytes_scanned: int = 0
    failures: list[dict[str, Any]] = Field(default_factory=list)
    regulations_applied: int = 0
    regulations_failed: int = 0
    regulations_in_progress: int = 0
    regulations_queued: int = 0
    regulation_failures: list[dict[str, Any]] = Field(default_factory=list)
    run_error: dict[str, Any] | None = None
