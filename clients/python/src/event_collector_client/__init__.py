"""Python client of the serverless event collector (docs/clients.md). Standard library only.

    from event_collector_client import Client

    with Client("https://<your API>", write_key="<secret key>") as client:
        client.track("Signed Up", {"plan": "pro"}, user_id="u-42")

Events are queued (bounded) and sent in batches by a background thread when
``flush_at`` are waiting, every ``flush_interval`` seconds, on ``flush()`` or
``close()`` (the context manager closes), and at interpreter exit for a client
never closed (an ``atexit`` hook, at most ``exit_timeout`` seconds). Batches
keep to the API's limits: 500 events and 1 MiB; an event over 32 KiB is
refused when queued. A 429 or 5xx is retried with exponential back-off,
honouring ``Retry-After`` (seconds or an HTTP date, capped at ``max_delay``);
each event has its id from the moment it is queued, so a retry never stores it
twice. Nothing is dropped silently: ``on_error`` hears about every event given
up (a :class:`DeliveryError`, with the API's reasons for the events it
rejected), the ``event_collector_client`` logger warns, and ``stats`` counts
them.
"""

from __future__ import annotations

import atexit
import base64
import email.utils
import json
import logging
import math
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Client", "DeliveryError", "Stats"]
__version__ = "1.1.0"

MAX_BATCH = 500  # the API's limit of events per request
MAX_BODY_BYTES = 1024 * 1024  # the API's limit of a request body
MAX_EVENT_BYTES = 32 * 1024  # the API's limit of one event: a larger one is never stored
ENVELOPE_BYTES = 64  # {"events":[...],"sent_at":<ms>} around the events
# A transport: (request, timeout) -> (status, headers, body); status 0 for no answer.
Sender = Callable[[urllib.request.Request, float], tuple[int, dict[str, str], bytes]]
log = logging.getLogger("event_collector_client")


@dataclass
class Stats:
    queued: int = 0
    sent: int = 0
    dropped: int = 0  # every event given up, the rejected included
    rejected: int = 0  # the events the API refused (invalid, too large once stored)
    retried: int = 0
    errors: list[str] = field(default_factory=list)


