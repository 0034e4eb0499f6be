"""Every program a reader runs by hand (``python -m local...``, ``event-collector-*``, the ``make`` targets'
tools) answers ``--help`` with its usage and exit status 0, and does nothing else: no stack started, no
compaction run, no document printed. And ``make compact`` prints its JSON alone on standard output, with
``CLOSED_HOURS_ONLY`` reaching the stack."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tools.template import ROOT

ENTRY_POINTS = [
    ("local", "make local"),
    ("local.compact", "make compact"),
    ("local.query", "make query"),
    ("local.sam_env", "make sam-local"),
    ("event_collector_cli.admin", "event-collector-admin"),
    ("event_collector_cli.lake", "event-collector-lake"),
    ("event_collector_cli.smoke", "make smoke"),
    ("event_collector_cli.query", "make query STACK=<name>"),
    ("tools.openapi", "make openapi"),
    ("tools.statemachines", "make statelint"),
    ("tools.doc_blocks", "python -m tools.doc_blocks"),
    ("tools.named_queries", "make named-queries"),
]


@pytest.mark.parametrize(("module", "program"), ENTRY_POINTS, ids=[module for module, _ in ENTRY_POINTS])
def test_given_help_when_an_entry_point_runs_then_it_prints_its_usage_and_does_nothing_else(
    tmp_path: Path, module: str, program: str
):
    # An empty state directory: a program that ignored --help would say "no local stack", or start one there.
    environment = {**os.environ, "LOCAL_STATE_DIR": str(tmp_path)}

    result = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith(f"usage: {program} ")
    assert list(tmp_path.iterdir()) == []


class FakeStack:
    """A state directory whose lock is held and whose stack.json points at a recorder of compaction requests."""

    def __init__(self, state_dir: Path) -> None:
        self.bodies: list[dict[str, Any]] = []
        recorded = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                recorded.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                answer = json.dumps({"status": "SUCCEEDED", "report": {"failed": 0}, "error": None}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.lock = open(state_dir / "stack.lock", "w", encoding="utf-8")  # noqa: SIM115 - held until stop()
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        info = {"api_url": f"http://127.0.0.1:{self.server.server_port}", "state_machine_arn": "arn:local"}
        (state_dir / "stack.json").write_text(json.dumps(info), encoding="utf-8")
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
        self.lock.close()


@pytest.fixture
def fake_stack(tmp_path: Path) -> Iterator[tuple[FakeStack, dict[str, str]]]:
    stack = FakeStack(tmp_path)
    yield stack, {**os.environ, "LOCAL_STATE_DIR": str(tmp_path)}
    stack.stop()


@pytest.mark.parametrize(
    ("variables", "closed_hours_only"),
    [([], False), (["CLOSED_HOURS_ONLY=1"], True), (["CLOSED_HOURS_ONLY=0"], False)],
    ids=["default", "closed-hours-only", "zero"],
)
def test_given_make_compact_when_piped_then_stdout_is_the_json_alone_and_the_option_reaches_the_stack(
    fake_stack, variables, closed_hours_only
):
    stack, environment = fake_stack
    command = ["make", "--no-print-directory", "compact", *variables]

    result = subprocess.run(
        command,
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"status": "SUCCEEDED", "report": {"failed": 0}, "error": None}
    assert stack.bodies == [{"closed_hours_only": closed_hours_only}]


def test_given_compact_help_with_a_running_stack_when_run_then_no_compaction_is_asked_for(fake_stack):
    stack, environment = fake_stack

    result = subprocess.run(
        [sys.executable, "-m", "local.compact", "--help"], cwd=ROOT, env=environment, capture_output=True, text=True
    )

    assert result.returncode == 0
    assert "--closed-hours-only" in result.stdout
    assert stack.bodies == []
