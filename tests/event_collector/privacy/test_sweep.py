"""Deletion sweeps over a lake the real fan-out and Compact wrote: every prefix and table, only the files
holding the user, the ledger and counters, the request's lifecycle, budgets, leases and failures."""

from __future__ import annotations

import gzip
import json
from typing import Any
from urllib.parse import quote

import pytest

from event_collector.lake.layout import SWEEP_PREFIX
from event_collector.privacy.regulations import request_id
from tests.conftest import fail_calls, record_calls
from tests.event_collector.privacy.conftest import ANONYMOUS, LAKE, OTHER, RAW, USER, Steps, World, at, event


def populate(world: World) -> None:
    """Two users of one tenant through every path: GZIP and plain raw objects, three types, two days, a
    quarantined line, a counter keyed by the user's id, a pending object holding only the user's events."""
    world.send(event("a1", at(20, 10), user_id=USER), event("o1", at(20, 10), user_id=OTHER))
    world.send(
        event("a2", at(20, 11), "page_view", user_id=USER, url=USER),  # a client put the id in a counter key
        event("o2", at(20, 11), "page_view", anonymous_id="anon-o"),  # no user id at all: must stay
        plain=True,
    )
    world.send(event("a3", at(21, 9), "button_click", anonymous_id=ANONYMOUS, user_id=USER, button_id="buy"))
    world.send(
        json.dumps({"tenant": "acme", "event_type": "track", "received_at": at(21, 10), "user_id": USER}).encode(),
        event("o4", at(21, 10), user_id=OTHER),
    )
    world.compact()
    world.send(event("a5", at(22, 8), user_id=USER), event("a6", at(22, 8), previous_id=USER))  # pending


def test_given_two_users_when_one_is_deleted_then_no_byte_of_their_id_is_left_and_every_other_row_is_kept(world):
    populate(world)
    assert len(world.holding(USER)) > 8  # raw, events, compacted, ledger (as ids' rows), quarantine, counters
    other_rows = {
        t: rows for t in ("track", "page_view") if (rows := {k: v for k, v in world.rows(t).items() if k[0] == "o"})
    }
    world.ask(USER)

    result, _ = world.sweep()

    assert world.holding(USER) == []
    assert {t: dict(world.rows(t).items()) for t in other_rows} == other_rows
    assert world.rows("button_click") == {}  # its only row was the user's
    assert world.ledger_ids() == ["o1", "o2", "o4"]
    assert (result.applied, result.failed, result.complete) == (1, 0, True)
    assert world.holding(OTHER)
    assert world.holding("anon-o")


def test_given_files_without_the_user_when_swept_then_they_are_not_rewritten(world):
    world.send(event("a1", at(20, 10), user_id=USER), event("o1", at(20, 10), user_id=OTHER))
    world.send(event("o2", at(21, 10), user_id=OTHER))
    world.send(event("o3", at(22, 10), "page_view", user_id=OTHER))
    world.compact()
    before = {key: world.s3.head_object(Bucket=b, Key=key)["ETag"] for b, key in world.contents()}
    world.ask(USER)

    _, stats = world.sweep()

    changed = {
        key for (b, key) in world.contents() if world.s3.head_object(Bucket=b, Key=key)["ETag"] != before.get(key)
    }
    day20 = "year=2026/month=11/day=20"
    assert {key.split("/")[0] for key in stats.changed} == {"raw", "events", "compacted", "ledger", "rollups"}
    assert all(
        day20 in key or key.startswith(("raw/2026/11/20/", "rollups/daily_counts/tenant=acme/day=2026-11-20/"))
        for key in stats.changed
    )
    assert changed == set(stats.changed)


def test_given_a_delete_marker_on_top_when_swept_then_every_noncurrent_version_holding_the_user_is_gone(world):
    """``aws s3 rm`` on the versioned raw bucket leaves a delete marker: every version listed is noncurrent."""
    key = world.send(event("a1", at(20, 10), user_id=USER), event("o1", at(20, 10), user_id=OTHER))
    body = json.dumps(event("a2", at(20, 10), user_id=USER)).encode() + b"\n"
    world.s3.put_object(Bucket=RAW, Key=key, Body=gzip.compress(body))
    world.s3.delete_object(Bucket=RAW, Key=key)
    world.ask(USER)

    result, _ = world.sweep()

    assert [found for found in world.holding(USER) if found.startswith(f"s3://{RAW}/")] == []
    assert result.outcomes[0].removed["raw_versions"] == 2