class DeliveryError(RuntimeError):
    """Why events were given up: ``status`` is the API's answer (0: none, or never sent), ``code`` its
    ``error``, and ``rejected`` its ``[{"index", "event_id", "errors"}]`` for the events it refused."""

    def __init__(
        self, message: str, *, status: int = 0, code: str | None = None, rejected: Sequence[dict[str, Any]] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.rejected = list(rejected)


def _urlopen(request: urllib.request.Request, timeout: float) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the API URL given
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def _encode(value: Any) -> bytes:
    # As the API reads it: UTF-8, compact; NaN and Infinity are not JSON (the API refuses the whole body).
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


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
        max_delay: float = 60.0,
        timeout: float = 10.0,
        exit_timeout: float = 10.0,
        on_error: Callable[[Exception, list[dict[str, Any]]], None] | None = None,
        send: Sender = _urlopen,
        sleep: Callable[[float], object] | None = None,
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
        self._max_delay = max_delay
        self._timeout = timeout
        self._exit_timeout = exit_timeout
        self._on_error = on_error or (lambda error, events: None)
        self._send = send
        self._sleep = sleep
        self._interrupt = threading.Event()  # set by a close with a deadline: ends a back-off wait
        self._queue: deque[tuple[dict[str, Any], int]] = deque()  # (event, its JSON's size in bytes)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._sending = threading.Lock()
        self._closed = False
        self._deadline: float | None = None  # time.monotonic() by which a closing client gives up
        self.stats = Stats()
        self._thread = threading.Thread(target=self._run, name="event-collector-client", daemon=True)
        self._thread.start()
        atexit.register(self._at_exit)

    # -- the events ---------------------------------------------------------------------------
    def track(self, name: str, properties: dict[str, Any] | None = None, **fields: Any) -> str:
        return self._enqueue({"event_type": "track", "name": name, "properties": properties or {}, **fields})

    def page(self, url: str, session_id: str, **fields: Any) -> str:
        return self._enqueue({"event_type": "page_view", "url": url, "session_id": session_id, **fields})

    def click(self, button_id: str, session_id: str, **fields: Any) -> str:
        return self._enqueue({"event_type": "button_click", "button_id": button_id, "session_id": session_id, **fields})

    def send(self, event_type: str, fields: dict[str, Any] | None = None, **envelope: Any) -> str:
        """An event of a type registered for the tenant (docs/schemas.md): ``fields`` are the type's own, as its
        schema declares them; ``envelope`` the fields every event may carry (``user_id``, ``anonymous_id``,
        ``context``, ``event_id``, ``timestamp``)."""
        return self._enqueue({**(fields or {}), **envelope, "event_type": event_type})

    def _enqueue(self, event: dict[str, Any]) -> str:
        event.setdefault("event_id", str(uuid.uuid4()))
        event.setdefault("timestamp", int(time.time() * 1000))
        size = len(_encode(event))  # raises here, to the caller, on what JSON cannot hold
        error: DeliveryError | None = None
        with self._lock:
            if self._closed:
                raise RuntimeError("the client is closed")
            if size > MAX_EVENT_BYTES:
                error = DeliveryError(f"event {event['event_id']} is {size} bytes, over {MAX_EVENT_BYTES}: dropped")
            elif len(self._queue) >= self._max_queue:
                error = DeliveryError("queue full: event dropped")  # the newest is refused: the queued keep their place
            else:
                self._queue.append((event, size))
                self.stats.queued += 1
                if len(self._queue) >= self._flush_at:
                    self._wake.notify()
        if error:
            self._give_up(error, [event])
        return str(event["event_id"])

    # -- sending ------------------------------------------------------------------------------
    def flush(self) -> None:
        """Send everything queued now, in this thread; returns when it was sent or given up.

        One batch is in flight at a time (batches arrive in the order they were
        queued), so a flush that finds a batch in flight waits for it.
        """
        while True:
            if self._deadline is not None and self._time_left(default=0.0) <= 0:
                return  # a closing client's time is up: close() gives up what is left
            if not self._sending.acquire(timeout=self._time_left(default=-1)):
                return  # ... and it ran out while another batch was in flight
            try:
                batch = self._take()
                if not batch:
                    return
                self._post(batch)
            finally:
                self._sending.release()

    def close(self, timeout: float | None = None) -> None:
        """Send what is queued and stop the thread. With ``timeout`` (seconds), what is not sent by
        then is given up (and reported); without, retries run their course."""
        atexit.unregister(self._at_exit)
        with self._lock:
            self._closed = True
            if timeout is not None:
                self._deadline = time.monotonic() + timeout
                self._interrupt.set()
            self._wake.notify()
        self.flush()
        with self._lock:
            left = [event for event, _ in self._queue]
            self._queue.clear()
        if left:
            self._give_up(DeliveryError(f"not sent within the {timeout} s of closing; events given up"), left)
        self._thread.join(timeout=self._time_left(default=self._timeout))

    def _at_exit(self) -> None:
        # The interpreter is exiting and the client was never closed: its daemon thread is about to stop.
        self.close(timeout=self._exit_timeout)

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

    def _time_left(self, *, default: float) -> float:
        return default if self._deadline is None else max(0.0, self._deadline - time.monotonic())

    def _take(self) -> list[dict[str, Any]]:
        """The next batch: at most MAX_BATCH events and MAX_BODY_BYTES of body (one event at least)."""
        batch: list[dict[str, Any]] = []
        total = ENVELOPE_BYTES
        with self._lock:
            while self._queue and len(batch) < MAX_BATCH:
                event, size = self._queue[0]
                if batch and total + size + 1 > MAX_BODY_BYTES:
                    break
                self._queue.popleft()
                batch.append(event)
                total += size + 1
        return batch

    def _post(self, events: list[dict[str, Any]]) -> None:
        # Called by flush with self._sending held: one request at a time.
        for attempt in range(self._max_retries + 1):
            # sent_at of this attempt, so the API's clock-skew correction stays right after a wait
            request = urllib.request.Request(  # noqa: S310 - the API URL the caller gave
                self._url,
                data=_encode({"events": events, "sent_at": int(time.time() * 1000)}),
                method="POST",
                headers={"Authorization": self._auth, "Content-Type": "application/json"},
            )
            try:
                timeout = max(0.1, min(self._timeout, self._time_left(default=self._timeout)))
                status, headers, body = self._send(request, timeout)
                reason = ""
            except Exception as error:  # noqa: BLE001 - no answer (OSError) or a failing transport: retried, reported
                status, headers, body, reason = 0, {}, b"", f" ({error})"
            answer = _json_object(body) if status else {}
            if 200 <= status < 300:
                self._rejected(events, answer.get("rejected"), status)
                return
            if status == 400 and answer.get("error") == "no_valid_events":
                self._rejected(events, answer.get("details"), status)
                return
            wait = min(self._max_delay, max(_retry_after(headers), random.uniform(0, self._backoff(attempt))))  # noqa: S311
            retryable = status == 0 or status == 429 or status >= 500
            if not retryable or attempt == self._max_retries or wait >= self._time_left(default=math.inf):
                why = f" ({answer.get('error')}: {answer.get('message')})" if answer.get("error") else reason
                message = f"the API answered {status or 'nothing'}{why}; events given up"
                self._give_up(DeliveryError(message, status=status, code=answer.get("error")), events)
                return
            self.stats.retried += 1
            self._pause(wait)

    def _pause(self, seconds: float) -> None:
        if self._sleep is not None:
            self._sleep(seconds)
        elif self._interrupt.wait(seconds):  # closing with a deadline: wait no longer than it leaves
            time.sleep(min(seconds, self._time_left(default=0.0)))

    def _backoff(self, attempt: int) -> float:
        return float(min(self._max_delay, self._base_delay * 2**attempt))

    def _rejected(self, events: list[dict[str, Any]], rejected: Any, status: int) -> None:
        """Events the API refused for good (a resend would be refused again): reported with its reasons."""
        entries = [entry for entry in rejected if isinstance(entry, dict)] if isinstance(rejected, list) else []
        indexes = {entry.get("index") for entry in entries}
        gone = events if status >= 300 else [event for index, event in enumerate(events) if index in indexes]
        self.stats.sent += len(events) - len(gone)
        if not gone:
            return
        self.stats.rejected += len(gone)
        reasons = "; ".join(
            f"{entry.get('event_id')}: {', '.join(map(str, entry.get('errors') or []))}" for entry in entries
        )
        self._give_up(
            DeliveryError(f"the API rejected {len(gone)} event(s): {reasons}", status=status, rejected=entries), gone
        )

    def _give_up(self, error: DeliveryError, events: list[dict[str, Any]]) -> None:
        self.stats.dropped += len(events)
        self.stats.errors.append(str(error))
        log.warning("%s", error)
        try:
            self._on_error(error, events)
        except Exception:  # a failing callback must not stop the sending thread
            log.exception("on_error raised")


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(body)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _retry_after(headers: dict[str, str]) -> float:
    """Retry-After in seconds: delay-seconds or an HTTP date; 0 when absent or unreadable."""
    value = next((value for name, value in headers.items() if name.lower() == "retry-after"), "").strip()
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        when = email.utils.parsedate_tz(value)
        if when is None:
            return 0.0
        seconds = email.utils.mktime_tz(when) - time.time()
    return seconds if seconds > 0 and not math.isnan(seconds) else 0.0
