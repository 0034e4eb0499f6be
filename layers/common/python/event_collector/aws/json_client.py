"""A small client for AWS's JSON protocol, for the functions on a request's path (authorizer, collector).

Why not boto3 there: importing boto3 and building one client costs about 1.6x
a bare ``import boto3`` before any of our code runs, on every cold start of
the two functions a user waits on (docs/decisions.md, bench/cold_import_bench.py).
Those functions make a handful of calls (DynamoDB ``GetItem``, ``Query``,
``BatchGetItem`` and ``UpdateItem``: keys, rate limits, counters, suppressions;
``PutItem`` and ``TransactWriteItems``: privacy requests; Firehose
``PutRecordBatch``), all of them in the same protocol: a signed ``POST /`` with
``X-Amz-Target`` and a JSON body. This module does exactly that and nothing else:

- Signature Version 4 (tests check it against botocore's signer);
- credentials from the environment Lambda sets (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
  ``AWS_SESSION_TOKEN``), or else from its container credential endpoint (SnapStart), kept and
  refreshed ahead of expiry (:mod:`event_collector.aws.credentials`);
- the region from ``AWS_REGION``, the endpoint as botocore resolves it in every partition, FIPS and
  dual-stack included, ``AWS_ENDPOINT_URL[_<SERVICE>]`` first (:mod:`event_collector.aws.endpoints`);
- kept-alive HTTPS connections, one per call in flight (calls from several
  threads run side by side, as the counters' writes do), connect and read timeouts;
- the SDKs' "standard" retry rules for throttling, 5xx and broken connections,
  up to ``max_attempts``; DynamoDB's CRC32 checked;
- errors raised as :class:`AwsCallError` with the service's error code.

Method names and shapes are boto3's low-level ones (``get_item(TableName=...)``
returns the same dict), so the adapters take either client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import random
import select
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from event_collector.aws.credentials import DEFAULT_CHAIN, Credentials
from event_collector.aws.endpoints import endpoint_for
from event_collector.aws.errors import AwsCallError

ALGORITHM = "AWS4-HMAC-SHA256"
# The SDKs' standard retry mode: these codes and statuses are worth another attempt.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
TRANSIENT_CODES = frozenset({"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"})
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
BASE_DELAY_SECONDS = 0.05
# More than the counters' parallel writes (aws/counters_table.py): every call in flight returns its connection.
MAX_IDLE_CONNECTIONS = 16
# How a reused connection fails when the service had closed it: the request was never read, so it may go again.
# (A timeout is not among them: the service may have applied the request.)
CLOSED_BY_PEER = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, http.client.RemoteDisconnected)
_TLS: list[Any] = []  # the TLS context, made on the first TLS connection: loading the CA store costs ~20 ms


def _tls() -> Any:
    if not _TLS:
        import ssl  # only when a TLS connection is opened: a local endpoint needs none

        _TLS.append(ssl.create_default_context())
    return _TLS[0]


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """An idle kept-alive connection is readable only if the service closed it (EOF) or broke the protocol."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


@dataclass(frozen=True)
class Service:
    signing_name: str  # also the endpoint's host prefix
    target_prefix: str
    json_version: str
    check_crc32: bool = False


