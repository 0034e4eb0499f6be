"""`make smoke` against the local stack: every check but Athena (which does not run locally) passes."""

from __future__ import annotations

from event_collector_cli.smoke import main


def test_given_a_running_stack_when_smoke_tested_then_every_check_passes_and_it_says_what_it_checked(
    local_stack, capsys
):
    status = main(["--local", "--stack-file", str(local_stack.stack_file)])

    out = capsys.readouterr().out
    assert status == 0, out
    for check in (
        "GET /v1/health answers 200",
        "POST /v1/events stores 5 events",
        "a malformed batch gets a 4xx JSON error",
        "Firehose and the fan-out landed them in the lake",
        "GET /v1/counts counts them",
        "one compaction run succeeded",
        "the compacted table holds exactly the 5 events",
    ):
        assert any(line.startswith("ok") and check in line for line in out.splitlines()), check
    assert "Athena does not run locally" in out
    assert "0 failed" in out


def test_given_a_wrong_key_when_smoke_tested_then_it_fails_and_says_where(local_stack, capsys):
    status = main(["--local", "--stack-file", str(local_stack.stack_file), "--api-key", "demo:k0000000000000000.x"])

    out = capsys.readouterr().out
    assert status == 1
    assert "FAIL POST /v1/events stores 5 events" in out