@pytest.mark.parametrize("whole_read_bytes", [0, 4 * 1024 * 1024])
def test_given_parquet_files_when_decided_then_large_ones_are_read_in_ranges_small_ones_once_whole(
    world, monkeypatch, whole_read_bytes
):
    """A file above WHOLE_READ_BYTES is decided on ranged reads of the matched columns and fetched whole only
    when it holds the user; a smaller one is fetched once, whole, and decided and rewritten from that copy."""
    from event_collector.privacy import passes, sweep

    world.send(event("a1", at(20, 10), user_id=USER), event("o1", at(20, 10), user_id=OTHER))
    world.send(event("o2", at(21, 10), user_id=OTHER))
    world.compact()
    world.ask(USER)
    monkeypatch.setattr(passes, "WHOLE_READ_BYTES", whole_read_bytes)
    # The rollup's recompute reads the rewritten day again, as a Compact would (test_..._rolled_up_day...).
    monkeypatch.setattr(sweep, "rollups_pass", lambda context, tenant: None)
    gets = record_calls(world.s3, "GetObject")

    world.sweep()

    parquet = [call for call in gets if call["Key"].startswith(("compacted/", "ledger/"))]
    whole = sorted({call["Key"].split("/")[0] for call in parquet if "Range" not in call})
    ranged = {call["Key"] for call in parquet if "Range" in call}
    day20 = "year=2026/month=11/day=20"
    if whole_read_bytes:
        assert ranged == set()
        assert len([call for call in parquet if call["Key"].startswith("compacted/")]) == 2  # each file once
    else:
        assert {key.split("/")[0] for key in ranged} == {"compacted", "ledger"}
        assert all(day20 in call["Key"] for call in parquet if "Range" not in call)  # only the user's day whole
    assert whole == ["compacted", "ledger"]
    assert set(world.rows()) == {"o1", "o2"}


def test_given_an_older_raw_version_holding_the_user_when_swept_then_every_version_with_the_id_is_gone(world):
    key = world.send(event("a1", at(20, 10), user_id=USER), event("o1", at(20, 10), user_id=OTHER))
    world.s3.put_object(Bucket=RAW, Key=key, Body=b"")  # the older version holding the user is now noncurrent
    world.s3.put_object(Bucket=RAW, Key=key, Body=json.dumps(event("o9", at(20, 10), user_id=OTHER)).encode())
    only_user = world.send(event("a2", at(20, 10), user_id=USER))
    world.ask(USER)

    world.sweep()

    versions = world.s3.list_object_versions(Bucket=RAW)
    assert world.holding(USER) == []
    assert [v["Key"] for v in versions.get("Versions", [])].count(only_user) == 0
    assert versions.get("DeleteMarkers", []) == []  # deleted for good, no marker hiding a version
    assert world.s3.head_object(Bucket=RAW, Key=key)["ContentLength"] > 0  # o9's line is still there


def test_given_a_rewritten_raw_object_when_read_then_it_carries_its_first_etag_for_the_fan_out(world):
    key = world.send(event("a1", at(20, 10), user_id=USER), event("o1", at(20, 10), user_id=OTHER))
    first = world.s3.head_object(Bucket=RAW, Key=key)["ETag"].strip('"')
    world.ask(USER)

    world.sweep()

    assert world.s3.head_object(Bucket=RAW, Key=key)["Metadata"] == {"original-etag": first}


def test_given_a_pending_object_with_only_the_users_events_when_swept_then_it_is_removed_and_no_longer_queued(world):
    world.send(event("a1", at(20, 10), user_id=USER))
    world.send(event("o1", at(20, 10), "page_view", user_id=OTHER))
    world.ask(USER)

    world.sweep()
    world.compact()  # would fail on a queued object that no longer exists

    assert [item.key.split("/")[1] for item in world.state.pending("acme")] == []
    assert set(world.rows("page_view")) == {"o1"}
    assert world.rows("track") == {}


def test_given_a_deleted_event_resent_later_when_compacted_then_it_is_stored_anew_and_others_resends_are_not(world):
    world.send(event("a1", at(20, 10), user_id=USER), event("o1", at(20, 10), user_id=OTHER))
    world.compact()
    world.ask(USER, requested_at=at(20, 12))
    world.sweep()

    world.send(event("a1", at(20, 13), user_id=USER), event("o1", at(20, 13), user_id=OTHER))  # both resent
    world.compact(run="compact-2")

    rows = world.rows()
    assert set(rows) == {"a1", "o1"}
    assert (rows["a1"]["received_at"], rows["o1"]["received_at"]) == (at(20, 13), at(20, 10))
    assert world.ledger_ids() == ["a1", "o1"]