DYNAMODB = Service("dynamodb", "DynamoDB_20120810", "1.0", check_crc32=True)
FIREHOSE = Service("firehose", "Firehose_20150804", "1.1")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def sign(
    *,
    method: str,
    host: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    service: str,
    region: str,
    credentials: Credentials,
    now: datetime,
) -> dict[str, str]:
    """The headers to add for Signature Version 4 (``X-Amz-Date``, the token, ``Authorization``).

    Every header in ``headers`` (and ``host``) is signed; ``path`` is already URI-encoded and
    has no query string (the JSON protocol always posts to ``/``)."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    added = {"X-Amz-Date": stamp}
    if credentials.token:
        added["X-Amz-Security-Token"] = credentials.token
    signed = {name.lower(): " ".join(value.split()) for name, value in {**headers, **added, "Host": host}.items()}
    names = sorted(signed)
    canonical = "\n".join(
        [
            method,
            path,
            "",
            *(f"{name}:{signed[name]}" for name in names),
            "",
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{credentials.secret_key}".encode(), day), region), service), "aws4_request")
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    added["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature}"
    )
    return added


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")  # the JSON protocol's blobs
    raise TypeError(f"cannot send {type(value).__name__}")


class JsonServiceClient:
    def __init__(
        self,
        service: Service,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        credentials: Credentials | Callable[[], Credentials] | None = None,
        connect_timeout: float = 1.0,
        read_timeout: float = 2.0,
        max_attempts: int = 2,
    ) -> None:
        self.service = service
        self.region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.endpoint_url = endpoint_url or endpoint_for(service.signing_name, self.region)
        parts = urlsplit(self.endpoint_url)
        self._https = parts.scheme == "https"
        self._host = parts.netloc
        # Fixed credentials, or where to find them on each call (the environment, else the container endpoint).
        self._credentials: Callable[[], Credentials] = DEFAULT_CHAIN
        if isinstance(credentials, Credentials):
            fixed = credentials
            self._credentials = lambda: fixed
        elif credentials is not None:
            self._credentials = credentials
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_attempts = max_attempts
        # Idle kept-alive connections; a call takes one (or opens one) and gives it back when it ends well.
        self._idle: list[http.client.HTTPConnection] = []
        self._pool_lock = threading.Lock()

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(params, separators=(",", ":"), default=_encode).encode("utf-8")
        headers = {
            "Content-Type": f"application/x-amz-json-{self.service.json_version}",
            "X-Amz-Target": f"{self.service.target_prefix}.{operation}",
        }
        for attempt in range(self._max_attempts):
            if attempt:
                time.sleep(random.uniform(0, BASE_DELAY_SECONDS * 2**attempt))  # noqa: S311 - jitter, full
            try:
                return self._send(headers, body)
            except AwsCallError as error:
                if not error.retryable or attempt + 1 == self._max_attempts:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        credentials = self._credentials()
        signed = sign(
            method="POST",
            host=self._host,
            path="/",
            headers=headers,
            body=body,
            service=self.service.signing_name,
            region=self.region,
            credentials=credentials,
            now=datetime.now(UTC),
        )
        try:
            status, payload, crc = self._exchange({**headers, **signed}, body)
        except (OSError, http.client.HTTPException) as error:
            raise AwsCallError(type(error).__name__, "connection failed", retryable=True) from None
        if self.service.check_crc32 and crc is not None and zlib.crc32(payload) != int(crc):
            raise AwsCallError("CRC32MismatchError", "response checksum mismatch", retryable=True)
        try:
            document = json.loads(payload) if payload else {}
        except ValueError:  # a proxy's HTML error page, a truncated body
            document = {"__type": f"HTTP{status}"}
        if status >= 300:
            code = str(document.get("__type", f"HTTP{status}")).rsplit("#", 1)[-1]
            message = str(document.get("message") or document.get("Message") or "")
            retryable = status in RETRYABLE_STATUSES or code in THROTTLING_CODES or code in TRANSIENT_CODES
            raise AwsCallError(code, message, status=status, retryable=retryable)
        if not isinstance(document, dict):
            raise AwsCallError("InvalidResponse", "the response is not a JSON object", status=status)
        return document

    def _exchange(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str | None]:
        connection, reused = self._take()
        try:
            return self._round_trip(connection, headers, body)
        except CLOSED_BY_PEER:
            if not reused:
                raise
        # A kept-alive connection the service closed while this container was idle (or frozen), found only
        # by using it: the request never reached the service, so it goes again at once on a new connection,
        # without spending one of the caller's attempts. The other idle ones are as old: closed too.
        self.close()
        return self._round_trip(self._connect(), headers, body)

    def _round_trip(
        self, connection: http.client.HTTPConnection, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes, str | None]:
        try:
            connection.request("POST", "/", body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except BaseException:
            connection.close()  # its state is unknown: never reused
            raise
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
        else:
            self._give_back(connection)
        return response.status, payload, response.getheader("x-amz-crc32")

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection the service has not closed (it would be readable: EOF), else a new one."""
        while True:
            with self._pool_lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return self._connect(), False
            if not _dropped(connection):
                return connection, True
            connection.close()

    def _give_back(self, connection: http.client.HTTPConnection) -> None:
        with self._pool_lock:
            if len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append(connection)
                return
        connection.close()

    def _connect(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection
        if self._https:
            connection = http.client.HTTPSConnection(self._host, timeout=self._connect_timeout, context=_tls())
        else:
            connection = http.client.HTTPConnection(self._host, timeout=self._connect_timeout)
        connection.connect()
        if connection.sock is not None:
            connection.sock.settimeout(self._read_timeout)
        return connection

    def close(self) -> None:
        """Close every idle connection (calls in flight close theirs when they end)."""
        with self._pool_lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


class DynamoDBClient(JsonServiceClient):
    def __init__(self, **options: Any) -> None:
        super().__init__(DYNAMODB, **options)

    def get_item(self, **params: Any) -> dict[str, Any]:
        return self.call("GetItem", params)

    def query(self, **params: Any) -> dict[str, Any]:
        return self.call("Query", params)

    def batch_get_item(self, **params: Any) -> dict[str, Any]:
        return self.call("BatchGetItem", params)

    def update_item(self, **params: Any) -> dict[str, Any]:
        return self.call("UpdateItem", params)

    def put_item(self, **params: Any) -> dict[str, Any]:
        return self.call("PutItem", params)

    def transact_write_items(self, **params: Any) -> dict[str, Any]:
        return self.call("TransactWriteItems", params)


class FirehoseClient(JsonServiceClient):
    def __init__(self, **options: Any) -> None:
        super().__init__(FIREHOSE, **options)

    def put_record_batch(self, **params: Any) -> dict[str, Any]:
        return self.call("PutRecordBatch", params)
