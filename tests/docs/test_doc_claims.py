"""Statements of README.md and docs/ that once disagreed with what the code does, each read from its document
and checked against the behaviour it states: the local start-up figure, key rotation's scope, the content
types a send route accepts, the files the docs cite, and counts counting a resend until compaction."""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import local_startup_bench
from event_collector.tenants.admin import TenantAdmin
from local.stack import LocalStack
from tests.conftest import api_request, call
from tests.fakes.keys import MemoryKeyStore
from tests.local.conftest import RunningStack
from tools.harness import ChildStack, spawn_stack, stop_child
from tools.template import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text under a ``## `` heading, up to the next one."""
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def one_line(text: str) -> str:
    return " ".join(text.split())


# --- Start-up time: what the banner and the benchmark measure, and no figure of the machine that wrote it.


def test_given_the_startup_section_then_it_promises_no_figure_and_names_what_the_benchmark_measures():
    startup = one_line(section(read("docs/local-mode.md"), "Startup"))
    benchmark = one_line(section(read("docs/benchmarks.md"), "Local mode startup (`bench/local_startup_bench.py`)"))

    assert re.findall(r"\d+(?:\.\d+)? ?s\b", startup) == []
    assert f"median of {local_startup_bench.RUNS} runs" in startup
    assert f"Median of {local_startup_bench.RUNS}." in benchmark
    # "to its first accepted `POST /v1/events` over HTTP": what the benchmark waits for.
    assert "first accepted `POST /v1/events` over HTTP" in startup
    waits_for = inspect.getsource(local_startup_bench.local_mode_seconds)
    assert '"/v1/events"' in waits_for
    assert 'method="POST"' in waits_for


@pytest.fixture(scope="module")
def child(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChildStack]:
    """One local stack for the module, started as a person starts it (its banner kept)."""
    started = spawn_stack(
        tmp_path_factory.mktemp("claims"), {"LOCAL_AUTHORIZER_TTL": "0", "POWERTOOLS_LOG_LEVEL": "WARNING"}
    )
    yield started
    stop_child(started.process)


@pytest.fixture(scope="module")
def stack(child: ChildStack) -> RunningStack:
    return RunningStack(child.process, child.info, child.api_port, child.aws_port, child.stack_file)


def test_given_a_started_stack_then_its_ready_in_figure_is_within_the_time_until_it_accepted_a_request(child):
    """The banner's ``ready in`` covers the process's start to its first accepted request, which the stack sent
    itself (a counts read through the gateway, the authorizer and the collector) before the banner: never more
    than the time from launching the process to its banner."""
    found = re.search(r"ready in (\d+\.\d) s", child.banner)
    assert found, child.banner
    assert float(found.group(1)) <= round(child.launched_seconds, 1)
    probe = inspect.getsource(LocalStack._wait_until_ready)
    assert "/v1/counts?event_type=page_view" in probe
    assert probe.index("urlopen") < probe.index("self.ready_seconds =")


# --- Key rotation: only the keys of the rotated scope expire.


def test_given_the_rotation_sentence_when_rotating_then_only_keys_of_the_same_scope_get_the_overlap():
    documented = one_line(read("docs/authentication.md"))
    assert "gives every key of that same scope usable now an expiry of `now + overlap`" in documented
    assert "Keys of the other scope are untouched" in documented
    now = 1_780_000_000
    store = MemoryKeyStore()
    admin = TenantAdmin(store, clock=lambda: now)
    admin.create_tenant("acme")
    secret = admin.issue_key("acme")
    publishable = admin.issue_key("acme", scope="publishable", origins=("https://shop.example",))

    new_secret = admin.rotate("acme", overlap_seconds=3600)
    expiries = {record.key_id: record.expires_at for record in admin.list_keys("acme")}
    assert (expiries[secret.key_id], expiries[publishable.key_id], expiries[new_secret.key_id]) == (
        now + 3600,
        None,
        None,
    )

    new_publishable = admin.rotate("acme", overlap_seconds=60, scope="publishable", origins=("https://shop.example",))
    expiries = {record.key_id: record.expires_at for record in admin.list_keys("acme")}
    assert (expiries[publishable.key_id], expiries[new_secret.key_id], expiries[new_publishable.key_id]) == (
        now + 60,
        None,
        None,
    )


# --- The content types a route that sends events accepts, and the ones it answers 415, by the real collector.


def documented_content_types() -> tuple[list[str], list[str]]:
    edge = one_line(read("docs/ingestion.md").split("1. **Edge checks**", 1)[1].split("2. **Tenant**", 1)[0])
    accepted = re.search(r"`Content-Type` absent, `([^`]+)` or `([^`]+)` \(", edge)
    refused = re.search(r"any other one answered 415 \(`unsupported_media_type`\), e\.g\. (.+?);", edge)
    assert accepted, edge
    assert refused, edge
    return list(accepted.groups()), re.findall(r"`([^`]+)`", refused.group(1))


