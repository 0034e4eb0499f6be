"""Every AWS client of every function is made here, for one of three purposes.

- ``request``: clients on an API request's path (authorizer, collector):
  :mod:`event_collector.aws.json_client`, not boto3, so a cold start does
  not pay for importing the SDK (docs/decisions.md). Every call is bounded
  by short timeouts (connect 1 s, read 2 s) and at most two attempts, so a
  request always ends in an answer within the Lambda's time (a 503 at worst,
  never API Gateway's 502). The Firehose sink retries on its own, within the
  time left, so its client makes one attempt per call.
- ``counting``: the collector's counter writes, made after Firehose took the
  request's events, when the answer is already 200: the same lean client with
  shorter timeouts (connect 0.5 s, read 1 s; counts/realtime.py budgets them).
- ``background``: everything else (fan-out, compaction, custom resources,
  operator CLIs): boto3 with the SDK's standard retries, more attempts,
  longer reads. boto3 is imported only when such a client is made. The
  compaction functions' Glue and Athena calls go through awswrangler, which
  makes its own clients from a :func:`session`, with the same settings
  (``event_collector.aws.wrangler``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Purpose = Literal["request", "counting", "background"]
REQUEST_CLIENTS = ("dynamodb", "firehose")


def client(service: str, purpose: Purpose = "background", *, single_attempt: bool = False) -> Any:
    if purpose == "request":
        return request_client(service, single_attempt=single_attempt)
    if purpose == "counting":
        return request_client(service, connect_timeout=0.5, read_timeout=1.0)
    import boto3

    return boto3.client(service, config=background_config(single_attempt=single_attempt))


def background_config(*, single_attempt: bool = False) -> Any:
    """The SDK's standard retries (6 attempts), a 5 s connect and a 60 s read: every background client's."""
    from botocore.config import Config

    attempts = 1 if single_attempt else 6
    return Config(retries={"mode": "standard", "total_max_attempts": attempts}, connect_timeout=5, read_timeout=60)


def session() -> Any:
    """The session awswrangler makes its clients from (Glue, Athena): boto3's default one, which
    :func:`client` uses too, so both see the same credentials, region and event hooks."""
    import boto3

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    return boto3.DEFAULT_SESSION


def request_client(
    service: str, *, single_attempt: bool = False, connect_timeout: float = 1.0, read_timeout: float = 2.0
) -> Any:
    from event_collector.aws.json_client import DynamoDBClient, FirehoseClient

    timeouts = {"connect_timeout": connect_timeout, "read_timeout": read_timeout}
    attempts = 1 if single_attempt else 2
    if service == "dynamodb":
        return DynamoDBClient(max_attempts=attempts, **timeouts)
    if service == "firehose":
        return FirehoseClient(max_attempts=attempts, **timeouts)
    raise ValueError(f"no request-path client for {service}; the request path calls only {REQUEST_CLIENTS}")


def operator_session(region: str | None = None, **credentials: str) -> Any:
    """A session for the operator CLIs: the SDK's usual credentials and region unless given."""
    import boto3

    return boto3.Session(region_name=region, **credentials)


def operator_client(
    service: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    credentials: Mapping[str, str] | None = None,
) -> Any:
    """A client for the operator CLIs; ``endpoint_url`` points it at the local mode.

    With ``credentials`` (the local mode's stand-ins), at most two attempts and a short connect: the local
    stack answers at once or not at all, so no long retries against a stopped one."""
    from botocore.config import Config

    if credentials:
        config = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=2, read_timeout=60)
    else:
        config = Config(retries={"mode": "standard", "total_max_attempts": 6}, connect_timeout=5, read_timeout=60)
    session = operator_session(region, **(credentials or {}))
    return session.client(service, endpoint_url=endpoint_url, config=config)