def test_given_counters_when_the_user_is_deleted_then_hours_are_recounted_and_the_key_holding_the_id_is_gone(world):
    world.send(
        event("a1", at(20, 11), "page_view", user_id=USER, url=USER),
        event("a2", at(20, 11), "page_view", user_id=USER, url="https://example.com/"),
        event("a3", at(20, 11), "page_view", user_id=USER, url=f"https://example.com/u/{USER}?tab=1"),
        event("a4", at(20, 11), "page_view", user_id=USER, url=f"https://example.com/?u={quote(USER, safe='')}"),
        event("o1", at(20, 11), "page_view", user_id=OTHER, url="https://example.com/"),
        event("o2", at(20, 11), "page_view", user_id=OTHER, url=f"https://example.com/u/{USER}x"),  # not the id
    )
    world.compact()
    assert world.counters.total("acme#page_view#*") == 6
    world.ask(USER)

    result, _ = world.sweep()

    assert world.counters.total("acme#page_view#*") == 2
    assert world.counters.total("acme#page_view#k:https://example.com/") == 1
    assert world.counters.total(f"acme#page_view#k:https://example.com/u/{USER}x") == 1  # a longer id: kept
    assert [pk for pk, _ in world.counters.items if USER in pk] == [f"acme#page_view#k:https://example.com/u/{USER}x"]
    assert result.outcomes[0].removed["counters"] == 3


@pytest.mark.parametrize(
    ("user", "url"),
    [
        ("auth0|5f7c8ec7c33c6c004bbafe82", "https://app.example/users/auth0%7C5f7c8ec7c33c6c004bbafe82"),
        ("auth0|5f7c8ec7c33c6c004bbafe82", "https://app.example/users/auth0|5f7c8ec7c33c6c004bbafe82/settings"),
        ("John Smith", "https://app.example/users/John%20Smith"),
    ],
)
def test_given_an_id_holding_a_separator_in_a_counter_key_when_deleted_then_the_counter_is_gone(world, user, url):
    world.send(
        event("a1", at(20, 10), "page_view", user_id=user, url=url),
        event("o1", at(20, 10), "page_view", user_id=OTHER, url="https://app.example/home"),
    )
    world.compact()
    world.ask(user)

    world.sweep()

    assert [pk for pk, _ in world.counters.items if url in pk] == []
    assert world.counters.total("acme#page_view#k:https://app.example/home") == 1


def test_given_a_suppression_when_swept_then_only_what_got_through_since_the_request_is_removed(world):
    world.send(event("before", at(20, 10), user_id=USER), event("o1", at(20, 10), user_id=OTHER))
    world.send(event("since", at(20, 12), user_id=USER), event("o2", at(20, 12), user_id=OTHER))
    world.compact()
    world.ask(USER, kind="suppress", requested_at=at(20, 11))

    world.sweep()

    assert set(world.rows()) == {"before", "o1", "o2"}


def test_given_a_suppression_an_unsuppress_ended_when_swept_then_what_the_user_sent_after_it_stays(world):
    world.send(event("before", at(20, 10), user_id=USER), event("o1", at(20, 10), user_id=OTHER))
    world.send(event("during", at(20, 12), user_id=USER), event("o2", at(20, 12), user_id=OTHER))
    world.send(event("after", at(20, 14), user_id=USER), event("o3", at(20, 14), user_id=OTHER))
    world.compact()
    suppress = world.ask(USER, kind="suppress", requested_at=at(20, 11))
    world.ask(USER, kind="unsuppress", requested_at=at(20, 13))

    result, _ = world.sweep()

    assert set(world.rows()) == {"before", "o1", "o2", "after", "o3"}
    assert world.regulations.get("acme", suppress.id).removed["compacted/track"] == 1
    assert (result.applied, result.failed) == (2, 0)


def test_given_a_suppression_asked_again_after_an_unsuppress_when_swept_then_it_holds_from_then_on(world):
    world.send(event("first", at(20, 10), user_id=USER), event("o1", at(20, 10), user_id=OTHER))
    world.send(event("between", at(20, 14), user_id=USER), event("since", at(20, 16), user_id=USER))
    world.compact()
    world.ask(USER, kind="suppress", requested_at=at(20, 11))
    world.ask(USER, kind="unsuppress", requested_at=at(20, 13))
    world.ask(USER, kind="suppress", requested_at=at(20, 15))  # asked anew: open-ended again

    world.sweep()

    assert set(world.rows()) == {"first", "o1", "between"}


