"""The request path's lean AWS client: botocore's signatures, boto3's answers, the SDKs' retry rules.

Signatures are compared with botocore's own signer; calls go over HTTP to a
moto server (the same endpoint the local mode uses) and are compared with
what boto3 gets for the same call; retries run against a scripted server.
"""

from __future__ import annotations

import contextlib
import json
import threading
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from hypothesis import given, settings
from hypothesis import strategies as st

from event_collector.aws.credentials import Credentials
from event_collector.aws.errors import AwsCallError, aws_errors, error_code
from event_collector.aws.json_client import (
    DYNAMODB,
    FIREHOSE,
    DynamoDBClient,
    FirehoseClient,
    sign,
)
from tools.harness import free_port

CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")


@settings(max_examples=50, deadline=None)
@given(
    service=st.sampled_from([DYNAMODB, FIREHOSE]),
    region=st.sampled_from(["us-east-1", "eu-west-3", "ap-southeast-2", "cn-north-1"]),
    body=st.binary(max_size=300),
    token=st.none() | st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789+/=", min_size=1, max_size=60),
    moment=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
    port=st.none() | st.integers(min_value=1, max_value=65535),
)
def test_given_any_request_when_signed_then_the_signature_is_botocores(service, region, body, token, moment, port):
    host = f"{service.signing_name}.{region}.amazonaws.com" + (f":{port}" if port else "")
    headers = {
        "Content-Type": f"application/x-amz-json-{service.json_version}",
        "X-Amz-Target": f"{service.target_prefix}.GetItem",
    }
    credentials = Credentials(CREDENTIALS.access_key, CREDENTIALS.secret_key, token)
    now = moment.replace(tzinfo=UTC, microsecond=0)

    ours = sign(
        method="POST",
        host=host,
        path="/",
        headers=headers,
        body=body,
        service=service.signing_name,
        region=region,
        credentials=credentials,
        now=now,
    )

    request = AWSRequest(method="POST", url=f"https://{host}/", data=body, headers={**headers, "Host": host})
    request.context["timestamp"] = now.strftime("%Y%m%dT%H%M%SZ")
    signer = SigV4Auth(
        BotoCredentials(credentials.access_key, credentials.secret_key, token), service.signing_name, region
    )
    request.headers["X-Amz-Date"] = request.context["timestamp"]
    if token:
        request.headers["X-Amz-Security-Token"] = token
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    assert ours["Authorization"].endswith(f"Signature={expected}")
    assert f"SignedHeaders={signer.signed_headers(signer.headers_to_sign(request))}," in ours["Authorization"]


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def boto3_client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


def lean(cls: Any, endpoint: str) -> Any:
    return cls(endpoint_url=endpoint, region="us-east-1", credentials=CREDENTIALS)


@pytest.fixture(scope="module")
def table(moto_endpoint) -> str:
    dynamodb = boto3_client("dynamodb", moto_endpoint)
    dynamodb.create_table(
        TableName="lean",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    for hour in range(5):
        item = {"pk": {"S": "p"}, "sk": {"S": f"h#{hour:02d}"}, "count": {"N": str(hour * 7)}, "é": {"S": "ü ✓"}}
        dynamodb.put_item(TableName="lean", Item=item)
    return "lean"


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("get_item", {"Key": {"pk": {"S": "p"}, "sk": {"S": "h#03"}}, "ConsistentRead": True}),
        ("get_item", {"Key": {"pk": {"S": "p"}, "sk": {"S": "absent"}}}),
        (
            "query",
            {
                "KeyConditionExpression": "pk = :pk AND sk BETWEEN :a AND :b",
                "ExpressionAttributeValues": {":pk": {"S": "p"}, ":a": {"S": "h#01"}, ":b": {"S": "h#03"}},
            },
        ),
    ],
)
def test_given_a_dynamodb_call_when_made_by_both_clients_then_the_answers_are_equal(
    moto_endpoint, table, operation, params
):
    expected = getattr(boto3_client("dynamodb", moto_endpoint), operation)(TableName=table, **params)
    ours = getattr(lean(DynamoDBClient, moto_endpoint), operation)(TableName=table, **params)

    expected.pop("ResponseMetadata")
    assert ours == expected


