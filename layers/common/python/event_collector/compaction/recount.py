"""Recount the hours a compacted unit touched from the tenant's ledger (counts/recount.py has the why).

Run by Compact once the unit is committed and before its objects are marked done: a recount that fails
fails the Compact, so the objects stay pending and a retry (or the next run) compacts them again (no
row is written twice: the ledger drops them) and recounts. Each hour is recounted from every ledger
file of its day, whoever wrote it (the Lambda engine or Athena): the counts are the day's compacted
events, never only this unit's.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import pyarrow.parquet as pq

from event_collector.compaction.contracts import RawPartitionRef
from event_collector.counts.layout import HOUR_MS
from event_collector.counts.record import CountingLimits
from event_collector.counts.recount import RecountOutcome, RecountStore, recount, tally_ledger
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
    partitions: Sequence[RawPartitionRef], tenant: str, recounter: Recount, lake: LakeFiles, bucket: str
) -> RecountOutcome:
    """Set the counters of every (event type, hour) of ``partitions`` to the day ledgers' exact counts."""
    wanted = {(p.event_type, _hour_ms(p)) for p in partitions if p.tenant == tenant}
    days = sorted({Day(p.year, p.month, p.day) for p in partitions if p.tenant == tenant})
    rows = (row for day in days for row in _ledger_rows(lake, bucket, tenant, day) if (row[0], _hour(row[1])) in wanted)
    return recount(tally_ledger(tenant, rows), recounter.store, limits=recounter.limits)


def _ledger_rows(lake: LakeFiles, bucket: str, tenant: str, day: Day) -> Iterator[tuple[str, int, str | None]]:
    """(event type, received_at, counter key) of every compacted event of the day, a row group at a time.
    Ledger files written before the ledger had counter keys give none (their events count in the totals)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "ledger.parquet")
        for key, _, size in lake.listing(bucket, ledger_prefix(tenant, day)):
            if parse_ledger_object_key(key) is None or size == 0:
                continue
            lake.get_file(bucket, key, path)
            ledger = pq.ParquetFile(path)
            columns = [name for name in COLUMNS if name in ledger.schema_arrow.names]
            for batch in ledger.iter_batches(batch_size=LEDGER_BATCH_ROWS, columns=columns):
                types = batch.column("event_type").to_pylist()
                times = batch.column("received_at").to_pylist()
                keys = batch.column("counter_key").to_pylist() if "counter_key" in columns else [None] * len(types)
                yield from zip(types, times, keys, strict=True)


def _hour(received_at: int) -> int:
    return received_at // HOUR_MS * HOUR_MS


def _hour_ms(partition: RawPartitionRef) -> int:
    start = datetime(int(partition.year), int(partition.month), int(partition.day), int(partition.hour), tzinfo=UTC)
    return int(start.timestamp()) * 1000
