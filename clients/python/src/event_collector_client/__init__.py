"""Python client of the serverless event collector (docs/clients.md). Standard library only.

    from event_collector_client import Client

    with Client("https://<your API>", write_key="<secret key>") as client:
        client.track("Signed Up", {"plan": "pro"}, user_id="u-42")

Events are queued (bounded) and sent in batches by a background thread when
``flush_at`` are waiting, every ``flush_interval`` seconds, and on ``flush()``
or ``close()`` (the context manager closes). A 429 or 5xx is retried with
exponential back-off, honouring ``Retry-After``; each event has its id from
the moment it is queued, so a retry never stores it twice. Nothing is dropped
silently: ``on_error`` hears about every event given up, and ``stats`` counts
them.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Client", "Stats"]
__version__ = "1.0.0"

MAX_BATCH = 500  # the API's limit of events per request
Sender = Callable[[urllib.request.Request, float], tuple[int, dict[str, str]]]


@dataclass
class Stats:
    queued: int = 0
    sent: int = 0
    dropped: int = 0
    retried: int = 0
    errors: list[str] = field(default_factory=list)


def _urlopen(request: urllib.request.Request, timeout: float) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the API URL given
            return response.status, dict(response.headers.items())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items())


class Client:
    def __init__(
        self,
        api_url: str,
        write_key: str,
        *,
        flush_at: int = 100,
        flush_interval: float = 5.0,
        max_queue: int = 10_000,
        max_retries: int = 6,
        base_delay: float = 0.5,
        timeout: float = 10.0,
        on_error: Callable[[Exception, list[dict[str, Any]]], None] | None = None,
        send: Sender = _urlopen,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_url or not write_key:
            raise ValueError("api_url and write_key are required")
        self._url = api_url.rstrip("/") + "/v1/events"
        self._auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
        self._flush_at = max(1, min(flush_at, MAX_BATCH))
        self._interval = flush_interval
        self._max_queue = max_queue
        self._max_retries = max_retries
        self._base_delay = base_delay
        self._timeout = timeout
        self._on_error = on_error or (lambda error, events: None)
        self._send = send
        self._sleep = sleep
        self._queue: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._sending = threading.Lock()
        self._closed = False
        self.stats = Stats()
        self._thread = threading.Thread(target=self._run, name="event-collector-client", daemon=True)
        self._thread.start()

    # -- the events ---------------------------------------------------------------------------
    def track(self, name: str, properties: dict[str, Any] | None = None, **fields: Any) -> str:
        return self._enqueue({"event_type": "track", "name": name, "properties": properties or {}, **fields})

    def page(self, url: str, session_id: str, **fields: Any) -> str:
        return self._enqueue({"event_type": "page_view", "url": url, "session_id": session_id, **fields})

    def click(self, button_id: str, session_id: str, **fields: Any) -> str:
        return self._enqueue({"event_type": "button_click", "button_id": button_id, "session_id": session_id, **fields})

    def _enqueue(self, event: dict[str, Any]) -> str:
        event.setdefault("event_id", str(uuid.uuid4()))
        event.setdefault("timestamp", int(time.time() * 1000))
        with self._lock:
            if self._closed:
                raise RuntimeError("the client is closed")
            full = len(self._queue) >= self._max_queue
            if full:
                self.stats.dropped += 1  # the newest is refused, so what was queued first keeps its place
            else:
                self._queue.append(event)
                self.stats.queued += 1
                if len(self._queue) >= self._flush_at:
                    self._wake.notify()
        if full:
            self._report(RuntimeError("queue full: event dropped"), [event])
        return str(event["event_id"])

    # -- sending ------------------------------------------------------------------------------
    def flush(self) -> None:
        """Send everything queued now, in this thread; returns when it was sent or given up.

        One batch is in flight at a time (batches arrive in the order they were
        queued), so a flush that finds a batch in flight waits for it.
        """
        while True:
            with self._sending:
                with self._lock:
                    batch = [self._queue.popleft() for _ in range(min(MAX_BATCH, len(self._queue)))]
                if not batch:
                    return
                self._post(batch)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=self._timeout * (self._max_retries + 2))
        self.flush()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._closed and len(self._queue) < self._flush_at:
                    self._wake.wait(timeout=self._interval)
                if self._closed:
                    return
            self.flush()

    def _post(self, events: list[dict[str, Any]]) -> None:
        # Called by flush with self._sending held: one request at a time.
        for attempt in range(self._max_retries + 1):
            # sent_at of this attempt, so the API's clock-skew correction stays right after a wait
            body = json.dumps({"events": events, "sent_at": int(time.time() * 1000)}).encode()
            request = urllib.request.Request(  # noqa: S310 - the API URL the caller gave
                self._url,
                data=body,
                method="POST",
                headers={"Authorization": self._auth, "Content-Type": "application/json"},
            )
            try:
                status, headers = self._send(request, self._timeout)
            except OSError as error:
                status, headers = 0, {"error": str(error)}
            if 200 <= status < 300:
                self.stats.sent += len(events)
                return
            if not (status == 0 or status == 429 or status >= 500) or attempt == self._max_retries:
                self.stats.dropped += len(events)
                self._report(RuntimeError(f"the API answered {status or 'nothing'}; events given up"), events)
                return
            self.stats.retried += 1
            told = _retry_after(headers)
            self._sleep(max(told, random.uniform(0, self._base_delay * 2**attempt)))  # noqa: S311 - jitter

    def _report(self, error: Exception, events: list[dict[str, Any]]) -> None:
        self.stats.errors.append(str(error))
        self._on_error(error, events)


def _retry_after(headers: dict[str, str]) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return 0.0
    return 0.0
