"""Local mode: time from ``python -m local`` to the first accepted event, over real HTTP.

Baseline, measured in the same run: a bare moto ``ThreadedMotoServer`` process
until it answers its first S3 call. Median of a few runs. Run: ``make bench``.

Then the warm start with a saved state (local/state.py) against a fresh one, alternated on
the same machine: the state of a stack that accepted ``STATE_EVENTS`` events (delivered,
counted and compacted), copied into a new state directory for each restored start so each
restores the same state. The issue's bound: restored ÷ fresh at most 1.5.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3
STATE_EVENTS = 2_000  # in batches of 100
BARE_MOTO = (
    "import sys; from moto.server import ThreadedMotoServer;"
    "s = ThreadedMotoServer(ip_address='127.0.0.1', port=int(sys.argv[1]), verbose=False); s.start();"
    "sys.stdin.read()"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def first_answer(url: str, deadline: float, request: urllib.request.Request | None = None) -> None:
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(request or url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.01)
    raise TimeoutError(url)


def bare_moto_seconds() -> float:
    port = free_port()
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", BARE_MOTO, str(port)], stdin=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT
    )
    try:
        first_answer(f"http://127.0.0.1:{port}/", start + 60)
        return time.perf_counter() - start
    finally:
        process.kill()
        process.wait()


def local_mode_seconds(state_dir: str | None = None, prepare: bool = False) -> float:
    """Start to first accepted event, in ``state_dir`` (a new one by default); ``prepare``: then send
    ``STATE_EVENTS`` events, compact and stop cleanly, leaving their state saved there."""
    api_port, aws_port = free_port(), free_port()
    state_dir = state_dir or tempfile.mkdtemp()
    env = {**os.environ, "LOCAL_API_PORT": str(api_port), "LOCAL_AWS_PORT": str(aws_port)}
    env.update({"LOCAL_STATE_DIR": state_dir, "LOCAL_QUIET": "1", "POWERTOOLS_LOG_LEVEL": "WARNING"})
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "local"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "ready in" in line:
                break
        info = json.loads((Path(state_dir) / "stack.json").read_text())
        credentials = base64.b64encode(f"{info['tenant']}:{info['api_key']}".encode()).decode()
        body = {"events": [{"event_type": "page_view", "url": "https://example.com/", "session_id": "bench"}]}
        request = urllib.request.Request(
            info["api_url"] + "/v1/events",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/json"},
            method="POST",
        )
        first_answer(info["api_url"], start + 60, request)
        seconds = time.perf_counter() - start
        if prepare:
            _fill(info, credentials)
        return seconds
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


def _fill(info: dict[str, object], credentials: str) -> None:
    headers = {"Authorization": f"Basic {credentials}", "Content-Type": "application/json"}
    for batch in range(STATE_EVENTS // 100):
        events = [
            {"event_type": "page_view", "url": f"https://example.com/{n}", "session_id": f"s-{batch}"}
            for n in range(100)
        ]
        body = json.dumps({"events": events}).encode()
        urllib.request.urlopen(
            urllib.request.Request(f"{info['api_url']}/v1/events", data=body, headers=headers, method="POST"),
            timeout=30,
        ).close()
    for path in ("/__local/drain", "/__local/compact"):
        urllib.request.urlopen(
            urllib.request.Request(f"{info['api_url']}{path}", data=b"{}", method="POST"), timeout=300
        ).close()


def restored_and_fresh_seconds() -> tuple[float, float, int]:
    """Median warm starts with the saved state and afresh, alternated; and the state file's size."""
    saved = tempfile.mkdtemp()
    local_mode_seconds(saved, prepare=True)
    restored, fresh = [], []
    for _ in range(RUNS):
        copy = tempfile.mkdtemp()
        shutil.copy(Path(saved) / "state.pickle", copy)
        restored.append(local_mode_seconds(copy))
        fresh.append(local_mode_seconds())
    return statistics.median(restored), statistics.median(fresh), (Path(saved) / "state.pickle").stat().st_size


def main() -> None:
    baseline = statistics.median(bare_moto_seconds() for _ in range(RUNS))
    local = statistics.median(local_mode_seconds() for _ in range(RUNS))
    print(f"bare moto server, start to first answer:        {baseline:5.2f} s (median of {RUNS})")
    print(f"local mode, start to first accepted event:      {local:5.2f} s (median of {RUNS}; target < 5 s)")
    print(f"ratio local mode / bare moto: {local / baseline:.2f}x")
    restored, fresh, size = restored_and_fresh_seconds()
    print(f"warm start, restored state ({STATE_EVENTS} events, {size / 1e6:.1f} MB): {restored:5.2f} s")
    print(f"warm start, fresh state:                           {fresh:5.2f} s (alternated, median of {RUNS})")
    print(f"ratio restored / fresh: {restored / fresh:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
