"""The latest rejected events and refused requests, as the local gateway saw them (for the dashboard).

Nothing the API refuses is stored (docs/api.md): in the cloud a rejection
lives only in the answer the client got and in the collector's log. Locally
the gateway sees every answer, so it keeps the last few in memory for the
dashboard's "rejected" panel; they are gone when the stack stops.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from local.gateway.app import InvalidQuery, parse_query

MAX_KEPT = 200
MAX_EVENT_CHARS = 2000  # an event is shown, not stored: a long one is cut for the page


@dataclass(frozen=True)
class Rejection:
    at: int  # epoch ms
    tenant: str | None  # None when the credential named no tenant of this stack
    path: str
    status: int
    error: str  # the API's error code, or "rejected" for one event of an accepted batch
    message: str
    event_id: str | None = None
    index: int | None = None
    event: str | None = None  # the event as sent (JSON, cut to MAX_EVENT_CHARS)


class RejectionLog:
    """Thread-safe ring of the latest rejections; ``tenant_of_key`` maps a key id to its tenant."""

    def __init__(self, tenant_of_key: Callable[[str], str | None], clock: Callable[[], float] = time.time) -> None:
        self._tenant_of_key = tenant_of_key
        self._clock = clock
        self._kept: deque[Rejection] = deque(maxlen=MAX_KEPT)
        self._lock = threading.Lock()

    def observe(
        self,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        query: str,
        body: bytes,
        status: int,
        answer: bytes,
    ) -> None:
        """Called with every answer of a proxied route; keeps what was refused or partly rejected."""
        if method != "POST" or status >= 500:
            return
        try:
            parsed = json.loads(answer or b"{}")
        except ValueError:
            return
        if not isinstance(parsed, dict):
            return
        now = int(self._clock() * 1000)
        tenant = None  # looked up below, only when something was rejected
        found: list[Rejection] = []
        per_event = parsed.get("rejected") if status == 200 else None
        if parsed.get("error") == "no_valid_events":  # a 400 whose details are the per-event rejections
            per_event = parsed.get("details")
        if isinstance(per_event, list):
            events = _events_of(body)
            for rejected in per_event:
                if not isinstance(rejected, dict):
                    continue
                index = rejected.get("index")
                sent = events[index] if isinstance(index, int) and 0 <= index < len(events) else None
                if isinstance(sent, dict) and "writeKey" in sent:  # a credential: never shown
                    sent = {**sent, "writeKey": "<redacted>"}
                text = json.dumps(sent, ensure_ascii=False)[:MAX_EVENT_CHARS] if sent is not None else None
                reasons = "; ".join(str(e) for e in rejected.get("errors") or [])
                found.append(
                    Rejection(now, tenant, path, status, "rejected", reasons, rejected.get("event_id"), index, text)
                )
        elif status >= 400:
            found.append(
                Rejection(now, tenant, path, status, str(parsed.get("error", status)), str(parsed.get("message", "")))
            )
        if found:
            tenant = self._tenant(headers, query, body)
            found = [replace(rejection, tenant=tenant) for rejection in found]
            with self._lock:
                self._kept.extend(found)

    def latest(self, tenant: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """Newest first; only ``tenant``'s when given (refusals that named no tenant are never shown to one)."""
        with self._lock:
            kept = list(self._kept)
        mine = [r for r in reversed(kept) if tenant is None or r.tenant == tenant]
        return [asdict(r) for r in mine[: max(0, limit)]]

    def _tenant(self, headers: list[tuple[str, str]], query: str, body: bytes) -> str | None:
        for name, value in headers:
            if name.lower() == "authorization" and value[:6].lower() == "basic ":
                try:
                    user, _, password = base64.b64decode(value[6:], validate=True).decode().partition(":")
                except (binascii.Error, UnicodeDecodeError):
                    return None
                return self._tenant_of_key(_key_id(password or user))
        try:
            written = dict(parse_query(query)).get("writeKey")
        except InvalidQuery:
            written = None
        if written is None:
            try:
                parsed = json.loads(body or b"{}")
                written = parsed.get("writeKey") if isinstance(parsed, dict) else None
            except ValueError:
                written = None
        return self._tenant_of_key(_key_id(written)) if isinstance(written, str) else None


def _key_id(api_key: str) -> str:
    return api_key.partition(".")[0]


def _events_of(body: bytes) -> list[Any]:
    """The events (or Segment messages) of a request body, by index, as the API counted them."""
    try:
        if body[:2] == b"\x1f\x8b":  # gzip (Segment's libraries): the API accepted at most 1 MiB of it
            with gzip.GzipFile(fileobj=io.BytesIO(body)) as unpacked:
                body = unpacked.read(2 * 1024 * 1024)
        parsed = json.loads(body or b"{}")
    except (ValueError, OSError, EOFError):
        return []
    if isinstance(parsed, dict):
        for name in ("events", "batch"):
            if isinstance(parsed.get(name), list):
                return list(parsed[name])
        return [parsed]
    return []
