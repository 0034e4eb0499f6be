"""The local stack keeps its state across a clean stop and a crash (issue 25): keys, counts and compacted rows,
through ``python -m local`` as ``make local`` runs it; a foreign state is refused whole; ``make local-reset``."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

from tests.local.conftest import RunningStack, start_stack
from tests.local.test_lifecycle import BOUND, STOP_BOUND, assert_one_line_refusal, run_local
from tools.harness import compacted_rows
from tools.template import ROOT


def given_a_tenant_with_events_compacted(stack: RunningStack) -> tuple[str, str]:
    """A key issued after the start, one event with it and one with the demo key, delivered and compacted."""
    from event_collector.aws.tenant_keys_table import TenantKeysTable
    from event_collector.tenants.admin import TenantAdmin

    admin = TenantAdmin(TenantKeysTable(stack.aws("dynamodb"), stack.info["keys_table"]), clock=lambda: 0)
    admin.create_tenant("shop")
    auth = ("shop", admin.issue_key("shop").api_key)
    for credentials in (auth, stack.demo_auth()):
        event = {"event_type": "page_view", "url": "https://example.com/", "session_id": "s-1"}
        assert stack.request("POST", "/v1/events", body={"events": [event]}, auth=credentials).status == 200
    stack.drain()
    compaction = stack.request("POST", "/__local/compact")  # answers once its snapshot is written
    assert compaction.json()["status"] == "SUCCEEDED", compaction.body
    return auth


def observed(stack: RunningStack, auth: tuple[str, str]) -> dict[str, Any]:
    counts = {}
    for credentials in (auth, stack.demo_auth()):
        answer = stack.request("GET", "/v1/counts?event_type=page_view", auth=credentials)
        assert answer.status == 200, answer.body
        counts[credentials[0]] = answer.json()["total"]
    return {"counts": counts, "compacted": sorted(compacted_rows(stack.info))}


def stopped(stack: RunningStack, signum: int) -> int:
    stack.process.send_signal(signum)
    return stack.process.wait(timeout=STOP_BOUND)


def then_a_restart_finds_it_all(state_dir: Path, auth: tuple[str, str], before: dict[str, Any], demo: str) -> None:
    again = start_stack(state_dir)
    try:
        assert again.info["api_key"] == demo  # the demo keys stay the same
        assert observed(again, auth) == before
        assert before["counts"] == {"shop": 1, "demo": 1}
        assert len(before["compacted"]) == 2
        event = {"event_type": "page_view", "url": "https://example.com/", "session_id": "s-2"}
        assert again.request("POST", "/v1/events", body={"events": [event]}, auth=auth).status == 200
        # The dashboard's publishable key sends from the page's origin, on this start's port.
        dashboard = again.info["tenants"][0]
        answer = again.request(
            "POST",
            "/v1/events",
            body={"events": [event]},
            auth=(dashboard["tenant"], dashboard["publishable_key"]),
            headers={"Origin": f"http://127.0.0.1:{again.api_port}"},
        )
        assert answer.status == 200, answer.body
    finally:
        assert stopped(again, signal.SIGINT) == 0


def test_given_keys_counts_and_compacted_rows_when_stopped_with_sigterm_then_a_restart_keeps_them(
    tmp_path: Path,
) -> None:
    stack = start_stack(tmp_path)
    auth = given_a_tenant_with_events_compacted(stack)
    before = observed(stack, auth)
    assert stopped(stack, signal.SIGTERM) == 0
    then_a_restart_finds_it_all(tmp_path, auth, before, stack.info["api_key"])


def test_given_writes_acknowledged_before_a_snapshot_point_when_killed_then_a_restart_keeps_them(
    tmp_path: Path,
) -> None:
    stack = start_stack(tmp_path)
    auth = given_a_tenant_with_events_compacted(stack)  # the compaction's answer is the snapshot point
    before = observed(stack, auth)
    assert stopped(stack, signal.SIGKILL) == -signal.SIGKILL  # no stop path ran
    then_a_restart_finds_it_all(tmp_path, auth, before, stack.info["api_key"])


def test_given_a_state_of_another_version_then_the_start_is_refused_in_one_line_and_it_is_left_alone(
    tmp_path: Path,
) -> None:
    header = {"format": 1, "moto": "5.1.0", "fingerprint": "0" * 64, "tenants": [], "saved_at": 0}
    saved = json.dumps(header).encode() + b"\n" + b"not a pickle of this version"
    (tmp_path / "state.pickle").write_bytes(saved)
    result = run_local({}, tmp_path)
    assert_one_line_refusal(result, str(tmp_path / "state.pickle"), "moto 5.1.0", "make local-reset")
    assert (tmp_path / "state.pickle").read_bytes() == saved
    assert not (tmp_path / "stack.json").exists()


def test_given_a_file_that_is_no_state_then_the_start_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "state.pickle").write_bytes(b"\x80\x05garbage")
    assert_one_line_refusal(run_local({}, tmp_path), "not a local stack state", "make local-reset")


def make_local_reset(state_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOCAL_STATE_DIR": str(state_dir)}
    return subprocess.run(
        [shutil.which("make") or "make", "-s", "local-reset"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )


def test_make_local_reset_deletes_the_state_and_is_refused_while_a_stack_runs(tmp_path: Path) -> None:
    (tmp_path / "state.pickle").write_bytes(b"saved")
    with (tmp_path / "stack.lock").open("a+") as held:  # what a running stack holds
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        refused = make_local_reset(tmp_path)
    assert refused.returncode != 0
    assert "another local stack is running" in refused.stderr
    assert (tmp_path / "state.pickle").exists()
    reset = make_local_reset(tmp_path)
    assert reset.returncode == 0, reset.stderr
    assert reset.stdout.startswith(f"deleted {tmp_path / 'state.pickle'}")
    assert not (tmp_path / "state.pickle").exists()
    assert make_local_reset(tmp_path).stdout.startswith("no saved state")