def test_given_a_batch_read_when_made_by_both_clients_then_the_answers_are_equal(moto_endpoint, table):
    keys = [{"pk": {"S": "p"}, "sk": {"S": f"h#{hour:02d}"}} for hour in (0, 3, 9)]
    request = {table: {"Keys": keys, "ProjectionExpression": "pk, sk, #c", "ExpressionAttributeNames": {"#c": "count"}}}

    expected = boto3_client("dynamodb", moto_endpoint).batch_get_item(RequestItems=request)
    ours = lean(DynamoDBClient, moto_endpoint).batch_get_item(RequestItems=request)

    expected.pop("ResponseMetadata")
    assert ours == expected
    assert len(ours["Responses"][table]) == 2


def test_given_an_update_when_made_by_both_clients_then_the_answers_are_equal(moto_endpoint, table):
    def update(pk: str) -> dict[str, Any]:
        return {
            "TableName": table,
            "Key": {"pk": {"S": pk}, "sk": {"S": "x"}},
            "UpdateExpression": "ADD n :one SET expires_at = :later",
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":later": {"N": "2000000000"}},
            "ReturnValues": "UPDATED_NEW",
        }

    expected = boto3_client("dynamodb", moto_endpoint).update_item(**update("by-boto3"))
    ours = lean(DynamoDBClient, moto_endpoint).update_item(**update("by-lean"))

    expected.pop("ResponseMetadata")
    for answer in (expected, ours):  # moto also returns the key, which differs here by design
        answer["Attributes"].pop("pk", None)
    assert ours == expected
    assert ours["Attributes"]["n"] == {"N": "1"}


def test_given_a_conditional_put_when_made_by_both_clients_then_answers_and_refusals_are_equal(moto_endpoint, table):
    def put(sk: str) -> dict[str, Any]:
        return {
            "TableName": table,
            "Item": {"pk": {"S": "put"}, "sk": {"S": sk}, "m": {"M": {"raw/": {"N": "2"}}}},
            "ConditionExpression": "attribute_not_exists(sk)",
        }

    expected = boto3_client("dynamodb", moto_endpoint).put_item(**put("by-boto3"))
    ours = lean(DynamoDBClient, moto_endpoint).put_item(**put("by-lean"))
    with pytest.raises(aws_errors()) as refused:
        lean(DynamoDBClient, moto_endpoint).put_item(**put("by-boto3"))
    stored = boto3_client("dynamodb", moto_endpoint).get_item(
        TableName=table, Key={"pk": {"S": "put"}, "sk": {"S": "by-lean"}}
    )

    expected.pop("ResponseMetadata")
    assert ours == expected
    assert stored["Item"]["m"] == {"M": {"raw/": {"N": "2"}}}
    assert error_code(refused.value) == "ConditionalCheckFailedException"
    assert not refused.value.retryable  # type: ignore[attr-defined]


def test_given_a_transaction_when_made_by_both_clients_then_both_writes_land_or_neither(moto_endpoint, table):
    def transaction(sk: str, side: str) -> list[dict[str, Any]]:
        return [
            {
                "Put": {
                    "TableName": table,
                    "Item": {"pk": {"S": "tx"}, "sk": {"S": sk}},
                    "ConditionExpression": "attribute_not_exists(sk)",
                }
            },
            {"Put": {"TableName": table, "Item": {"pk": {"S": "tx-side"}, "sk": {"S": side}}}},
        ]

    def written(pk: str) -> list[str]:
        found = boto3_client("dynamodb", moto_endpoint).query(
            TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}}
        )
        return sorted(item["sk"]["S"] for item in found["Items"])

    expected = boto3_client("dynamodb", moto_endpoint).transact_write_items(TransactItems=transaction("b", "b-1"))
    ours = lean(DynamoDBClient, moto_endpoint).transact_write_items(TransactItems=transaction("l", "l-1"))
    with pytest.raises(aws_errors()) as boto3_refused:
        boto3_client("dynamodb", moto_endpoint).transact_write_items(TransactItems=transaction("l", "b-2"))
    with pytest.raises(aws_errors()) as lean_refused:
        lean(DynamoDBClient, moto_endpoint).transact_write_items(TransactItems=transaction("b", "l-2"))

    expected.pop("ResponseMetadata")
    assert ours == expected
    assert (written("tx"), written("tx-side")) == (["b", "l"], ["b-1", "l-1"])  # the refused ones wrote nothing
    assert error_code(lean_refused.value) == error_code(boto3_refused.value) == "TransactionCanceledException"
    assert not lean_refused.value.retryable  # type: ignore[attr-defined]


