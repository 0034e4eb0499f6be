"""The load generator (``make load``) in a short profile: it runs, stops by itself, and its exactly-once check holds;
by default it loads the running stack, else it starts one of its own (issue 15)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.local.conftest import RunningStack
from tools.template import ROOT

SHORT = ["--clients", "3", "--requests", "4", "--batch", "5", "--duration", "60"]


def run_load(state_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOCAL_STATE_DIR": str(state_dir)}
    return subprocess.run(
        [sys.executable, "bench/load.py", *SHORT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_given_no_running_stack_when_the_load_generator_runs_then_it_starts_its_own_and_checks_exactly_once(
    tmp_path: Path,
):
    done = run_load(tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "No local stack is running: starting one" in done.stdout
    assert "exactly-once: acknowledged 60, compacted 60, missing 0, duplicates 0" in done.stdout
    assert "p99" in done.stdout
    # Real-time counts: every client's read right after each 200 already includes it.
    assert "visible on the first read: 12 of 12" in done.stdout
    # Progress on stderr, a line at each phase: the summary on stdout stays alone.
    phases = [line.split("] ", 1)[1].split(":")[0] for line in done.stderr.splitlines() if line.startswith("load [")]
    assert phases[0] == "sending"
    assert phases[-4:] == [
        "sent",
        "waiting for the fan-out (POST /__local/drain)",
        "compacting (POST /__local/compact)",
        "reading the compacted tables",
    ]
    assert "load [" not in done.stdout


def test_given_a_running_stack_when_the_load_generator_runs_twice_then_it_loads_that_stack(stack: RunningStack):
    for _ in range(2):  # the second run must not count the first run's rows
        done = run_load(stack.stack_file.parent)

        assert done.returncode == 0, done.stdout + done.stderr
        assert f"Loading the running local stack at {stack.info['api_url']}" in done.stdout
        assert "exactly-once: acknowledged 60, compacted 60, missing 0, duplicates 0" in done.stdout
