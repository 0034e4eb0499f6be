"""local/state.py in-process: the file's header is checked before its payload, a snapshot never happens while a
request to the emulator is in flight, and only writes make a new snapshot due."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from local.state import STATE_FORMAT, StateKeeper, StateRefused, expected_header, load_state

FINGERPRINT = "f" * 64


def keeper(tmp_path: Path) -> StateKeeper:
    return StateKeeper(tmp_path / "state.pickle", lambda: {**expected_header(FINGERPRINT), "tenants": ["t"]})


def call(app: Callable[..., Iterable[bytes]], method: str) -> list[bytes]:
    return list(app({"REQUEST_METHOD": method}, lambda *_: None))


def test_given_a_snapshot_then_it_loads_back_with_its_header(tmp_path: Path) -> None:
    saved = keeper(tmp_path).save()

    assert saved is not None
    loaded = load_state(tmp_path / "state.pickle", FINGERPRINT)
    assert loaded is not None
    assert loaded.header["format"] == STATE_FORMAT
    assert loaded.header["tenants"] == ["t"]
    assert isinstance(loaded.backends, list)


def test_given_no_file_then_there_is_nothing_to_load(tmp_path: Path) -> None:
    assert load_state(tmp_path / "state.pickle", FINGERPRINT) is None


def test_given_other_data_stores_then_the_state_is_refused_naming_the_reset(tmp_path: Path) -> None:
    keeper(tmp_path).save()

    with pytest.raises(StateRefused, match=r"written by another version.*make local-reset"):
        load_state(tmp_path / "state.pickle", "0" * 64)


def test_given_a_cut_payload_then_the_state_is_refused_whole(tmp_path: Path) -> None:
    keeper(tmp_path).save()
    path = tmp_path / "state.pickle"
    path.write_bytes(path.read_bytes()[:-1])  # its last byte: pickle's STOP

    with pytest.raises(StateRefused, match=r"does not read back whole.*make local-reset"):
        load_state(path, FINGERPRINT)


def test_given_a_request_in_flight_then_no_snapshot_is_taken_until_it_finished(tmp_path: Path) -> None:
    state = keeper(tmp_path)
    entered, release = threading.Event(), threading.Event()

    def slow(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        entered.set()
        release.wait(timeout=30)
        return [b"done"]

    request = threading.Thread(target=call, args=(state.guard(slow), "POST"))
    request.start()
    assert entered.wait(timeout=30)

    assert state.save(timeout=0) is None  # in flight: nothing written
    assert not (tmp_path / "state.pickle").exists()
    release.set()
    request.join(timeout=30)
    assert state.save(timeout=30) is not None


def test_given_only_reads_then_no_snapshot_is_due_and_a_write_makes_one_due(tmp_path: Path) -> None:
    state = keeper(tmp_path)
    app = state.guard(lambda environ, start_response: [b"ok"])

    call(app, "GET")
    assert not state.changed
    call(app, "POST")
    assert state.changed
    state.save()
    assert not state.changed
