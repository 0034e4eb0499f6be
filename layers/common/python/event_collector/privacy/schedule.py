"""When a regulation is due: once every event it covers has had time to reach the lake (docs/privacy.md).

A deletion covers what was received up to ``requested_at``; such an event reaches the raw bucket within the
Firehose buffer (``FirehoseBufferIntervalSeconds``) and the lake seconds later. A suppression covers what
got through from ``requested_at`` on, which the collector stops within ``SuppressionCacheSeconds`` (its
cache of suppressions, ``SUPPRESSION_CACHE_SECONDS`` in the collector's and this step's environment), so it
waits that much longer. The clock is the compaction run's cutoff (``now - grace``, so
``CompactionGraceMinutes`` is added, as it is to a closed hour: due at ``requested_at + buffer (+ cache) +
grace``), or the execution input's ``cutoff`` but never later than now: a cutoff ahead (``make compact``,
``make smoke``) compacts open hours, yet must not apply a request before its events can have landed.
Lean: Plan imports it (no pyarrow).
"""

from __future__ import annotations

from event_collector.privacy.regulations import SUPPRESSION_CACHE_SECONDS, Regulation


def due_at(
    regulation: Regulation, firehose_buffer_seconds: int, suppression_cache_seconds: int = SUPPRESSION_CACHE_SECONDS
) -> int:
    """The cutoff (epoch ms) from which the regulation may be applied."""
    wait = firehose_buffer_seconds + (suppression_cache_seconds if regulation.kind == "suppress" else 0)
    return regulation.requested_at + wait * 1000


def is_due(
    regulation: Regulation,
    cutoff_ms: int,
    firehose_buffer_seconds: int,
    suppression_cache_seconds: int = SUPPRESSION_CACHE_SECONDS,
) -> bool:
    """``unsuppress`` removes nothing and is always due (it is only marked applied)."""
    due = due_at(regulation, firehose_buffer_seconds, suppression_cache_seconds)
    return regulation.kind == "unsuppress" or due <= cutoff_ms
