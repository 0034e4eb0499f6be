"""The local stack's state on disk: what survives a stop or a crash, and ``make local-reset``.

One file, ``<LOCAL_STATE_DIR>/state.pickle``: a first line of JSON (the header: the format,
the moto version, a fingerprint of the resources it holds, the demo tenants and their keys,
the last compaction run), then the pickled moto backends of the data stores
(:data:`PERSISTED_SERVICES`: S3's objects, DynamoDB's tables, SQS, Glue's catalog, Firehose).
The functions, the state machine and the IAM role are provisioned again from the template at
each start, so they always match the code.

The header is read before anything starts and the payload unpickled whole before anything is
replaced, so a state written by another version is refused in one line, never half-loaded.

Snapshot points (docs/local-mode.md): every ``LOCAL_SNAPSHOT_SECONDS`` (default 2) when the
emulator received a write since the last one, at the end of each compaction run, on
``POST /__local/snapshot``, and on a clean stop. A snapshot waits until no request to the
emulator is in flight (no half-applied request is ever saved) and is written to a temporary
file and renamed, so a crash leaves the previous snapshot or the new one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import moto

from local import moto_bridge
from local.preflight import StartRefused

# Bump when what the file holds changes shape; a file of another format is refused.
STATE_FORMAT = 1
PERSISTED_SERVICES = ("s3", "dynamodb", "sqs", "glue", "firehose")
RESET_HINT = "run `make local-reset` to start afresh (it deletes that state)"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class StateRefused(StartRefused):
    """A state file this version cannot load; the message names it and what to do."""


@dataclass
class SavedState:
    header: dict[str, Any]
    backends: list[tuple[str, str, str, Any]]


def expected_header(fingerprint: str) -> dict[str, Any]:
    return {"format": STATE_FORMAT, "moto": moto.__version__, "fingerprint": fingerprint}


def load_state(path: Path, fingerprint: str) -> SavedState | None:
    """The state saved at ``path`` (None when there is none); :class:`StateRefused` for one this version
    did not write, read no further than its header, or one that does not read back whole."""
    if not path.exists():
        return None
    with path.open("rb") as handle:
        first_line = handle.readline()
        try:
            header = json.loads(first_line)
            written = {key: header[key] for key in ("format", "moto", "fingerprint")}
        except (ValueError, KeyError, TypeError):
            raise StateRefused(f"{path} is not a local stack state this version can read: {RESET_HINT}") from None
        expected = expected_header(fingerprint)
        if written != expected:
            raise StateRefused(
                f"{path} was written by another version of the local stack ({_describe(written)}; this one is "
                f"{_describe(expected)}) and is not loaded: {RESET_HINT}"
            )
        try:
            backends = pickle.load(handle)  # noqa: S301 - our own file, of our own version (header checked)
        except Exception:  # noqa: BLE001 - any unpickling failure is the same refusal
            raise StateRefused(f"{path} does not read back whole and is not loaded: {RESET_HINT}") from None
    return SavedState(header, backends)


def _describe(header: dict[str, Any]) -> str:
    return f"state format {header['format']}, moto {header['moto']}, resources {str(header['fingerprint'])[:12]}"


def fingerprint(resources: Iterable[tuple[str, str, str]]) -> str:
    """What the saved backends must match: ``(logical id, type, physical name)`` of each data store."""
    return hashlib.sha256(json.dumps(sorted(resources)).encode()).hexdigest()


class StateKeeper:
    """Counts writes to the emulator and takes snapshots between requests, never during one.

    Requests share a lock; a snapshot takes it alone, waiting for a moment when no request is in
    flight. New requests never wait for a snapshot that is only waiting (a request can call a
    function in-process that sends requests of its own: making those wait would deadlock)."""

    def __init__(self, path: Path, header: Callable[[], dict[str, Any]]) -> None:
        self.path = path
        self._header = header
        self._condition = threading.Condition()
        self._in_flight = 0
        self._saving = False
        self._writes = 0  # writes the emulator received; the snapshot saw those up to _saved_writes
        self._saved_writes = 0
        self._save_lock = threading.Lock()  # one snapshot at a time

    def guard(self, app: WsgiApp) -> WsgiApp:
        def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            with self._condition:
                while self._saving:
                    self._condition.wait()
                self._in_flight += 1
                if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
                    self._writes += 1
            answer = None
            try:
                answer = app(environ, start_response)
                return list(answer)  # moto builds its answer whole; applied before the request counts as done
            finally:
                close = getattr(answer, "close", None)
                if close is not None:
                    close()
                with self._condition:
                    self._in_flight -= 1
                    self._condition.notify_all()

        return counted

    @property
    def changed(self) -> bool:
        return self._writes != self._saved_writes

    def save(self, timeout: float | None = None) -> dict[str, Any] | None:
        """Write a snapshot; None when no quiet moment came within ``timeout`` seconds (nothing written)."""
        with self._save_lock:
            started = time.perf_counter()
            with self._condition:
                if not self._condition.wait_for(lambda: self._in_flight == 0, timeout):
                    return None
                self._saving = True
                writes = self._writes
            try:
                buffer = io.BytesIO()
                moto_bridge.dump_backends(moto_bridge.backend_state(PERSISTED_SERVICES), buffer)
                payload = buffer.getvalue()
            finally:
                with self._condition:
                    self._saving = False
                    self._condition.notify_all()
            header = json.dumps({**self._header(), "saved_at": time.time()}, separators=(",", ":")).encode()
            _write_atomically(self.path, header + b"\n" + payload)
            self._saved_writes = writes
            return {
                "path": str(self.path),
                "bytes": len(header) + 1 + len(payload),
                "seconds": round(time.perf_counter() - started, 3),
            }


def _write_atomically(path: Path, data: bytes) -> None:
    """Temporary file, fsync, rename: a crash leaves the old snapshot or the new one, never a part."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def reset(state_dir: Path) -> str:
    """``make local-reset``: delete the saved state (refused while a stack runs on the directory)."""
    from local.config import LocalConfig
    from local.preflight import claim_state_dir

    config = LocalConfig(state_dir=state_dir)
    claim = claim_state_dir(config)  # a running stack would save it again
    try:
        path = config.saved_state_file
        if not path.exists():
            return f"no saved state in {state_dir}: the next `make local` starts afresh"
        path.unlink()
        return f"deleted {path}: the next `make local` starts afresh (new demo keys)"
    finally:
        claim.release()


def main() -> int:
    """``python -m local.state reset`` (``make local-reset``), for ``LOCAL_STATE_DIR``."""
    from local.config import ConfigError, config_from_environment

    if sys.argv[1:] != ["reset"]:
        print("usage: python -m local.state reset   (deletes <LOCAL_STATE_DIR>/state.pickle)", file=sys.stderr)
        return 2
    try:
        print(reset(config_from_environment().state_dir))
    except (ConfigError, StartRefused) as refusal:
        print(f"local-reset refused: {refusal}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