def test_given_a_user_named_by_anonymous_id_when_deleted_then_their_events_go_and_another_tenants_user_stays(world):
    world.send(
        event("a1", at(20, 10), anonymous_id=ANONYMOUS),
        event("a2", at(20, 10), "page_view", anonymous_id=ANONYMOUS),
        event("g1", at(20, 10), tenant="globex", anonymous_id=ANONYMOUS),  # the same id in another tenant
    )
    world.compact()
    world.compact("globex")
    world.ask(ANONYMOUS, selector="anonymous_id")

    world.sweep()

    assert (world.rows(), world.rows("page_view")) == ({"g1": world.rows()["g1"]}, {})
    assert all("globex" in place or place.startswith(f"s3://{RAW}/") for place in world.holding(ANONYMOUS))


def test_given_a_request_when_applied_then_it_goes_applying_then_applied_and_nothing_names_the_user(world):
    populate(world)
    regulation = world.ask(USER)
    seen: list[str] = []
    mark = world.regulations.mark

    def marked(regulation: Any, status: Any, removed: Any, at: int) -> None:
        seen.append(status)
        mark(regulation, status, removed, at)

    world.regulations.mark = marked
    puts = record_calls(world.s3, "PutObject")  # the sweep's own state and receipts are JSON bytes

    result, _ = world.sweep()

    stored = world.regulations.get("acme", regulation.id)
    assert seen == ["applying", "applied"]
    assert stored is not None
    assert stored.status == "applied"
    assert stored.applied_at is not None
    assert stored.removed == {
        "raw": 6,
        "raw_versions": 5,
        "quarantine": 1,
        "events/track": 3,
        "events/page_view": 1,
        "events/button_click": 1,
        "compacted/track": 1,
        "compacted/page_view": 1,
        "compacted/button_click": 1,
        "ledger": 3,
        "counters": 1,
    }
    written = [call["Body"] for call in puts if call["Key"].startswith(SWEEP_PREFIX)]
    assert written
    assert not any(USER.encode() in body for body in written)
    assert USER not in result.model_dump_json()
    assert [key for key, _, _ in world.store.listing(LAKE, "regulations/")] == []  # removed once applied


def test_given_a_request_not_due_yet_when_swept_then_it_waits_and_nothing_changes(world):
    world.send(event("a1", at(20, 10), user_id=USER))
    before = world.contents()
    world.ask(USER, requested_at=at(20, 12))

    result, _ = world.sweep(cutoff=world_cutoff(at(20, 12) + 299_000))

    assert (result.waiting, result.applied, result.sweep) == (1, 0, None)
    assert world.contents() == before
    assert world.regulations.pending()[0].status == "received"


def world_cutoff(epoch_ms: int):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


def test_given_an_unsuppress_when_swept_then_it_is_marked_applied_and_removes_nothing(world):
    world.send(event("a1", at(20, 10), user_id=USER))
    before = world.contents()
    unsuppress = world.ask(USER, kind="unsuppress")

    result, _ = world.sweep()

    assert (result.applied, world.regulations.get("acme", unsuppress.id).status) == (1, "applied")
    assert world.contents() == before


def test_given_a_small_budget_when_swept_run_after_run_then_it_resumes_and_ends_where_one_run_would(world):
    populate(world)
    world.ask(USER)
    results = []

    for _ in range(60):
        result, _ = world.sweep(budget=Steps(2))
        results.append(result)
        if result.complete:
            break

    assert len(results) > 5
    assert [r.in_progress for r in results[:-1]] == [1] * (len(results) - 1)
    assert (results[-1].applied, results[-1].complete) == (1, True)
    assert world.holding(USER) == []
    assert world.regulations.get("acme", request_id_of(world)).removed["raw"] == 6


def request_id_of(world: World) -> str:
    (regulation,) = world.regulations.stored.values()
    return regulation.id


def test_given_a_tenant_another_run_compacts_when_swept_then_it_waits_for_the_next_run(world):
    populate(world)
    world.ask(USER)
    world.state.acquire_lease("acme", "other-run", 0, 4_000_000_000)

    waiting, _ = world.sweep()
    world.state.release_lease("acme", "other-run")
    applied, _ = world.sweep()

    assert (waiting.in_progress, waiting.applied, waiting.complete) == (1, 0, False)
    assert (applied.applied, applied.complete) == (1, True)
    assert world.holding(USER) == []


