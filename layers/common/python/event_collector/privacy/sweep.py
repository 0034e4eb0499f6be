"""Deletion sweeps: every copy of the events a due regulation covers, removed from every prefix and table.

The compaction workflow's Regulate step (after the Map, before Refresh) runs :func:`apply_regulations`.
One sweep at a time (a lease), over the ``delete`` and ``suppress`` requests due when it began
(privacy/schedule.py), in this order, every pass resumable from a cursor (docs/privacy.md):

1. ``raw/`` in the raw bucket, every version: first, so nothing fanned out again later brings a line back;
2. ``quarantine/``;
3. per tenant, its compaction lease held (no Compact runs beside it):
   a. ``events/`` objects, before the compacted files, so a Compact of a pending object between two runs of
      the sweep compacts no line the sweep removes;
   b. ``compacted/`` files, decided on their matched columns alone;
   c. the ledger, with the removed rows' event ids read back from the receipts (journal.py);
   d. the counters: the hours that lost events recounted, counters keyed by the user's id deleted;
   then the tenant's requests are marked ``applied`` with what was removed, and its receipts removed.

Each rewrite is one PUT of the whole filtered object in place (or a delete), preceded by its receipt, so a
sweep interrupted anywhere and run again removes everything and loses no one else's event (the fault tests
crash it at every write). A run stops starting objects when its budget (the Lambda's time) runs out; the
next run resumes. Requests that arrive meanwhile wait for the next sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from event_collector.compaction.contracts import RegulateRequest, RegulateResult, RegulationOutcome
from event_collector.errors import CollectorError
from event_collector.lake.layout import QUARANTINE_AREA, RAW_AREA, tenant_area
from event_collector.privacy.journal import (
    Budget,
    Journal,
    Stats,
    SweepState,
    SweepTarget,
    TenantProgress,
    merged,
    totals,
)
from event_collector.privacy.matching import Matcher
from event_collector.privacy.passes import (
    Context,
    Deletion,
    compacted_pass,
    counters_pass,
    events_pass,
    ledger_pass,
    quarantine_pass,
    raw_pass,
    rollups_pass,
)
from event_collector.privacy.regulations import Regulation, RegulationStore, request_id
from event_collector.privacy.schedule import is_due

SWEEP_LOCK = "*regulations"  # not a tenant id: the lease that keeps sweeps one at a time
LEASE_SECONDS = 16 * 60  # longer than the Regulate function's 15-minute timeout
# Once a tenant's compacted files lost the user's rows, its ledger still lists their ids until the ledger pass
# ends: a Compact then would drop a resend the user sent after the request as a duplicate. So from the end of
# the compacted pass the sweep keeps the tenant's lease, across runs, stopped or crashed, until its ledger is
# done (Compact leaves the tenant pending meanwhile); at most this long, should the sweep never resume.
HOLD_SECONDS = 24 * 3600
HELD_PHASES = frozenset({"ledger", "counters"})
MAX_TARGETS = 1000  # regulations per sweep; more wait for the next one
MAX_OUTCOMES = 100  # listed in a run's result (the counts cover them all)


def apply_regulations(
    request: RegulateRequest, deletion: Deletion, regulations: RegulationStore, *, now: datetime, budget: Budget
) -> tuple[RegulateResult, Stats]:
    run_id = request.plan.run_id
    now_s = int(now.timestamp())
    cutoff_ms = int(min(request.plan.cutoff, now).timestamp() * 1000)  # never ahead of the clock (schedule.py)
    journal = Journal(deletion.lake, deletion.lake_bucket)
    stats = Stats()
    pending = regulations.pending()
    outcomes: dict[str, RegulationOutcome] = {}
    for regulation in pending:
        if regulation.kind == "unsuppress":  # it ends a suppression (the store did that): nothing to remove
            regulations.mark(regulation, "applied", {}, now_s * 1000)
            outcomes[regulation.id] = RegulationOutcome(
                request=regulation.id, tenant=regulation.tenant, status="applied"
            )
    removable = [r for r in pending if r.kind != "unsuppress"]
    delays = (deletion.firehose_buffer_seconds, deletion.suppression_cache_seconds)
    due = [r for r in removable if is_due(r, cutoff_ms, *delays)]
    waiting = len(removable) - len(due)
    if not deletion.state.acquire_lease(SWEEP_LOCK, run_id, now_s, now_s + LEASE_SECONDS):
        return _result(run_id, None, outcomes, waiting, stats, complete=False), stats
    try:
        sweep = journal.load()
        if sweep is not None:
            for target in sweep.targets:  # an unsuppress asked since the sweep began ends its window now
                if target.kind == "suppress":
                    target.until = ended_at(target.regulation, regulations)
        else:
            sweep = _begin(run_id, due, regulations, journal, now_s * 1000)
        if sweep is None:
            return _result(run_id, None, outcomes, waiting, stats), stats
        context = Context(deletion, sweep, journal, budget, stats, now)
        _sweep(context, regulations, outcomes, run_id, now_s)
        complete = all(progress.phase == "done" for progress in sweep.tenants.values())
        if complete:
            journal.end()
        for target in sweep.targets:
            outcomes.setdefault(
                target.request, RegulationOutcome(request=target.request, tenant=target.tenant, status="applying")
            )
        swept = {target.request for target in sweep.targets}
        queued = sum(regulation.id not in swept for regulation in due)
        result = _result(run_id, sweep.sweep, outcomes, waiting, stats, complete=complete, queued=queued)
        return result, stats
    finally:
        deletion.state.release_lease(SWEEP_LOCK, run_id)


def _begin(
    run_id: str, due: list[Regulation], regulations: RegulationStore, journal: Journal, now_ms: int
) -> SweepState | None:
    chosen = sorted(due, key=lambda r: (r.requested_at, r.id))[:MAX_TARGETS]
    if not chosen:
        return None
    for regulation in chosen:  # before the first rewrite; a crash before the save begins again, with them
        regulations.mark(regulation, "applying", {}, now_ms)
    sweep = SweepState(
        sweep=run_id,
        began_at=now_ms,
        targets=[SweepTarget.of(regulation, ended_at(regulation, regulations)) for regulation in chosen],
        tenants={regulation.tenant: TenantProgress() for regulation in chosen},
    )
    journal.save(sweep)
    return sweep


def ended_at(regulation: Regulation, regulations: RegulationStore) -> int | None:
    """When an ``unsuppress`` asked after this ``suppress`` ended it (epoch ms), if one did: the user's
    events received from then on were stored with consent and stay. A suppress asked anew after that
    unsuppress has the later ``requested_at``, so its suppression is open-ended again."""
    if regulation.kind != "suppress":
        return None
    ended = regulations.get(
        regulation.tenant, request_id(regulation.tenant, "unsuppress", regulation.selector, regulation.subject)
    )
    if ended is None or ended.requested_at <= regulation.requested_at:
        return None
    return ended.requested_at


def _sweep(
    context: Context, regulations: RegulationStore, outcomes: dict[str, RegulationOutcome], run_id: str, now_s: int
) -> None:
    sweep, state = context.sweep, context.deletion.state
    matcher = Matcher(target.target for target in sweep.targets)
    try:
        if not _lake(context, matcher):
            return
    except Exception as error:  # noqa: BLE001 - every request of the sweep failed this run; retried next run
        context.journal.save(sweep)
        _failed(outcomes, sweep.targets, error)
        return
    owner = lease_owner(sweep.sweep)  # the same in every run of this sweep: it takes back what it held
    for tenant, progress in sorted(sweep.tenants.items()):
        if progress.phase == "done":
            continue
        if not context.budget.left():
            return
        until = now_s + (HOLD_SECONDS if progress.phase in HELD_PHASES else LEASE_SECONDS)
        if not state.acquire_lease(tenant, owner, now_s, until):
            continue  # a Compact of an overlapping run has the tenant: the next run goes on
        mine = [target for target in sweep.targets if target.tenant == tenant]

        def hold(phase: str, tenant: str = tenant) -> None:
            if phase in HELD_PHASES:
                state.acquire_lease(tenant, owner, now_s, now_s + HOLD_SECONDS)

        try:
            if _tenant(context, matcher.of_tenant(tenant), tenant, progress, on_phase=hold):
                _applied(context, regulations, mine, outcomes, now_s * 1000)
        except Exception as error:  # noqa: BLE001 - this tenant's requests failed this run; the others go on
            context.journal.save(sweep)
            _failed(outcomes, mine, error)
        finally:
            if progress.phase not in HELD_PHASES:
                state.release_lease(tenant, owner)


def _lake(context: Context, matcher: Matcher) -> bool:
    sweep, journal = context.sweep, context.journal
    if sweep.phase == "raw":
        if not raw_pass(context, matcher):
            return False
        sweep.phase, sweep.after = "quarantine", None
        journal.save(sweep)
    if sweep.phase == "quarantine":
        if not quarantine_pass(context, matcher):
            return False
        sweep.lake_removed = merged(totals(journal.receipts(RAW_AREA)), totals(journal.receipts(QUARANTINE_AREA)))
        sweep.phase, sweep.after = "tenants", None
        journal.save(sweep)  # the sums are in the state: the receipts may go
        journal.forget(RAW_AREA)
        journal.forget(QUARANTINE_AREA)
    return True


def lease_owner(sweep: str) -> str:
    """Who holds a tenant's compaction lease for a sweep (Compact's owners are run ids)."""
    return f"sweep:{sweep}"


def _tenant(
    context: Context,
    matcher: Matcher,
    tenant: str,
    progress: TenantProgress,
    on_phase: Callable[[str], None] = lambda phase: None,
) -> bool:
    passes = {
        "events": lambda: events_pass(context, matcher, tenant, progress),
        "compacted": lambda: compacted_pass(context, matcher, tenant, progress),
        "ledger": lambda: ledger_pass(context, tenant, progress),
    }
    following = {"events": "compacted", "compacted": "ledger", "ledger": "counters"}
    while progress.phase in passes:
        if not passes[progress.phase]():
            return False
        progress.phase, progress.after = following[progress.phase], None  # type: ignore[assignment]
        on_phase(progress.phase)  # before the save: a crash after it finds the lease already held
        context.journal.save(context.sweep)
    counters_pass(context, matcher, tenant)
    rollups_pass(context, tenant)
    return True


def _applied(
    context: Context,
    regulations: RegulationStore,
    targets: list[SweepTarget],
    outcomes: dict[str, RegulationOutcome],
    now_ms: int,
) -> None:
    sweep, tenant = context.sweep, targets[0].tenant
    removed = merged(
        {target.request: sweep.lake_removed.get(target.request, {}) for target in targets},
        totals(context.journal.receipts(tenant_area(tenant))),
    )
    for target in targets:
        counts = removed.get(target.request, {})
        regulations.mark(target.regulation, "applied", counts, now_ms)
        outcomes[target.request] = RegulationOutcome(
            request=target.request, tenant=tenant, status="applied", removed=counts
        )
    sweep.tenants[tenant].phase = "done"
    context.journal.save(sweep)
    context.journal.forget(tenant_area(tenant))  # its event ids are no longer needed


def _failed(outcomes: dict[str, RegulationOutcome], targets: Iterable[SweepTarget], error: Exception) -> None:
    # Our own errors say what failed where (object keys, error codes); anything else only by its type, so no
    # value from the data (a user's id in a parse error) reaches a report or a log.
    message = str(error)[:500] if isinstance(error, CollectorError) else type(error).__name__
    for target in targets:
        outcomes[target.request] = RegulationOutcome(
            request=target.request, tenant=target.tenant, status="failed", error=message
        )


def _result(
    run_id: str,
    sweep: str | None,
    outcomes: dict[str, RegulationOutcome],
    waiting: int,
    stats: Stats,
    *,
    complete: bool = True,
    queued: int = 0,
) -> RegulateResult:
    listed = sorted(outcomes.values(), key=lambda outcome: (outcome.status != "failed", outcome.request))
    return RegulateResult(
        run_id=run_id,
        sweep=sweep,
        complete=complete,
        applied=sum(outcome.status == "applied" for outcome in listed),
        failed=sum(outcome.status == "failed" for outcome in listed),
        in_progress=sum(outcome.status == "applying" for outcome in listed),
        waiting=waiting,
        queued=queued,
        objects_scanned=stats.objects_scanned,
        objects_rewritten=stats.objects_rewritten,
        objects_removed=stats.objects_removed,
        bytes_written=stats.bytes_written,
        outcomes=listed[:MAX_OUTCOMES],
    )
