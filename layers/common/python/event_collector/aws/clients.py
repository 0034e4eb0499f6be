"""Every boto3 client of every function is made here, with one of two configurations.

- ``request``: clients on an API request's path (collector, authorizer).
  Every call is bounded by short timeouts and at most two attempts, so a
  request always ends in an answer within the Lambda's time (a 503 at worst,
  never API Gateway's 502). The Firehose sink retries on its own, within the
  time left, so its client makes one attempt per call.
- ``background``: everything else (fan-out, compaction, custom resources):
  the SDK's standard retries with more attempts, longer reads.
"""

from __future__ import annotations

from typing import Any, Literal

import boto3
from botocore.config import Config

Purpose = Literal["request", "background"]

CONFIGS: dict[Purpose, Config] = {
    "request": Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=1, read_timeout=2),
    "background": Config(retries={"mode": "standard", "total_max_attempts": 6}, connect_timeout=5, read_timeout=60),
}
# Firehose on the request path: one HTTP attempt per call (FirehoseRecordSink retries, ATTEMPT_SECONDS each).
SINGLE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})


def client(service: str, purpose: Purpose = "background", *, single_attempt: bool = False) -> Any:
    config = CONFIGS[purpose]
    if single_attempt:
        config = config.merge(SINGLE_ATTEMPT)
    return boto3.client(service, config=config)


def operator_session(region: str | None = None, **credentials: str) -> Any:
    """A session for the operator CLIs: the SDK's usual credentials and region unless given."""
    return boto3.Session(region_name=region, **credentials)


def operator_client(service: str, *, region: str | None = None, endpoint_url: str | None = None) -> Any:
    """A client for the operator CLIs; ``endpoint_url`` points it at the local mode."""
    return operator_session(region).client(service, endpoint_url=endpoint_url, config=CONFIGS["background"])