def test_given_calls_from_several_threads_when_made_then_each_gets_its_own_answer(moto_endpoint, table):
    from concurrent.futures import ThreadPoolExecutor

    client = lean(DynamoDBClient, moto_endpoint)

    def read(hour: int) -> str:
        item = client.get_item(TableName=table, Key={"pk": {"S": "p"}, "sk": {"S": f"h#{hour:02d}"}})["Item"]
        return str(item["count"]["N"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(read, [hour % 5 for hour in range(40)]))

    assert answers == [str((hour % 5) * 7) for hour in range(40)]


def test_given_a_missing_table_when_read_then_the_service_error_code_is_raised_without_retry(moto_endpoint):
    with pytest.raises(aws_errors()) as raised:
        lean(DynamoDBClient, moto_endpoint).get_item(TableName="absent", Key={"pk": {"S": "x"}})

    assert error_code(raised.value) == "ResourceNotFoundException"
    assert isinstance(raised.value, AwsCallError)
    assert not raised.value.retryable


def test_given_binary_records_when_put_to_firehose_then_the_bytes_land_as_sent(moto_endpoint):
    s3, firehose = boto3_client("s3", moto_endpoint), boto3_client("firehose", moto_endpoint)
    s3.create_bucket(Bucket="lean-raw")
    firehose.create_delivery_stream(
        DeliveryStreamName="lean-stream",
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "BucketARN": "arn:aws:s3:::lean-raw",
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "Prefix": "raw/",
        },
    )
    records = [b'{"a":"\xc3\xa9"}\n', bytes(range(256))]

    answer = lean(FirehoseClient, moto_endpoint).put_record_batch(
        DeliveryStreamName="lean-stream", Records=[{"Data": record} for record in records]
    )

    assert answer["FailedPutCount"] == 0
    (listed,) = s3.list_objects_v2(Bucket="lean-raw")["Contents"]
    assert s3.get_object(Bucket="lean-raw", Key=listed["Key"])["Body"].read() == b"".join(records)


class Scripted(BaseHTTPRequestHandler):
    """Answers each POST with the next (status, body, headers) of ``script``."""

    script: ClassVar[list[tuple[int, bytes, dict[str, str]]]] = []
    seen: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Scripted.seen.append(dict(self.headers))
        status, body, headers = Scripted.script.pop(0)
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        return None


@pytest.fixture
def scripted() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Scripted.script, Scripted.seen = [], []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _error(code: str, status: int = 400) -> tuple[int, bytes, dict[str, str]]:
    return status, json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "m"}).encode(), {}


OK: tuple[int, bytes, dict[str, str]] = (200, b'{"Item": {"pk": {"S": "x"}}}', {})


@pytest.mark.parametrize(
    ("first", "retried"),
    [
        (_error("ProvisionedThroughputExceededException"), True),
        (_error("ThrottlingException"), True),
        (_error("InternalServerError", 500), True),
        ((503, b"<html>Service Unavailable</html>", {}), True),
        ((200, b'{"Item": {}}', {"x-amz-crc32": "1"}), True),
        (_error("ValidationException"), False),
        (_error("AccessDeniedException"), False),
    ],
    ids=["throughput", "throttling", "500", "503-html", "crc32-mismatch", "validation", "access-denied"],
)
def test_given_a_failed_attempt_when_called_then_only_what_the_sdks_retry_is_retried(scripted, first, retried):
    Scripted.script = [first, OK]
    client = DynamoDBClient(endpoint_url=scripted, region="us-east-1", credentials=CREDENTIALS, max_attempts=2)

    if retried:
        assert client.get_item(TableName="t", Key={"pk": {"S": "x"}}) == {"Item": {"pk": {"S": "x"}}}
    else:
        with pytest.raises(AwsCallError):
            client.get_item(TableName="t", Key={"pk": {"S": "x"}})
    assert len(Scripted.seen) == (2 if retried else 1)


def test_given_a_good_checksum_when_read_then_the_answer_is_accepted(scripted):
    body = b'{"Item": {"pk": {"S": "x"}}}'
    Scripted.script = [(200, body, {"x-amz-crc32": str(zlib.crc32(body))})]

    answer = DynamoDBClient(endpoint_url=scripted, credentials=CREDENTIALS).get_item(TableName="t", Key={})

    assert answer == {"Item": {"pk": {"S": "x"}}}
    (headers,) = Scripted.seen
    assert headers["X-Amz-Target"] == "DynamoDB_20120810.GetItem"
    assert headers["X-Amz-Security-Token"] == "session-token"