def test_given_a_storage_failure_when_swept_then_the_request_fails_this_run_naming_no_user_and_the_next_finishes(world):
    populate(world)
    world.ask(USER)
    failures = fail_calls(world.s3, "DeleteObjects", "InternalError", times=1)

    failed, _ = world.sweep()
    retried, _ = world.sweep()

    assert failures == [1]
    assert (failed.failed, failed.outcomes[0].status) == (1, "failed")
    assert "InternalError" in (failed.outcomes[0].error or "")
    assert USER not in failed.model_dump_json()
    assert (retried.applied, retried.complete) == (1, True)
    assert world.holding(USER) == []


def test_given_a_request_asked_twice_when_swept_then_it_is_one_request(world):
    world.send(event("a1", at(20, 10), user_id=USER))
    first, second = world.ask(USER), world.ask(USER)

    result, _ = world.sweep()

    assert first.id == second.id == request_id("acme", "delete", "user_id", first.subject)
    assert result.applied == 1


def test_given_a_tenant_whose_sweep_keeps_failing_then_later_requests_are_queued_and_run_once_it_is_fixed(world):
    """A new sweep begins once the one under way ends: a tenant failing every run (alarmed each time) holds
    later requests back; they are reported as queued, and applied once the cause is fixed."""
    world.send(event("a1", at(20, 10), user_id=USER), event("o1", at(20, 10), user_id=OTHER))
    world.send(event("b1", at(20, 10), tenant="beta", user_id=USER))
    world.compact()
    (key,) = [k for k, _, _ in world.store.listing(LAKE, "events/track/tenant=beta/")]
    good = world.s3.get_object(Bucket=LAKE, Key=key)["Body"].read()
    world.s3.put_object(Bucket=LAKE, Key=key, Body=b"\x1f\x8b\x08garbage")  # unreadable: beta fails every run
    world.ask(USER, tenant="beta", requested_at=at(25, 0))
    first, _ = world.sweep()
    later = world.ask(OTHER, tenant="acme", requested_at=at(25, 1))

    held, _ = world.sweep()
    world.s3.put_object(Bucket=LAKE, Key=key, Body=good)  # the operator fixed the object
    fixed, _ = world.sweep()
    then, _ = world.sweep()

    assert (first.failed, held.failed, held.queued) == (1, 1, 1)
    assert (fixed.applied, fixed.queued, then.applied) == (1, 1, 1)
    assert world.regulations.get("acme", later.id).status == "applied"
    assert world.holding(OTHER) == []


def test_given_an_unsuppress_asked_while_its_suppressions_sweep_is_under_way_then_the_rest_of_it_keeps_later_events(
    world,
):
    world.send(event("during", at(20, 12), user_id=USER), event("o1", at(20, 12), user_id=OTHER))
    world.send(event("after", at(20, 14), user_id=USER))
    world.compact()
    world.ask(USER, kind="suppress", requested_at=at(20, 11))
    world.sweep(budget=Steps(0))  # the sweep began: its targets are saved, nothing removed yet
    world.ask(USER, kind="unsuppress", requested_at=at(20, 13))

    world.sweep()

    assert set(world.rows()) == {"o1", "after"}


def test_given_a_rolled_up_day_when_a_user_is_deleted_then_the_day_is_recomputed_without_their_events(world):
    world.send(
        event("a1", at(20, 11), "page_view", user_id=USER, url=f"https://example.com/u/{USER}", session_id="s-1"),
        event("a2", at(20, 12), "page_view", user_id=USER, url="https://example.com/", session_id="s-1"),
        event("o1", at(20, 12), "page_view", user_id=OTHER, url="https://example.com/", session_id="s-2"),
    )
    world.compact()
    (before,) = world.counters.rollups("acme", "page_view", "2026-11-20", "2026-11-20")
    assert (before.events, before.sessions, before.users, before.keys) == (3, 2, 2, 2)
    world.ask(USER)

    world.sweep()

    (after,) = world.counters.rollups("acme", "page_view", "2026-11-20", "2026-11-20")
    assert (after.events, after.sessions, after.users, after.keys) == (1, 1, 1, 1)
    assert [(entry.key, entry.events) for entry in after.top] == [("https://example.com/", 1)]
    assert world.holding(USER) == []  # nor in the rollup's Parquet file, nor in its item
