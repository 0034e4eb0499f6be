"""Raw objects a regulation rewrote (docs/privacy.md): how they are marked, and how the fan-out treats them.

A deletion rewrites a raw object in place (privacy/sweep.py), which makes S3 raise ObjectCreated for it
again. Its lines are already in the lake (rewritten the same way), so that notification is skipped. The
object keeps, as user metadata, the ETag its first version had (``original-etag``): a redrive of the
original's notification (a dead-lettered object) or a backfill still fans the rewritten object out, under
the identity of the original, so it writes the same lake keys the original did (or would have), counts
nothing twice (the delivered counting mode's marker is per identity) and stores no line twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from event_collector.lake.layout import source_id

ORIGINAL_ETAG = "original-etag"  # x-amz-meta-original-etag


@dataclass(frozen=True)
class StoredObject:
    body: IO[bytes]
    etag: str
    last_modified: datetime
    metadata: Mapping[str, str]
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class ObjectVersion:
    """One version of an object of the (versioned) raw bucket."""

    key: str
    version_id: str
    latest: bool
    size: int


def rewrite_metadata(stored: StoredObject) -> dict[str, str]:
    """The metadata of an object's rewrite: its own, plus the first version's ETag (kept across rewrites)."""
    return {**stored.metadata, ORIGINAL_ETAG: stored.metadata.get(ORIGINAL_ETAG, stored.etag)}


def fan_out_identity(bucket: str, key: str, stored: StoredObject, notified_etag: str | None) -> str | None:
    """The source id the fan-out writes an object under, or None when the notification is a rewrite's own
    (the rewritten object is what the notification names: nothing new to place)."""
    original = stored.metadata.get(ORIGINAL_ETAG)
    if original is None:
        return source_id(bucket, key, stored.etag)
    if notified_etag is not None and notified_etag.strip('"') == stored.etag:
        return None
    return source_id(bucket, key, original)
