"""What README.md and docs/ say of stopping, progress lines and metric lines (issue 25) is what the code does."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from bench import load
from event_collector_cli.progress import INTERVAL_SECONDS, Progress
from local import lambdas
from local.__main__ import SAME_STOP_SECONDS, STOP_DEADLINE_SECONDS
from tools.template import ROOT


def text(path: str) -> str:
    """The document with every run of whitespace as one space (its lines are wrapped anywhere)."""
    return re.sub(r"\s+", " ", (ROOT / path).read_text(encoding="utf-8"))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def squeezed(line: str) -> str:
    return re.sub(r"\s+", " ", line)


def test_the_stop_rule_in_local_mode_md_is_the_code_s() -> None:
    doc = text("docs/local-mode.md")

    assert SAME_STOP_SECONDS == 1.0
    assert "Every signal within 1 s of the first is part of the same stop" in doc
    assert "a signal more than 1 s after the first (Ctrl-C again on a stop that seems hung) exits at once" in doc
    assert STOP_DEADLINE_SECONDS == 5.0
    assert "Stopping has a deadline of 5 s" in doc
    assert (ROOT / "tests/local/test_signals.py").is_file()


def test_the_load_progress_line_in_local_mode_md_is_printed_as_shown() -> None:
    clock, lines = Clock(), list[str]()
    progress = Progress("load", lines.append, clock)
    client: Any = type("Client", (), {"attempts": 212, "errors": 0, "acknowledged": [("demo", "e")] * 4240})()
    clock.now = 6.0
    progress.phase("sending", load.sending_status([client], 6.0))

    assert f"`{squeezed(lines[0])}`" in text("docs/local-mode.md")


def test_the_backfill_progress_line_in_fan_out_md_is_printed_as_shown() -> None:
    clock, lines = Clock(), list[str]()
    progress = Progress("backfill", lines.append, clock)
    clock.now = 4.2
    progress.phase("fanning out", "600/1000 objects (60%), 0 failed")

    assert f"`{squeezed(lines[0])}`" in text("docs/fan-out.md")


def test_every_2_s_in_the_docs_is_the_progress_interval() -> None:
    assert INTERVAL_SECONDS == 2.0
    assert "a progress line every 2 s and at each phase" in text("README.md")
    assert "every 2 s and at each phase" in text("docs/local-mode.md")
    assert "every 2 s and at the end" in text("docs/fan-out.md")


def test_the_quiet_mode_s_metric_fix_is_where_local_mode_md_says() -> None:
    assert callable(lambdas.discard_metrics)
    assert "`discard_metrics` in `local/lambdas.py`" in text("docs/local-mode.md")


def test_make_build_says_each_phase_and_the_sam_cli_install_as_the_readme_says(tmp_path: Path) -> None:
    make = shutil.which("make") or "make"
    dry_run = subprocess.run(  # a SAM venv that is not there yet: its install is part of the build
        [make, "-n", "--no-print-directory", "build", f"SAM_VENV={tmp_path / 'venv-sam'}"],
        cwd=ROOT, capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    ).stdout  # fmt: skip

    phases = re.findall(r"make build: (\d)/3 ", dry_run)
    assert phases == ["1", "2", "3"]
    assert "about 340 MB" in dry_run
    assert "installs aws-sam-cli (≈340 MB, said before and its size after)" in text("README.md")
    assert "a line per phase" in text("README.md")