def test_given_nothing_listening_when_called_then_a_retryable_connection_error_after_every_attempt():
    client = DynamoDBClient(
        endpoint_url=f"http://127.0.0.1:{free_port()}", credentials=CREDENTIALS, connect_timeout=0.5, max_attempts=2
    )

    with pytest.raises(AwsCallError) as raised:
        client.get_item(TableName="t", Key={})

    assert raised.value.retryable
    assert raised.value.code in {"ConnectionRefusedError", "TimeoutError"}


def test_given_no_credentials_when_called_then_the_error_says_which_variables(monkeypatch, scripted):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)

    with pytest.raises(AwsCallError, match="AWS_ACCESS_KEY_ID"):
        DynamoDBClient(endpoint_url=scripted).get_item(TableName="t", Key={})


class KeptAlive(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; remembers every connection so a test can close them, as a service closes
    idle connections while a Lambda container is frozen."""

    protocol_version = "HTTP/1.1"
    connections: ClassVar[list[Any]] = []
    requests: ClassVar[int] = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        KeptAlive.connections.append(self.connection)
        KeptAlive.requests += 1
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amz-crc32", str(zlib.crc32(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        return None


@pytest.fixture
def kept_alive() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), KeptAlive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    KeptAlive.connections, KeptAlive.requests = [], 0
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def close_server_side() -> None:
    import socket

    for connection in KeptAlive.connections:
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)


@pytest.mark.parametrize("noticed_before_use", [True, False], ids=["seen-idle", "found-in-use"])
def test_given_idle_connections_the_service_closed_when_called_then_no_attempt_is_spent_on_them(
    kept_alive, monkeypatch, noticed_before_use
):
    client = DynamoDBClient(endpoint_url=kept_alive, credentials=CREDENTIALS, region="us-east-1", max_attempts=1)
    with ThreadPoolExecutor(max_workers=4) as pool:  # four idle connections afterwards
        list(pool.map(lambda _: client.update_item(TableName="t"), range(4)))
    close_server_side()
    if not noticed_before_use:  # the check on taking one missed it (closed a moment later): found on use
        monkeypatch.setattr("event_collector.aws.json_client._dropped", lambda connection: False)
    served_before = KeptAlive.requests

    answers = [client.update_item(TableName="t") for _ in range(3)]  # one attempt each: none may fail

    assert answers == [{}, {}, {}]
    assert KeptAlive.requests - served_before == 3


def test_given_a_reused_connection_that_times_out_then_it_is_not_sent_again_for_free(scripted, monkeypatch):
    # A timeout may mean the service applied the request: only the caller's own attempts may repeat it.
    client = DynamoDBClient(endpoint_url=scripted, credentials=CREDENTIALS, region="us-east-1", max_attempts=1)
    Scripted.script = [OK]
    client.get_item(TableName="t")
    monkeypatch.setattr("event_collector.aws.json_client._dropped", lambda connection: False)
    monkeypatch.setattr(client, "_round_trip", lambda *args: (_ for _ in ()).throw(TimeoutError("slow")))

    with pytest.raises(AwsCallError) as raised:
        client.get_item(TableName="t")

    assert raised.value.code == "TimeoutError"


def test_given_only_the_container_credential_variables_when_called_then_it_signs_with_the_containers_credentials(
    moto_endpoint, table, monkeypatch
):
    # What Lambda gives a SnapStart function: no keys in the environment, a local endpoint and its token.
    import time

    from event_collector.aws import json_client
    from tests.fakes.container_credentials import ContainerCredentialsServer

    container = ContainerCredentialsServer([time.time()])  # the client's own clock: the wall clock
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", container.full_uri)
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "lambda-token")
    signed_with: list[Credentials] = []
    real_sign = json_client.sign

    def recording_sign(**arguments: Any) -> dict[str, str]:
        signed_with.append(arguments["credentials"])
        return real_sign(**arguments)

    monkeypatch.setattr(json_client, "sign", recording_sign)
    client = DynamoDBClient(endpoint_url=moto_endpoint, region="us-east-1")  # no credentials given: as deployed

    try:
        answers = [client.get_item(TableName=table, Key={"pk": {"S": "p"}, "sk": {"S": "h#01"}}) for _ in range(3)]
    finally:
        container.stop()

    assert [answer["Item"]["count"] for answer in answers] == [{"N": "7"}] * 3
    assert {(c.access_key, c.token) for c in signed_with} == {("ASIA000000000001", "token-1-never-logged")}
    assert container.requests == [(container.requests[0][0], "lambda-token")]  # fetched once, then kept
