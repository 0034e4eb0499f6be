"""Run a local stack as a child process, and read back what compaction wrote.

Shared by the tests (tests/local, tests/e2e) and the load generator
(bench/load.py), so they start, stop and check the stack the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from event_collector_cli.compacted import read_compacted
from tools.template import ROOT

_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port free now and never handed out before in this process: the kernel may give the same free port to
    two probes in a row (a stack's API and AWS ports were once both 49209), so a test asking for two gets two."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


@dataclass
class ChildStack:
    process: subprocess.Popen[str]
    info: dict[str, Any]
    api_port: int
    aws_port: int
    stack_file: Path
    launched_seconds: float = 0.0  # from launching the process to its banner, as the parent measured it
    banner: str = ""  # the banner's first line ("... ready in <s> s ...")


def spawn_stack(state_dir: Path, extra_env: dict[str, str] | None = None) -> ChildStack:
    """Start ``python -m local`` on free ports; return once it answered its first request."""
    api_port, aws_port = free_port(), free_port()
    env = {
        **os.environ,
        "LOCAL_API_PORT": str(api_port),
        "LOCAL_AWS_PORT": str(aws_port),
        "LOCAL_STATE_DIR": str(state_dir),
        **(extra_env or {}),
    }
    env.pop("AWS_ENDPOINT_URL", None)
    launched = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "local"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:  # blocks until the banner, or EOF if the stack died
        seen.append(line)
        if "ready in" in line:
            break
    else:
        process.wait()
        raise RuntimeError("local mode did not start:\n" + "".join(seen))
    waited = time.perf_counter() - launched
    # Keep reading its output: a child blocked on a full pipe would look like a hung stack.
    threading.Thread(target=_drain, args=(process.stdout,), name="stack-output", daemon=True).start()
    stack_file = state_dir / "stack.json"
    info = json.loads(stack_file.read_text())
    return ChildStack(process, info, api_port, aws_port, stack_file, launched_seconds=waited, banner=seen[-1])


def _drain(stream: IO[str]) -> None:
    """Read a child's output to its end (the child closed it, or it was closed here after the child exited)."""
    with contextlib.suppress(ValueError, OSError):
        for _ in stream:
            pass


def stop_child(process: subprocess.Popen[str]) -> int:
    """Ctrl-C, as a person would; kill only if it does not stop within 30 s. Its output is being read by
    the thread spawn_stack started, so this only waits."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
    return process.returncode


def compacted_rows(info: dict[str, Any], prefix: str | None = None) -> list[tuple[str, str]]:
    """(tenant, event_id) of every row in the compacted Parquet files under ``prefix``."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    return [(row["tenant"], row["event_id"]) for row in read_compacted(s3, info["lake_bucket"], prefix)]
