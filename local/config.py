"""Local-mode settings, from environment variables (documented in docs/local-mode.md)."""

from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.template import ROOT

DEFAULT_API_PORT = 3000
DEFAULT_AWS_PORT = 3001
# The name `sam local`'s Lambda containers reach this machine by (docs/local-mode.md).
DOCKER_HOST_NAME = "host.docker.internal"
# Every client of the local stack (its handlers, SAM's Lambda containers) signs with these; moto accepts any.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


@dataclass(frozen=True)
class LocalConfig:
    api_port: int = DEFAULT_API_PORT
    aws_port: int = DEFAULT_AWS_PORT
    state_dir: Path = ROOT / ".local"
    stack_name: str = "event-collector-local"
    region: str = "us-east-1"
    # None: the template's AuthorizerCacheTtlSeconds default.
    authorizer_ttl: int | None = None
    quiet: bool = False
    # Test-only: arms /__local/faults (docs/local-mode.md). Never set in the deployed stack.
    fault_injection: bool = False
    # Optional: run the compaction workflow every this many seconds (the cloud's schedule, locally).
    compaction_interval: float | None = None
    # The template's ApiType: which API Gateway the local gateway behaves as (REST or HTTP).
    api_type: str = "REST"
    # The template's CountingMode: who keeps the counters (realtime: the collector; delivered: the fan-out).
    counting_mode: str = "realtime"
    # Seconds the gateway waits for a slow or half-sent request before answering 400.
    read_timeout: float = 10.0
    # None: the template's SchemaCacheSeconds default (60); 0 reads a tenant's schemas on every request.
    schema_cache_seconds: int | None = None
    # Optional: one more address the AWS emulator listens on, for `sam local`'s Lambda containers on Linux
    # (the Docker bridge's, which they reach as host.docker.internal); docs/local-mode.md.
    docker_address: str | None = None
    # Seconds between snapshots of the state while the emulator receives writes (local/state.py).
    snapshot_seconds: float = 2.0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def aws_endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    @property
    def stack_file(self) -> Path:
        return self.state_dir / "stack.json"

    @property
    def sam_env_file(self) -> Path:
        """The ``--env-vars`` file for ``sam local`` (local/sam_env.py)."""
        return self.state_dir / "sam-env.json"

    @property
    def saved_state_file(self) -> Path:
        """What survives a stop or a crash (local/state.py); ``make local-reset`` deletes it."""
        return self.state_dir / "state.pickle"


class ConfigError(ValueError):
    """A local-mode variable holds something unusable; the message names it."""


def _number(name: str, default: str | None, kind: type[int] | type[float], *, positive: bool = False) -> Any:
    text = os.environ.get(name, default)
    if text is None or text == "":
        return None
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not a{'n integer' if kind is int else ' number'}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name}={text!r} must be a finite number")
    if value < 0 or (positive and value == 0):
        raise ConfigError(f"{name}={text!r} must be {'greater than 0' if positive else 'at least 0'}")
    return value


def _flag(name: str, default: str = "") -> bool:
    text = os.environ.get(name, "").strip().lower() or default  # unset or empty: the default
    return text not in ("", "0", "false", "no")


def _docker_address(name: str) -> str | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ConfigError(
            f"{name}={text!r} is not an IP address: give the Docker bridge's, e.g. {name}=172.17.0.1"
        ) from None
    if address.is_unspecified:
        raise ConfigError(f"{name}={text!r} would open the AWS emulator to every network: give the Docker bridge's")
    if address.is_loopback:
        raise ConfigError(f"{name}={text!r} is a loopback address: the emulator listens on 127.0.0.1 anyway")
    return str(address)


def _schema_cache_seconds(name: str) -> int | None:
    """The template's SchemaCacheSeconds range (0 to 3600), or None for its default."""
    value: int | None = _number(name, None, int)
    if value is not None and value > 3600:
        raise ConfigError(f"{name}={value!r} must be at most 3600 (the template's SchemaCacheSeconds range)")
    return value


def config_from_environment() -> LocalConfig:
    """The settings; raises :class:`ConfigError` naming the variable when one is unusable."""
    env = os.environ
    api_type = env.get("LOCAL_API_TYPE", "REST").upper()
    if api_type not in ("REST", "HTTP"):
        raise ConfigError(f"LOCAL_API_TYPE={api_type!r} must be REST or HTTP")
    counting_mode = env.get("LOCAL_COUNTING_MODE", "realtime").lower()
    if counting_mode not in ("realtime", "delivered"):
        raise ConfigError(f"LOCAL_COUNTING_MODE={counting_mode!r} must be realtime or delivered")
    return LocalConfig(
        api_port=_number("LOCAL_API_PORT", str(DEFAULT_API_PORT), int),
        aws_port=_number("LOCAL_AWS_PORT", str(DEFAULT_AWS_PORT), int),
        state_dir=Path(env.get("LOCAL_STATE_DIR") or str(ROOT / ".local")),
        stack_name=env.get("LOCAL_STACK_NAME", "event-collector-local"),
        authorizer_ttl=_number("LOCAL_AUTHORIZER_TTL", None, int),
        quiet=_flag("LOCAL_QUIET", "1") and not _flag("LOCAL_VERBOSE"),
        fault_injection=_flag("LOCAL_FAULT_INJECTION"),
        compaction_interval=_number("LOCAL_COMPACTION_INTERVAL", None, float, positive=True),
        read_timeout=_number("LOCAL_READ_TIMEOUT", "10", float, positive=True),
        schema_cache_seconds=_schema_cache_seconds("LOCAL_SCHEMA_CACHE_SECONDS"),
        api_type=api_type,
        counting_mode=counting_mode,
        docker_address=_docker_address("LOCAL_AWS_DOCKER_ADDRESS"),
        snapshot_seconds=_number("LOCAL_SNAPSHOT_SECONDS", "2", float, positive=True),
    )
