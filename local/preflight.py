"""What the local mode checks before it starts anything (docs/local-mode.md, "Two stacks").

- **One stack per state directory.** The stack holds an exclusive lock on
  ``<state dir>/stack.lock`` for its whole life (the kernel releases it when
  the process dies, however it dies). A second stack on the same directory
  is refused before it touches anything, so it can never overwrite or delete
  the first one's ``stack.json``.
- **Both ports free**, checked by binding them; a taken port is refused with
  one line naming the port and the variable that changes it, before the AWS
  emulator or the gateway start. With ``LOCAL_AWS_DOCKER_ADDRESS``, the AWS
  port on that address too, which must be one of this machine's.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
from pathlib import Path
from typing import IO

from local.config import LocalConfig

LOCK_FILE = "stack.lock"


class StartRefused(Exception):
    """The stack cannot start; the message is one line for a person, naming what to change."""


class StateDirClaim:
    """The exclusive lock on a state directory, held until :meth:`release` (or the process ends)."""

    def __init__(self, handle: IO[str], state_dir: Path) -> None:
        self._handle = handle
        self.state_dir = state_dir

    def release(self) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()


def claim_state_dir(config: LocalConfig) -> StateDirClaim:
    try:
        config.state_dir.mkdir(parents=True, exist_ok=True)
        handle = open(config.state_dir / LOCK_FILE, "a+", encoding="utf-8")  # noqa: SIM115 - held for the stack's life
    except OSError as error:
        raise StartRefused(
            f"cannot use the state directory {config.state_dir} ({error.strerror}): set LOCAL_STATE_DIR"
        ) from error
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise StartRefused(
            f"another local stack is running with state directory {config.state_dir}{_describe(config.stack_file)}: "
            "stop it first, or give a second stack its own "
            "LOCAL_STATE_DIR, LOCAL_API_PORT and LOCAL_AWS_PORT"
        ) from None
    # Ours now: a stack.json (or sam-env.json) here was left by a stack that did not stop cleanly (SIGKILL,
    # the stop deadline).
    config.stack_file.unlink(missing_ok=True)
    config.sam_env_file.unlink(missing_ok=True)
    return StateDirClaim(handle, config.state_dir)


def stack_is_running(config: LocalConfig) -> bool:
    """Whether a stack holds the state directory's lock (a stack.json without one is stale)."""
    try:
        with open(config.state_dir / LOCK_FILE, encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # locked: a stack holds it
    return False  # we could take it: nobody holds it (closing the file released it again)


def check_ports(config: LocalConfig) -> None:
    if config.api_port == config.aws_port:
        raise StartRefused(f"LOCAL_API_PORT and LOCAL_AWS_PORT are both {config.api_port}: give them different ports")
    for port, variable, role in (
        (config.api_port, "LOCAL_API_PORT", "the API"),
        (config.aws_port, "LOCAL_AWS_PORT", "the AWS emulator"),
    ):
        problem = _bind_problem(port)
        if problem:
            raise StartRefused(
                f"port {port} ({role}) {problem}: set {variable} to a free port, e.g. {variable}={_free_port()}"
            )
    if config.docker_address:
        problem = _bind_problem(config.aws_port, config.docker_address)
        if problem == "is not an address of this machine":
            raise StartRefused(
                f"LOCAL_AWS_DOCKER_ADDRESS={config.docker_address} {problem}: give the Docker bridge's "
                "(`ip -4 addr show docker0`, usually 172.17.0.1), or unset it"
            )
        if problem:
            raise StartRefused(
                f"port {config.aws_port} on {config.docker_address} (the AWS emulator for Docker) {problem}: "
                f"set LOCAL_AWS_PORT to a free port, e.g. LOCAL_AWS_PORT={_free_port()}"
            )


def _bind_problem(port: int, host: str = "127.0.0.1") -> str | None:
    if not 1 <= port <= 65535:
        return "is not a TCP port"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As the servers bind: SO_REUSEADDR, so a port in TIME_WAIT after a stop is not "taken".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except PermissionError:
            return "needs privileges to listen on"
        except OSError as error:
            if error.errno == errno.EADDRNOTAVAIL:
                return "is not an address of this machine"
            return "is in use by another program"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _describe(stack_file: Path) -> str:
    """`` (pid 123, http://127.0.0.1:3000)`` from the running stack's stack.json, when it is readable."""
    try:
        info = json.loads(stack_file.read_text(encoding="utf-8"))
        return f" (pid {int(info['pid'])}, {info['api_url']})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def write_atomically(path: Path, text: str) -> None:
    """Readers (make compact, the tests) never see half a stack.json."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
