"""Lists the documented blocks the docs test did not run (needs AWS, or cannot run in a test), for people to see."""

from __future__ import annotations

from typing import Any

MODULE = "tests/docs/test_doc_commands.py::"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    not_run = [report for report in terminalreporter.stats.get("skipped", []) if report.nodeid.startswith(MODULE)]
    if not not_run:
        return
    terminalreporter.section(f"documented commands not run ({len(not_run)})")
    for report in not_run:
        block = report.nodeid.split("[", 1)[1].rstrip("]")
        reason = str(report.longrepr[2]).removeprefix("Skipped: ") if isinstance(report.longrepr, tuple) else ""
        terminalreporter.line(f"{block:<28}{reason}")
