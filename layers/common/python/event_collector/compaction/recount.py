"""Recount the hours a compacted unit touched from the tenant's ledger (counts/recount.py has the why).

Run by Compact once the unit is committed and before its objects are marked done: a recount that fails
fails the Compact, so the objects stay pending and a retry (or the next run) compacts them again (no
row is written twice: the ledger drops them) and recounts. Each hour is recounted from every ledger
file of its day, whoever wrote it (the Lambda engine or Athena): the counts are the day's compacted
events, never only this unit's. Row groups whose receive times miss the recounted hours are skipped
(their statistics say so), and only three columns are read.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import pyarrow.parquet as pq

from event_collector.compaction.contracts import RawPartitionRef
from event_collector.counts.layout import HOUR_MS
from event_collector.counts.record import CountingLimits
from event_collector.counts.recount import RecountOutcome, RecountStore, recount_day
from event_collector.lake.layout import Day, ledger_prefix, parse_ledger_object_key

LEDGER_BATCH_ROWS = 256 * 1024
COLUMNS = ("event_type", "received_at", "counter_key")


class LakeFiles(Protocol):
    """What a recount reads of the lake (the compaction's store has both)."""

    def listing(self, bucket: str, prefix: str) -> Iterable[tuple[str, str, int]]: ...
    def get_file(self, bucket: str, key: str, path: str) -> None: ...


@dataclass(frozen=True)
class Recount:
    """Where counters are set, and with which limits (the counting functions' own)."""

    store: RecountStore
    limits: CountingLimits


def recount_partitions(
    partitions: Sequence[RawPartitionRef],
    tenant: str,
    recounter: Recount,
    lake: LakeFiles,
    bucket: str,
    *,
    now: datetime,
) -> list[RecountOutcome]:
    """Set the counters of every (event type, hour) of ``partitions`` to the day ledgers' exact counts."""
    by_day: dict[Day, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for partition in partitions:
        if partition.tenant == tenant:
            by_day[Day(partition.year, partition.month, partition.day)][partition.event_type].add(_hour_ms(partition))
    outcomes = []
    for day, wanted in sorted(by_day.items()):
        hours = {hour for starts in wanted.values() for hour in starts}
        rows = _ledger_rows(lake, bucket, tenant, day, min(hours), max(hours) + HOUR_MS)
        outcomes.append(
            recount_day(
                tenant,
                day.iso,
                dict(wanted),
                rows,
                recounter.store,
                limits=recounter.limits,
                now=int(now.timestamp()),
            )
        )
    return outcomes


def _ledger_rows(
    lake: LakeFiles, bucket: str, tenant: str, day: Day, first: int, end: int
) -> Iterator[tuple[str, int, str | None, bool]]:
    """(event type, received_at, counter key, whether the file had counter keys) of the day's compacted
    events received in ``[first, end)``, a row group at a time."""
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "ledger.parquet")
        for key, _, size in lake.listing(bucket, ledger_prefix(tenant, day)):
            if parse_ledger_object_key(key) is None or size == 0:
                continue
            lake.get_file(bucket, key, path)
            ledger = pq.ParquetFile(path)
            keyed = "counter_key" in ledger.schema_arrow.names
            columns = [name for name in COLUMNS if name in ledger.schema_arrow.names]
            groups = [g for g in range(ledger.num_row_groups) if _overlaps(ledger, g, first, end)]
            for batch in ledger.iter_batches(batch_size=LEDGER_BATCH_ROWS, row_groups=groups, columns=columns):
                types = batch.column("event_type").to_pylist()
                times = batch.column("received_at").to_pylist()
                keys = batch.column("counter_key").to_pylist() if keyed else [None] * len(types)
                for event_type, received_at, counter_key in zip(types, times, keys, strict=True):
                    if first <= received_at < end:
                        yield event_type, received_at, counter_key, keyed


def _overlaps(ledger: Any, group: int, first: int, end: int) -> bool:
    """Whether a row group may hold receive times in ``[first, end)`` (no statistics: it may)."""
    names = ledger.schema_arrow.names
    column = ledger.metadata.row_group(group).column(names.index("received_at"))
    stats = column.statistics
    if stats is None or not stats.has_min_max:
        return True
    return bool(stats.min < end and stats.max >= first)


def _hour_ms(partition: RawPartitionRef) -> int:
    start = datetime(int(partition.year), int(partition.month), int(partition.day), int(partition.hour), tzinfo=UTC)
    return int(start.timestamp()) * 1000
