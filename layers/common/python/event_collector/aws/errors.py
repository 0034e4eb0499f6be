"""The errors an AWS call may raise, described by their code, without echoing request data."""

from __future__ import annotations

import sys


class AwsCallError(Exception):
    """A failed call of :mod:`event_collector.aws.json_client`: the service's error code (or the
    connection failure's type), whether the SDKs would retry it, and the HTTP status if any."""

    def __init__(self, code: str, message: str = "", *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.status = status
        self.retryable = retryable


def aws_errors() -> tuple[type[Exception], ...]:
    """The exception types an AWS call may raise, for ``except aws_errors():``.

    Python evaluates an ``except`` expression only when an exception reaches it, and a botocore
    exception can only exist once ``botocore.exceptions`` is loaded: so the functions that never
    load botocore (docs/decisions.md, the request path) never pay for importing it here."""
    loaded = sys.modules.get("botocore.exceptions")
    if loaded is None:
        return (AwsCallError,)
    return (AwsCallError, loaded.ClientError, loaded.BotoCoreError)


def error_code(error: Exception) -> str:
    if isinstance(error, AwsCallError):
        return error.code
    response = getattr(error, "response", None)
    if isinstance(response, dict):  # botocore's ClientError
        return str(response.get("Error", {}).get("Code", "ClientError"))
    return type(error).__name__


def setup_error(error: Exception) -> tuple[str, str] | None:
    """``(kind, detail)`` when the SDK refused to make a call for want of set-up, else None.

    Kinds: ``no_region``, ``no_credentials``, ``profile_not_found`` (detail: the message) and
    ``unreachable`` (detail: the endpoint), for the operator CLIs to say what to set."""
    loaded = sys.modules.get("botocore.exceptions")
    if loaded is None:
        return None
    if isinstance(error, loaded.NoRegionError):
        return "no_region", ""
    if isinstance(error, loaded.NoCredentialsError | loaded.PartialCredentialsError):
        return "no_credentials", ""
    if isinstance(error, loaded.ProfileNotFound):
        return "profile_not_found", str(error)
    if isinstance(error, loaded.EndpointConnectionError):
        return "unreachable", str(error.kwargs.get("endpoint_url"))
    return None
