"""Local mode: time from ``python -m local`` to the first accepted event, over real HTTP.

Baseline, measured in the same run: a bare moto ``ThreadedMotoServer`` process
until it answers its first S3 call. Median of a few runs. Run: ``make bench``.
"""

from __future__ import annotations

import base64
import json
import os
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


def local_mode_seconds() -> float:
    api_port, aws_port = free_port(), free_port()
    state_dir = tempfile.mkdtemp()
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
        return time.perf_counter() - start
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


def main() -> None:
    baseline = statistics.median(bare_moto_seconds() for _ in range(RUNS))
    local = statistics.median(local_mode_seconds() for _ in range(RUNS))
    print(f"bare moto server, start to first answer:        {baseline:5.2f} s (median of {RUNS})")
    print(f"local mode, start to first accepted event:      {local:5.2f} s (median of {RUNS}; target < 5 s)")
    print(f"ratio local mode / bare moto: {local / baseline:.2f}x")


if __name__ == "__main__":
    main()
