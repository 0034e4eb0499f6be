"""Load generator for the local mode: N concurrent clients, then the exactly-once check.

    .venv/bin/python bench/load.py --clients 8 --requests 100 --batch 20
    .venv/bin/python bench/load.py --duration 30

Loads the running local stack (`make local`, found through its stack.json;
LOCAL_STATE_DIR is honoured) or, when none runs or with --own-stack, starts
its own on free ports and stops it afterwards. Sends batches with unique event_ids from every client (resending the
same bytes after a 503 or a lost connection, as a well-behaved client does),
stops by itself after the given count or duration, then waits for fan-out,
runs one compaction and checks that the compacted tables hold every
acknowledged event exactly once. Only ever talks to 127.0.0.1. On stderr, a
progress line at each phase and every 2 s while sending (requests, rate,
events acknowledged, errors); stdout holds the summary.

Count freshness: after each 200, the client reads its own counter
(``GET /v1/counts``; each client counts under a name of its own) until it
includes every event acknowledged so far, and records the time from the 200
to that read's answer: p50/p99, and how many were visible on the first read
(real-time counts: all of them). ``--no-freshness`` skips the reads.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers/common/python")]

from event_collector.lake.layout import compacted_type_prefix  # noqa: E402
from event_collector_cli.progress import Progress  # noqa: E402
from tools.harness import compacted_rows, spawn_stack, stop_child  # noqa: E402

LOOPBACK = {"127.0.0.1", "localhost"}


class Client(threading.Thread):
    def __init__(self, number: int, info: dict[str, Any], args: argparse.Namespace, deadline: float, run: str) -> None:
        super().__init__(daemon=True)
        tenant = info["tenants"][number % len(info["tenants"])]
        self.tenant = tenant["tenant"]
        self.authorization = "Basic " + base64.b64encode(f"{tenant['tenant']}:{tenant['api_key']}".encode()).decode()
        address = urlsplit(info["api_url"])
        self.host, self.port = address.hostname or "127.0.0.1", address.port or 80
        self.args, self.deadline, self.number, self.run_id = args, deadline, number, run
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.acknowledged: list[tuple[str, str]] = []
        self.counter_name = f"load-{run}-{number}"
        self.freshness: list[float] = []  # seconds from a 200 to the first read of the count that includes it
        self.reads_needed: list[int] = []
        # Read by the progress line from another thread: plain ints, never a dict being resized.
        self.attempts = 0
        self.errors = 0  # attempts answered other than 200, or lost

    def run(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        sent = 0
        while sent < self.args.requests and time.monotonic() < self.deadline:
            ids = [f"load-{self.run_id}-{self.number}-{uuid.uuid4().hex}" for _ in range(self.args.batch)]
            events = [
                {"event_type": "track", "name": self.counter_name, "event_id": i, "properties": {"n": n}}
                for n, i in enumerate(ids)
            ]
            body = json.dumps({"events": events}).encode()
            for _ in range(6):
                start = time.perf_counter()
                try:
                    connection.request(
                        "POST",
                        "/v1/events",
                        body=body,
                        headers={"Authorization": self.authorization, "Content-Type": "application/json"},
                    )
                    answer = connection.getresponse()
                    answer.read()
                    status = str(answer.status)
                except (TimeoutError, http.client.HTTPException, ConnectionError):
                    connection.close()
                    connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
                    status = "connection error"
                self.latencies.append(time.perf_counter() - start)
                self.statuses[status] += 1
                self.attempts += 1
                self.errors += status != "200"
                if status == "200":
                    self.acknowledged += [(self.tenant, i) for i in ids]
                    if self.args.freshness:
                        connection = self.until_counted(connection, len(self.acknowledged))
                    break
                if status not in ("503", "connection error"):
                    break
            sent += 1
        connection.close()

    def until_counted(self, connection: http.client.HTTPConnection, expected: int) -> http.client.HTTPConnection:
        """Read this client's count until it includes ``expected`` events (a resend after a lost answer may
        count more); record the seconds from the 200 to that answer and how many reads it took."""
        acknowledged_at = time.perf_counter()
        path = f"/v1/counts?event_type=track&key={self.counter_name}"
        for reads in range(1, 100_000):
            try:
                connection.request("GET", path, headers={"Authorization": self.authorization})
                total = json.loads(connection.getresponse().read()).get("total", 0)
            except (TimeoutError, http.client.HTTPException, ConnectionError, ValueError):
                connection.close()
                connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
                continue
            if total >= expected:
                self.freshness.append(time.perf_counter() - acknowledged_at)
                self.reads_needed.append(reads)
                return connection
            if time.perf_counter() - acknowledged_at > self.args.freshness_timeout:
                break
            time.sleep(0.05)  # a delivered-counts stack: the fan-out runs in the background
        self.freshness.append(float("inf"))
        return connection


def post(info: dict[str, Any], path: str) -> dict[str, Any]:
    address = urlsplit(info["api_url"])
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port or 80, timeout=600)
    connection.request("POST", path, body=b"{}", headers={"Content-Type": "application/json"})
    answer: dict[str, Any] = json.loads(connection.getresponse().read())
    connection.close()
    return answer


def sending_status(clients: list[Client], seconds: float) -> str:
    """The progress line's detail while the clients send: requests so far, their rate, events, errors."""
    requests = sum(client.attempts for client in clients)
    errors = sum(client.errors for client in clients)
    acknowledged = sum(len(client.acknowledged) for client in clients)
    rate = requests / seconds if seconds > 0 else 0.0
    return f"{requests} requests ({rate:.1f}/s), {acknowledged} events acknowledged, {errors} errors"


