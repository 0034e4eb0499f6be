"""The load generator (``make load``) in a short profile: it runs, stops by itself, and its exactly-once check holds."""

from __future__ import annotations

import subprocess
import sys

from tools.template import ROOT


def test_given_a_short_profile_when_the_load_generator_runs_then_every_acknowledged_event_is_compacted_once():
    done = subprocess.run(
        [sys.executable, "bench/load.py", "--clients", "3", "--requests", "4", "--batch", "5", "--duration", "60"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "exactly-once: acknowledged 60, compacted 60, missing 0, duplicates 0" in done.stdout
    assert "p99" in done.stdout
