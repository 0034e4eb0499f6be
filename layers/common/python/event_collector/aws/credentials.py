"""Credentials for the request path's client, found where botocore's default chain finds them in Lambda.

1. **The environment**: ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY`` (and ``AWS_SESSION_TOKEN``, or
   the older ``AWS_SECURITY_TOKEN``), read on every call. A key id without its secret is an error, as in
   botocore (the chain does not go on).
2. **The container credential provider**, which Lambda uses instead with SnapStart (and ECS, EKS Pod
   Identity and Greengrass in containers): ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` (on
   ``http://169.254.170.2``) or else ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` (``https`` to any host; ``http``
   only to a loopback address or one of botocore's allowed hosts), sent the token of
   ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`` (read on every fetch) or ``AWS_CONTAINER_AUTHORIZATION_TOKEN``
   as ``Authorization``. The JSON answer's ``AccessKeyId``, ``SecretAccessKey``, ``Token`` and
   ``Expiration`` are kept and refreshed as botocore's ``RefreshableCredentials`` refreshes them: from 15
   minutes before expiry one call refreshes while the others go on with the current credentials (a failure
   keeps them); from 10 minutes before, every call waits for fresh ones (a failure is an error).

What botocore tries between and after those (profiles and files under ``~/.aws``, the instance metadata
service) does not exist in Lambda. A failure is an :class:`AwsCallError` (``CredentialRetrievalError``,
``MissingCredentials``), which the collector answers with a 503; no message carries a secret or a token.
One fetch is one HTTP attempt with a short timeout (the endpoint is on this machine): the client's own
attempts, within the caller's time budget, are the retries.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from event_collector.aws.errors import AwsCallError

log = logging.getLogger(__name__)

ADVISORY_REFRESH_SECONDS = 15 * 60  # botocore's: refresh if possible, without making other calls wait
MANDATORY_REFRESH_SECONDS = 10 * 60  # botocore's: every call waits for fresh credentials
# One fetch, each of connect and read (Lambda's endpoint is on the loopback address: a connection is made or
# refused at once, and it answers from memory). The Firehose sink counts it in an attempt's worst case
# (aws/firehose.py): at 0.4 s, four attempts, their backoff and the answer still fit the collector's 15 s.
CONTAINER_TIMEOUT_SECONDS = 0.4
RELATIVE_URI_HOST = "http://169.254.170.2"
# botocore's ContainerMetadataFetcher: plain http only to a loopback address or to these.
ALLOWED_HTTP_HOSTS = ("169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost")
FAILED = "CredentialRetrievalError"  # botocore's name for it


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)


def environment_credentials(environ: Mapping[str, str]) -> Credentials | None:
    access_key = environ.get("AWS_ACCESS_KEY_ID", "")
    if not access_key:
        return None
    secret_key = environ.get("AWS_SECRET_ACCESS_KEY", "")
    if not secret_key:
        raise AwsCallError("PartialCredentials", "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
    token = environ.get("AWS_SESSION_TOKEN") or environ.get("AWS_SECURITY_TOKEN") or None
    return Credentials(access_key, secret_key, token)


@dataclass(frozen=True)
class ContainerEndpoint:
    """Where the container credentials are, and how to ask (the environment's settings, as read)."""

    url: str
    token_file: str | None = None
    token: str | None = field(default=None, repr=False)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> ContainerEndpoint | None:
        if "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" in environ:
            url = RELATIVE_URI_HOST + environ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
        elif "AWS_CONTAINER_CREDENTIALS_FULL_URI" in environ:
            url = environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        else:
            return None
        return cls(
            url, environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"), environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
        )

    def authorization(self) -> str | None:
        token = self.token
        if self.token_file is not None:  # botocore: the file wins over the variable, and is read every time
            try:
                with open(self.token_file, encoding="utf-8") as file:
                    token = file.read()
            except (OSError, UnicodeDecodeError) as error:
                message = f"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE could not be read ({type(error).__name__})"
                raise AwsCallError(FAILED, message) from None
        if token is not None and ("\r" in token or "\n" in token):
            raise AwsCallError(FAILED, "the container authorization token holds a line break (not a header value)")
        return token


def check_container_url(url: str) -> None:
    """botocore's rule: ``https`` to any host, ``http`` to a loopback address or an allowed host."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and (_is_loopback(parts.hostname) or parts.hostname in ALLOWED_HTTP_HOSTS):
        return
    raise AwsCallError(
        FAILED,
        f"the container credentials URL must be https, or http to a loopback address or one of "
        f"{', '.join(ALLOWED_HTTP_HOSTS)}; its host is {parts.hostname!r}",
    )


def _is_loopback(host: str | None) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _expiry(text: object) -> float:
    if not isinstance(text, str):
        raise ValueError("Expiration is not a string")
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def fetch_container_credentials(
    endpoint: ContainerEndpoint, timeout: float = CONTAINER_TIMEOUT_SECONDS
) -> tuple[Credentials, float]:
    """One GET of the endpoint: the credentials and their expiry (epoch seconds)."""
    check_container_url(endpoint.url)
    headers = {"Accept": "application/json"}
    token = endpoint.authorization()
    if token is not None:
        headers["Authorization"] = token
    parts = urlsplit(endpoint.url)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        import ssl

        connection = http.client.HTTPSConnection(
            str(parts.hostname), parts.port or 443, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(str(parts.hostname), parts.port or 80, timeout=timeout)
    try:
        connection.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), headers=headers)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as error:
        raise AwsCallError(FAILED, f"container credentials: {type(error).__name__}", retryable=True) from None
    finally:
        connection.close()
    if response.status != 200:
        raise AwsCallError(FAILED, f"container credentials: HTTP {response.status}", retryable=True)
    try:
        document = json.loads(body)
        credentials = Credentials(
            str(document["AccessKeyId"]), str(document["SecretAccessKey"]), str(document["Token"])
        )
        return credentials, _expiry(document["Expiration"])
    except (ValueError, KeyError, TypeError):
        raise AwsCallError(
            FAILED,
            "container credentials: the answer is not JSON with AccessKeyId, SecretAccessKey, Token and an "
            "ISO 8601 Expiration",
            retryable=True,
        ) from None


class ContainerCredentials:
    """One endpoint's credentials, kept and refreshed ahead of expiry; safe to share between threads."""

    def __init__(
        self,
        endpoint: ContainerEndpoint,
        *,
        clock: Callable[[], float] = time.time,  # wall time: an expiry is a date (and survives a SnapStart restore)
        fetch: Callable[[ContainerEndpoint], tuple[Credentials, float]] = fetch_container_credentials,
    ) -> None:
        self.endpoint = endpoint
        self._clock = clock
        self._fetch = fetch
        self._held: tuple[Credentials, float] | None = None
        self._refreshing = threading.Lock()

    def _left(self, held: tuple[Credentials, float] | None) -> float:
        return -1.0 if held is None else held[1] - self._clock()

    def current(self) -> Credentials:
        held = self._held
        if held is not None and self._left(held) >= ADVISORY_REFRESH_SECONDS:
            return held[0]
        if self._refreshing.acquire(blocking=False):
            try:
                return self._refresh()
            finally:
                self._refreshing.release()
        held = self._held
        if held is not None and self._left(held) >= MANDATORY_REFRESH_SECONDS:
            return held[0]  # another call is refreshing them; these are still good for a while
        with self._refreshing:
            return self._refresh()

    def _refresh(self) -> Credentials:
        held = self._held
        if held is not None and self._left(held) >= ADVISORY_REFRESH_SECONDS:
            return held[0]  # refreshed while this call waited
        try:
            fresh = self._fetch(self.endpoint)
        except AwsCallError as error:
            if held is not None and self._left(held) >= MANDATORY_REFRESH_SECONDS:
                log.warning("Refreshing container credentials failed (%s); using the current ones", error.code)
                return held[0]
            raise
        if self._left(fresh) < 0:
            raise AwsCallError(FAILED, "container credentials: the endpoint answered expired credentials")
        self._held = fresh
        return fresh[0]


class CredentialChain:
    """The environment's credentials, else the container endpoint's (cached): what the client signs with."""

    def __init__(
        self,
        environ: Mapping[str, str] = os.environ,
        *,
        clock: Callable[[], float] = time.time,
        fetch: Callable[[ContainerEndpoint], tuple[Credentials, float]] = fetch_container_credentials,
    ) -> None:
        self._environ = environ
        self._clock = clock
        self._fetch = fetch
        self._container: ContainerCredentials | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Credentials:
        found = environment_credentials(self._environ)
        if found is not None:
            return found
        endpoint = ContainerEndpoint.from_environment(self._environ)
        if endpoint is None:
            raise AwsCallError(
                "MissingCredentials",
                "no credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, nor "
                "AWS_CONTAINER_CREDENTIALS_FULL_URI or AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            )
        with self._lock:
            if self._container is None or self._container.endpoint != endpoint:
                self._container = ContainerCredentials(endpoint, clock=self._clock, fetch=self._fetch)
            container = self._container
        return container.current()


# Shared by every client of the process: the container's credentials are fetched once, not once per client.
DEFAULT_CHAIN = CredentialChain()