def wait_for_clients(clients: list[Client], progress: Progress, poll_seconds: float = 0.5) -> None:
    """Join every client, giving ``progress`` a chance at a line every ``poll_seconds`` meanwhile."""
    sending_since = progress.elapsed()
    for client in clients:
        while client.is_alive():
            client.join(timeout=poll_seconds)
            progress.update(lambda: sending_status(clients, progress.elapsed() - sending_since))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def running_stack(stack_file: Path | None) -> dict[str, Any] | None:
    """The running stack's stack.json, if one is there and its API answers."""
    from local.config import config_from_environment

    path = stack_file or config_from_environment().stack_file
    try:
        info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        address = urlsplit(info["api_url"])
        connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port or 80, timeout=5)
        connection.request("GET", "/v1/health")
        healthy = connection.getresponse().status == 200
        connection.close()
    except (OSError, ValueError, KeyError, http.client.HTTPException):
        return None
    return info if healthy else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=100, help="requests per client (upper bound)")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds (upper bound)")
    parser.add_argument("--batch", type=int, default=20, help="events per request")
    parser.add_argument("--stack-file", type=Path, default=None, help="the running stack's stack.json (default: found)")
    parser.add_argument("--own-stack", action="store_true", help="start a stack of its own, even if one runs")
    parser.add_argument("--no-freshness", dest="freshness", action="store_false", help="skip the count reads")
    parser.add_argument("--freshness-timeout", type=float, default=600.0, help="seconds a count may take to show")
    args = parser.parse_args(argv)
    child = None
    info = None if args.own_stack else running_stack(args.stack_file)
    if info is not None:
        print(f"Loading the running local stack at {info['api_url']} (pid {info.get('pid')}).", flush=True)
    else:
        print("No local stack is running: starting one on free ports for this run (stopped afterwards).", flush=True)
        child = spawn_stack(Path(tempfile.mkdtemp()))
        info = child.info
    if urlsplit(info["api_url"]).hostname not in LOOPBACK:
        raise SystemExit("the load generator only targets 127.0.0.1")
    progress = Progress("load")  # on stderr, every 2 s and at each phase: stdout keeps the summary alone
    try:
        start = time.perf_counter()
        run = uuid.uuid4().hex[:8]  # this run's events only: a running stack may hold earlier runs' rows
        clients = [Client(n, info, args, time.monotonic() + args.duration, run) for n in range(args.clients)]
        progress.phase(
            "sending", f"{args.clients} clients, up to {args.requests} requests each or {args.duration:.0f} s"
        )
        for client in clients:
            client.start()
        wait_for_clients(clients, progress)
        elapsed = time.perf_counter() - start
        progress.phase("sent", sending_status(clients, elapsed))
        progress.phase("waiting for the fan-out (POST /__local/drain)")
        latencies = [value for client in clients for value in client.latencies]
        statuses = sum((client.statuses for client in clients), Counter())
        acknowledged = [row for client in clients for row in client.acknowledged]
        drained = post(info, "/__local/drain")
        progress.phase("compacting (POST /__local/compact)")
        compaction = post(info, "/__local/compact")
        progress.phase("reading the compacted tables")
        rows = [
            row for row in compacted_rows(info, compacted_type_prefix("track")) if row[1].startswith(f"load-{run}-")
        ]
    finally:
        if child:
            stop_child(child.process)
    requests = sum(statuses.values())
    duplicates = sum(count - 1 for count in Counter(rows).values() if count > 1)
    missing = len(set(acknowledged) - set(rows))
    extra = len(set(rows) - set(acknowledged))
    print(f"{args.clients} clients, {args.batch} events per request, {elapsed:.1f} s")
    print(
        f"requests: {requests} ({requests / elapsed:.1f}/s)   events acknowledged: {len(acknowledged)} "
        f"({len(acknowledged) / elapsed:.0f}/s)"
    )
    print(
        f"latency: p50 {percentile(latencies, 0.5) * 1000:.1f} ms  p99 {percentile(latencies, 0.99) * 1000:.1f} ms  "
        f"mean {statistics.fmean(latencies) * 1000 if latencies else 0:.1f} ms"
    )
    print(f"answers by status: {dict(statuses)}")
    freshness = [value for client in clients for value in client.freshness]
    if freshness:
        first_read = sum(1 for client in clients for reads in client.reads_needed if reads == 1)
        never = sum(1 for value in freshness if value == float("inf"))
        print(
            f"count freshness (200 -> a read that includes it): p50 {percentile(freshness, 0.5) * 1000:.1f} ms  "
            f"p99 {percentile(freshness, 0.99) * 1000:.1f} ms  visible on the first read: {first_read} of "
            f"{len(freshness)}" + (f"  never within {args.freshness_timeout:.0f} s: {never}" if never else "")
        )
    print(f"fan-out failures: {len(drained.get('async_failures', []))}; compaction: {compaction.get('status')}")
    exact = missing == 0 and duplicates == 0 and extra == 0
    print(
        f"exactly-once: acknowledged {len(acknowledged)}, compacted {len(rows)}, missing {missing}, "
        f"duplicates {duplicates}, unacknowledged extras {extra} -> {'OK' if exact else 'FAILED'}"
    )
    return 0 if exact and compaction.get("status") == "SUCCEEDED" else 1


if __name__ == "__main__":
    sys.exit(main())
