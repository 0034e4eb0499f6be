"""A small stack for deletion sweeps: moto's S3 (a versioned raw bucket, the lake bucket) written by the real
fan-out and the real Compact, the compaction state, counters and regulations in their in-memory fakes."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from event_collector.aws.s3 import S3ObjectStore
from event_collector.compaction.compact import Compaction, compact_tenant
from event_collector.compaction.contracts import CompactRequest, Plan, RegulateRequest, RegulateResult
from event_collector.compaction.recount import Recount
from event_collector.compaction.rollup import Rollups
from event_collector.compaction.typed import TypeSchemas
from event_collector.counts.record import CountingLimits
from event_collector.lake.fan_out import FanOut
from event_collector.lake.layout import raw_object_key, run_item_key
from event_collector.privacy.journal import Stats
from event_collector.privacy.passes import Counters, Deletion
from event_collector.privacy.regulations import Kind, Regulation, Selector, request_id, subject_digest
from event_collector.privacy.sweep import apply_regulations
from tests.fakes.catalog import MemoryCatalog
from tests.fakes.compaction_state import MemoryCompactionState
from tests.fakes.counters import MemoryCounters
from tests.fakes.regulations import MemoryRegulations

RAW = "privacy-raw"
LAKE = "privacy-lake"
FAR = datetime(2100, 1, 1, tzinfo=UTC)
# Ids nothing else in the lake could hold by chance, so finding their bytes anywhere means they were kept.
USER = "u-7f3a9c51e0"
OTHER = "u-2b8d41f6aa"
ANONYMOUS = "anon-c4d2e81b77"


def at(day: int, hour: int, minute: int = 0) -> int:
    return int(datetime(2026, 11, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


def event(event_id: str, received_at: int, event_type: str = "track", tenant: str = "acme", **fields: Any) -> dict:
    base: dict[str, Any] = {
        "event_id": event_id,
        "event_type": event_type,
        "tenant": tenant,
        "received_at": received_at,
        "timestamp": received_at,
    }
    if event_type == "track":
        base.update(name="Signed Up", properties='{"plan":"pro"}')
    if event_type == "page_view":
        base.update(url=f"https://example.com/{event_id}", session_id="s-1")
    return {**base, **fields}


class Unlimited:
    def left(self) -> bool:
        return True


@dataclass
class Steps:
    """A budget of ``count`` objects started: deterministic, no clock."""

    count: int

    def left(self) -> bool:
        self.count -= 1
        return self.count >= 0


@dataclass
class World:
    s3: Any
    store: S3ObjectStore
    state: MemoryCompactionState = field(default_factory=MemoryCompactionState)
    regulations: MemoryRegulations = field(default_factory=MemoryRegulations)
    counters: MemoryCounters = field(default_factory=MemoryCounters)
    sent: int = 0
    runs: int = 0

    def send(self, *events: dict[str, Any] | bytes, plain: bool = False, name: str | None = None) -> str:
        """A raw object as Firehose writes it (GZIP by default), fanned out as its notification would."""
        self.sent += 1
        times = [e["received_at"] for e in events if isinstance(e, dict)]
        received = datetime.fromtimestamp(min(times) / 1000, UTC)
        key = raw_object_key(received, name or f"stream-1-{self.sent:04d}")
        body = b"".join((e if isinstance(e, bytes) else json.dumps(e).encode()) + b"\n" for e in events)
        put = self.s3.put_object(Bucket=RAW, Key=key, Body=body if plain else gzip.compress(body, mtime=0))
        FanOut(self.store, LAKE, queue=self.state).process(RAW, key, put["ETag"])
        return key

    def compact(self, tenant: str = "acme", run: str = "compact-1", schemas: TypeSchemas | None = None) -> None:
        compaction = Compaction(
            lake_bucket=LAKE,
            store=self.store,
            state=self.state,
            catalog=MemoryCatalog(),
            recount=Recount(self.counters, CountingLimits()),
            schemas=schemas,
            rollups=Rollups(self.store, LAKE, MemoryCatalog(), self.counters),
        )
        request = CompactRequest(item_key=run_item_key(run, tenant), run_id=run, cutoff=FAR)
        result = compact_tenant(request, compaction, datetime(2026, 11, 26, tzinfo=UTC))
        assert result.status in ("ok", "skipped"), result

    def ask(
        self,
        value: str,
        kind: Kind = "delete",
        selector: Selector = "user_id",
        tenant: str = "acme",
        requested_at: int | None = None,
    ) -> Regulation:
        subject = subject_digest(tenant, selector, value)
        regulation = Regulation(
            request_id(tenant, kind, selector, subject),
            tenant,
            kind,
            selector,
            subject,
            requested_at if requested_at is not None else at(25, 0),
        )
        return self.regulations.put_request(regulation)

    def deletion(self) -> Deletion:
        return Deletion(
            lake_bucket=LAKE,
            lake=self.store,
            state=self.state,
            raw_bucket=RAW,
            raw=self.store,
            counters=Counters(self.counters, CountingLimits()),
            firehose_buffer_seconds=300,
            rollups=Rollups(self.store, LAKE, None, self.counters),
        )

    def sweep(self, budget: Any = None, cutoff: datetime = FAR, run: str | None = None) -> tuple[RegulateResult, Stats]:
        self.runs += 1
        plan = Plan(
            run_id=run or f"run-{self.runs}",
            cutoff=cutoff,
            items=0,
            objects=0,
            waiting=0,
            bucket=LAKE,
            items_prefix="compaction/runs/x/items/",
            results_prefix="compaction/runs/x/results/",
            max_concurrency=1,
        )
        return apply_regulations(
            RegulateRequest(plan=plan),
            self.deletion(),
            self.regulations,
            now=datetime(2026, 11, 26, 1, tzinfo=UTC),
            budget=budget or Unlimited(),
        )

    # -- what is stored -------------------------------------------------------------------------------
    def versions(self, bucket: str) -> Iterator[tuple[str, str, bool, bytes]]:
        for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for item in page.get("Versions", []):
                body = self.s3.get_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])["Body"].read()
                yield item["Key"], item["VersionId"], item["IsLatest"], body

    def contents(self) -> dict[tuple[str, str], str]:
        """Every current object of both buckets, as text: GZIP decompressed, Parquet read back row by row."""
        return {
            (bucket, key): readable(body)
            for bucket in (RAW, LAKE)
            for key, _, latest, body in self.versions(bucket)
            if latest
        }

    def holding(self, value: str) -> list[str]:
        """Every place (object version, counter, regulation) whose bytes, read every way, hold ``value``."""
        found = [
            f"s3://{bucket}/{key}?versionId={version}"
            for bucket in (RAW, LAKE)
            for key, version, _, body in self.versions(bucket)
            if value.encode() in body or value in readable(body)
        ]
        found += [f"counter {pk}#{sk}" for pk, sk in self.counters.items if value in pk]
        found += [f"rollup {pk}#{sk}" for (pk, sk), item in self.counters.rollup_items.items() if value in str(item)]
        found += [f"regulation {r.id}" for r in self.regulations.stored.values() if value in repr(r)]
        return found

    def rows(self, event_type: str = "track") -> dict[str, dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for (bucket, key), text in self.contents().items():
            if bucket == LAKE and key.startswith(f"compacted/{event_type}/"):
                rows |= {row["event_id"]: row for row in json.loads(text)}
        return rows

    def ledger_ids(self) -> list[str]:
        ids: list[str] = []
        for (bucket, key), text in self.contents().items():
            if bucket == LAKE and key.startswith("ledger/"):
                ids += [row["event_id"] for row in json.loads(text)]
        return sorted(ids)


def readable(body: bytes) -> str:
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    if body[:4] == b"PAR1":
        return json.dumps(pq.ParquetFile(io.BytesIO(body)).read().to_pylist(), sort_keys=True, default=str)
    return body.decode("utf-8", errors="replace")


@contextmanager
def new_world() -> Iterator[World]:
    """An empty stack: a moto of its own (a test may make several, one after the other)."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=RAW)
        s3.put_bucket_versioning(Bucket=RAW, VersioningConfiguration={"Status": "Enabled"})
        s3.create_bucket(Bucket=LAKE)
        yield World(s3, S3ObjectStore(s3))


@pytest.fixture
def world() -> Iterator[World]:
    with new_world() as made:
        yield made