ACCEPTED, REFUSED = documented_content_types()
# What the doc says of parameters and letter case: "parameters such as `;charset=UTF-8` and letter case are ignored".
SPELLINGS = [None, *ACCEPTED, *(f"{kind};charset=UTF-8" for kind in ACCEPTED), *(kind.upper() for kind in ACCEPTED)]


def test_the_documented_lists_are_the_ones_the_issue_is_about():
    assert ACCEPTED == ["application/json", "text/plain"]
    assert {"application/x-www-form-urlencoded", "multipart/form-data"} <= set(REFUSED)


@pytest.mark.parametrize("content_type", SPELLINGS, ids=[str(kind) for kind in SPELLINGS])
def test_given_a_documented_accepted_content_type_when_events_are_posted_then_200(
    collector, lambda_context, content_type
):
    body = {"events": [{"event_type": "track", "name": "doc-415", "event_id": f"ct-{content_type}"}]}

    status, _, answer = call(
        collector, api_request("POST", "/v1/events", body=body, content_type=content_type), lambda_context
    )

    assert (status, answer["accepted"]) == (200, 1)


@pytest.mark.parametrize("content_type", REFUSED)
def test_given_a_documented_refused_content_type_when_events_are_posted_then_415(
    collector, lambda_context, aws, content_type
):
    body = {"events": [{"event_type": "track", "name": "doc-415"}]}

    status, _, answer = call(
        collector, api_request("POST", "/v1/events", body=body, content_type=content_type), lambda_context
    )

    assert (status, answer["error"]) == (415, "unsupported_media_type")
    aws.assert_nothing_stored_or_counted()


# --- Every file the docs cite is in the repository.

# Paths in another repository, named as such on their line.
OTHER_REPOSITORIES = {"docs/en/plan-deployment/cost.md": "Clickstream Analytics on AWS"}


def cited_files() -> Iterator[tuple[Path, str, str]]:
    for document in DOCUMENTS:
        for line in document.read_text(encoding="utf-8").splitlines():
            for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", line):
                if "://" not in target:
                    yield document, target, line
            for target in re.findall(r"`([^`\s]+\.md)`", line):
                yield document, target, line


def test_given_the_docs_then_every_file_they_cite_is_in_the_repository():
    missing = []
    for document, target, line in cited_files():
        if target in OTHER_REPOSITORIES:
            assert OTHER_REPOSITORIES[target] in line
            continue
        places = [(document.parent / target).resolve(), (ROOT / target).resolve()]
        if not any(place.is_relative_to(ROOT) and place.exists() for place in places):
            missing.append((document.relative_to(ROOT).as_posix(), target))

    assert missing == []
    assert "DESIGN.md" not in read("docs/guarantees.md")


# --- Counts count a resend until compaction, said where counts are described.

WHERE_COUNTS_ARE_DESCRIBED = {
    "README.md": "- `GET /v1/counts`: real-time totals",
    "docs/api.md": "Counts are real-time:",
    "docs/guarantees.md": "| **Counts: real-time,",
}


@pytest.mark.parametrize("document", WHERE_COUNTS_ARE_DESCRIBED)
def test_given_a_description_of_counts_then_it_says_a_resend_counts_again_until_compacted(document):
    text = read(document)
    start = text.index(WHERE_COUNTS_ARE_DESCRIBED[document])
    described = one_line(text[start : text.index("\n\n", start) if "\n\n" in text[start:] else None])[:700]

    assert "at-least-once" in described
    assert re.search(r"counted again until its hour is compacted", described), described
    assert "exact" in described


def test_given_an_event_resent_with_its_event_id_when_counted_then_twice_until_compacted_then_once(stack):
    auth = stack.demo_auth()
    url = f"/resent/{uuid.uuid4().hex[:8]}"
    event = {"event_type": "page_view", "url": url, "session_id": "s", "event_id": f"resent-{url}"}

    for _ in range(2):  # the first answer was lost: the client sends the same event again
        assert stack.request("POST", "/v1/events", body={"events": [event]}, auth=auth).status == 200
    stack.drain()
    before = stack.request("GET", f"/v1/counts?event_type=page_view&key={url}", auth=auth).json()["total"]
    assert stack.request("POST", "/__local/compact", body={}).json()["status"] == "SUCCEEDED"
    after = stack.request("GET", f"/v1/counts?event_type=page_view&key={url}", auth=auth).json()["total"]

    assert (before, after) == (2, 1)
