"""`make bench`'s request-path benchmarks still run against today's handlers (a quick pass, no figures judged).

The figures themselves are read by people (docs/benchmarks.md); this only
keeps the scripts from rotting: the collector benchmark once broke silently
when the collector began authenticating the requests that send events.
"""

from __future__ import annotations

import re
import subprocess
import sys

from tools.template import ROOT


def run_bench(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--quick", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_given_the_collector_benchmark_when_run_quickly_then_every_workload_is_answered_200_and_timed():
    output = run_bench("collector_bench.py")

    workloads = re.findall(r"^\s+(\d+) event\(s\)/request: handler .* ratio\s+[0-9.]+x", output, re.MULTILINE)
    assert workloads == ["1", "20", "500"]


def test_given_the_cold_import_benchmark_when_run_quickly_then_both_request_path_handlers_are_timed():
    output = run_bench("cold_import_bench.py")

    timed = re.findall(r"functions/(\w+)/app\.py \(now\): +[0-9.]+ ms; `import boto3` +[0-9.]+ ms; ratio", output)
    assert timed == ["authorizer", "collector"]


def test_given_the_schema_validation_benchmark_when_run_quickly_then_the_baseline_and_each_installed_library_are_timed():
    output = run_bench("schema_validation_bench.py")

    assert re.search(r"^\s+valid +[0-9.]+ us", output, re.MULTILINE)
    # The collector's own path for a custom type, against the built-in baseline of the same run.
    assert re.search(r"^\s+custom valid +[0-9.]+ us +[0-9.]+x \| invalid +[0-9.]+ us +[0-9.]+x$", output, re.MULTILINE)
    assert re.search(r"^\s+like for like: .* [0-9.]+ us; the custom type costs +[0-9.]+x that$", output, re.MULTILINE)
    timed = re.findall(r"^\s+([\w-]+) +\S+ +valid +[0-9.]+ us +[0-9.]+x \| invalid +[0-9.]+ us", output, re.MULTILINE)
    skipped = re.findall(r"^\s+([\w-]+) +not installed", output, re.MULTILINE)
    assert sorted(timed + skipped) == ["fastjsonschema", "jsonschema", "jsonschema-rs"]
    assert timed  # jsonschema at least: the dev tools bring it (aws-sam-translator)


SMALL_MONTH = ("--events-per-month", "100000", "--sample-events", "20", "--flushes", "1")


def test_given_the_cost_model_when_run_on_a_small_month_then_every_design_is_priced_and_the_rollup_apart():
    """`make cost` once failed at start-up for months: the functions gained settings its environment lacked."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "cost_model.py"), "--summary", *SMALL_MONTH],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    rows = re.findall(r"^  (1|20|500) +(?:[0-9.]+ +){4}[0-9.]+$", result.stdout, re.MULTILINE)
    assert rows == ["1", "20", "500"]
    rollup = re.search(r"Daily rollup .* ([0-9.]+) USD per million events over a day of hourly runs", result.stdout)
    assert rollup is not None
    assert float(rollup.group(1)) > 0
