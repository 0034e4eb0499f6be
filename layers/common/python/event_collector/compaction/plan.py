"""Plan: the tenants with closed, not yet compacted lake objects, as the Distributed Map's work items.

Plan reads only the queue of pending objects (:mod:`.queue`), so its cost
follows the work waiting, not the size or age of the lake. An object counts
once its hour ended at least the grace period ago (Firehose buffering and
late deliveries included); ``cutoff`` in the execution input replaces
``now - grace`` (backfills, ``make compact``).

Plan also counts the privacy regulations due (privacy/schedule.py) or being applied: with any, the run's
Regulate step runs, even when no tenant has objects to compact.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from event_collector.compaction.contracts import Plan, PlanRequest, WorkItem
from event_collector.lake.layout import run_items_prefix, run_results_prefix
from event_collector.lake.queue import WorkQueue
from event_collector.privacy.regulations import SUPPRESSION_CACHE_SECONDS, RegulationStore
from event_collector.privacy.schedule import is_due


def plan(
    request: PlanRequest,
    queue: WorkQueue,
    *,
    now: datetime,
    grace: timedelta,
    lake_bucket: str,
    max_concurrency: int,
    regulations: RegulationStore | None = None,
    firehose_buffer_seconds: int = 0,
    suppression_cache_seconds: int = SUPPRESSION_CACHE_SECONDS,
) -> tuple[Plan, list[WorkItem]]:
    cutoff = request.input.cutoff or now - grace
    limit = int(cutoff.timestamp())
    objects: dict[str, int] = defaultdict(int)
    sizes: dict[str, int] = defaultdict(int)
    waiting = 0
    for tenant, item in queue.all_pending():
        if item.closed_by(limit):
            objects[tenant] += 1
            sizes[tenant] += item.size
        else:
            waiting += 1
    items = [WorkItem(tenant=tenant, objects=objects[tenant], bytes=sizes[tenant]) for tenant in sorted(objects)]
    # A cutoff ahead of now (make compact, make smoke) must not make a regulation due before its events landed.
    cutoff_ms = int(min(cutoff, now).timestamp() * 1000)
    due = [
        regulation
        for regulation in (regulations.pending() if regulations is not None else [])
        if regulation.status == "applying"
        or is_due(regulation, cutoff_ms, firehose_buffer_seconds, suppression_cache_seconds)
    ]
    return (
        Plan(
            run_id=request.run_id,
            cutoff=cutoff,
            items=len(items),
            objects=sum(objects.values()),
            waiting=waiting,
            bucket=lake_bucket,
            items_prefix=run_items_prefix(request.run_id),
            results_prefix=run_results_prefix(request.run_id),
            max_concurrency=max_concurrency,
            regulations=len(due),
        ),
        items,
    )
