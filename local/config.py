"""Local-mode settings, from environment variables (documented in docs/local-mode.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tools.template import ROOT

DEFAULT_API_PORT = 3000
DEFAULT_AWS_PORT = 3001


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

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def aws_endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    @property
    def stack_file(self) -> Path:
        return self.state_dir / "stack.json"


def config_from_environment() -> LocalConfig:
    env = os.environ
    ttl = env.get("LOCAL_AUTHORIZER_TTL")
    return LocalConfig(
        api_port=int(env.get("LOCAL_API_PORT", DEFAULT_API_PORT)),
        aws_port=int(env.get("LOCAL_AWS_PORT", DEFAULT_AWS_PORT)),
        state_dir=Path(env.get("LOCAL_STATE_DIR", str(ROOT / ".local"))),
        stack_name=env.get("LOCAL_STACK_NAME", "event-collector-local"),
        authorizer_ttl=int(ttl) if ttl is not None else None,
        quiet=env.get("LOCAL_QUIET", "") not in ("", "0", "false"),
        fault_injection=env.get("LOCAL_FAULT_INJECTION", "") not in ("", "0", "false"),
        compaction_interval=float(env["LOCAL_COMPACTION_INTERVAL"]) if env.get("LOCAL_COMPACTION_INTERVAL") else None,
        api_type=env.get("LOCAL_API_TYPE", "REST").upper(),
    )
