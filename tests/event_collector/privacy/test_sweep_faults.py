"""A sweep killed at any write and run again: everything of the user is removed, nobody else's event is lost,
and the counts are those of a run that never crashed.

A crash is a ``BaseException`` (the sweep's own error handling never sees it, as with a Lambda killed at its
timeout) raised before the n-th write of any kind, at the ports: an S3 PUT or DELETE (objects, versions, the
sweep's state and receipts), a counter write or deletion, a queue update, a request's mark. (A PUT is atomic
in S3: an object is either replaced whole or not at all, so before a write is where a crash can fall.)
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.event_collector.privacy.conftest import LAKE, OTHER, USER, World, at, event, new_world
from tests.event_collector.privacy.test_sweep import populate


class Crash(BaseException):
    """The process died here."""


class Writes:
    """Counts every write; raises Crash before the ``crash_at``-th one, once."""

    def __init__(self, crash_at: int | None = None) -> None:
        self.count = 0
        self.crash_at = crash_at

    def __call__(self, **_: Any) -> None:
        self.count += 1
        if self.count == self.crash_at:
            self.crash_at = None
            raise Crash(f"write {self.count}")


def armed(world: World, writes: Writes) -> None:
    for owner, names in (
        (world.store, ("put", "put_file", "put_json", "replace", "delete", "delete_versions")),
        (world.counters, ("set_hours", "admit", "delete_counter")),
        (world.regulations, ("mark",)),
        (world.state, ("done",)),
    ):
        for name in names:
            method = getattr(owner, name)

            def counted(*args: Any, _method: Any = method, **kwargs: Any) -> Any:
                writes()
                return _method(*args, **kwargs)

            setattr(owner, name, counted)


def outcome(world: World) -> dict[str, Any]:
    (regulation,) = world.regulations.stored.values()
    return {
        "objects": world.contents(),
        "counters": {key: dict(item) for key, item in world.counters.items.items()},
        "request": (regulation.status, regulation.removed),
        "pending": sorted(item.key for item in world.state.pending("acme")),
    }


def scenario(world: World) -> None:
    populate(world)
    world.ask(USER)


def reference() -> tuple[dict[str, Any], int]:
    with new_world() as world:
        scenario(world)
        writes = Writes()
        armed(world, writes)
        result, _ = world.sweep(run="run-1")
        assert result.complete
        return outcome(world), writes.count


def test_given_a_crash_before_any_write_of_a_sweep_when_run_again_then_the_result_is_the_uninterrupted_one():
    expected, total = reference()
    assert total > 40  # every write of the sweep is a crash point below
    assert USER not in repr(expected["objects"])
    assert OTHER in repr(expected["objects"])

    for crash_at in range(1, total + 1):
        with new_world() as world:
            scenario(world)
            armed(world, Writes(crash_at))
            with pytest.raises(Crash):
                world.sweep(run="run-1")

            result, _ = world.sweep(run="run-1")  # Step Functions' retry: the same run

            assert result.complete, crash_at
            assert outcome(world) == expected, f"after a crash at write {crash_at}"
            assert world.holding(USER) == [], crash_at


def test_given_a_crash_between_the_compacted_rewrite_and_the_ledger_when_run_again_then_a_resend_is_stored_anew():
    with new_world() as world:
        world.send(event("a1", at(20, 10), user_id=USER), event("o1", at(20, 10), user_id=OTHER))
        world.compact()
        world.ask(USER, requested_at=at(20, 12))
        put_file = world.store.put_file

        def dies_before_the_ledger(bucket: str, key: str, path: str, *rest: Any) -> None:
            if key.startswith("ledger/"):  # the compacted rows are gone by then; the ledger still names them
                world.store.put_file = put_file  # type: ignore[method-assign]
                raise Crash(key)
            put_file(bucket, key, path, *rest)

        world.store.put_file = dies_before_the_ledger  # type: ignore[method-assign,assignment]
        with pytest.raises(Crash):
            world.sweep(run="run-1")
        assert set(world.rows()) == {"o1"}
        assert world.ledger_ids() == ["a1", "o1"]

        world.sweep(run="run-1")
        world.send(event("a1", at(20, 13), user_id=USER), event("o1", at(20, 13), user_id=OTHER))
        world.compact(run="compact-2")

        assert world.ledger_ids() == ["a1", "o1"]
        assert {k: r["received_at"] for k, r in world.rows().items()} == {"a1": at(20, 13), "o1": at(20, 10)}


class UntilTheLedger:
    """A budget that runs out as the tenant's ledger pass begins (as the function's time would)."""

    def __init__(self, world: World) -> None:
        self.world = world

    def left(self) -> bool:
        from event_collector.privacy.journal import Journal

        state = Journal(self.world.store, LAKE).load()
        return state is None or state.tenants["acme"].phase != "ledger"


@pytest.mark.parametrize("stop", ["crash", "budget"])
def test_given_a_sweep_stopped_between_compacted_and_ledger_when_compact_runs_first_then_a_later_resend_is_kept(
    world, stop
):
    """The next scheduled run compacts before it regulates. Until the ledger lost the removed ids, Compact
    leaves the tenant pending, or it would drop the user's resend (sent after the request) as a duplicate."""
    world.send(event("a1", at(20, 10), user_id=USER), event("o1", at(20, 10), user_id=OTHER))
    world.compact()
    world.ask(USER, requested_at=at(20, 12))
    put_file = world.store.put_file

    def stops_at_the_ledger(bucket: str, key: str, path: str, *rest: Any) -> None:
        if key.startswith("ledger/"):
            world.store.put_file = put_file
            raise Crash(key)
        put_file(bucket, key, path, *rest)

    if stop == "crash":
        world.store.put_file = stops_at_the_ledger
        with pytest.raises(Crash):
            world.sweep(run="run-1")
    else:
        world.sweep(run="run-1", budget=UntilTheLedger(world))
    world.send(event("a1", at(20, 13), user_id=USER))  # the user's resend, received after the request

    world.compact(run="run-2")  # the tenant is held: left pending
    assert "a1" not in world.rows()
    world.sweep(run="run-2")
    world.compact(run="run-3")

    assert set(world.rows()) == {"o1", "a1"}
    assert world.rows()["a1"]["received_at"] == at(20, 13)
