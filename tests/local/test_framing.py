"""Message framing at the local gateway, over a raw socket: a request whose body length is ambiguous is refused
with a JSON 400 and the connection closed (RFC 9112 §6.3), never read one way here and another way by a proxy
in front. The gateway runs in-process on 127.0.0.1 with the template's API model and one local route that
echoes the body it was given."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from local.gateway.app import LocalGateway, LocalGatewayApp, LocalRequest
from local.gateway.model import Answer, ApiModel
from local.lambdas import LocalFunctions
from tools.intrinsics import Resolver
from tools.sam import transformed_template

ECHO = "/__local/echo"


class Gateway:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []  # what the echo route was handed, one entry per request it served
        resolver = Resolver(transformed_template(), "t-stack", "eu-west-1")
        model = ApiModel(resolver, LocalFunctions(resolver), authorizer_ttl=0)
        app = LocalGatewayApp(model, {("POST", ECHO): self._echo}, port=lambda: self.server.port)
        self.server = LocalGateway(0, app, read_timeout=5.0)

    def _echo(self, request: LocalRequest) -> Answer:
        self.bodies.append(request.body)
        return 200, {"Content-Type": "application/json"}, json.dumps({"length": len(request.body)}).encode()

    def send(self, head: list[str], body: bytes = b"", then: bytes = b"") -> list[tuple[int, Any]]:
        """Send a POST to the echo route with exactly these header lines (and ``then`` right after it, on the
        same connection); read until the gateway closes the connection: every answer, in order."""
        lines = [f"POST {ECHO} HTTP/1.1", f"Host: 127.0.0.1:{self.server.port}", *head, "", ""]
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as connection:
            connection.sendall("\r\n".join(lines).encode("latin-1") + body + then)
            received = b""
            while chunk := connection.recv(65536):
                received += chunk
        return parse_answers(received)


def parse_answers(received: bytes) -> list[tuple[int, Any]]:
    answers = []
    while received:
        head, _, rest = received.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
        length = int(headers["content-length"])
        answers.append((int(status_line.split()[1]), json.loads(rest[:length])))
        received = rest[length:]
    return answers


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    running = Gateway()
    running.server.start()
    try:
        yield running
    finally:
        running.server.stop()


@pytest.fixture(autouse=True)
def nothing_served_yet(gateway: Gateway) -> None:
    gateway.bodies.clear()


def test_given_one_content_length_when_posted_then_the_route_gets_exactly_that_body(gateway: Gateway):
    assert gateway.send(["Content-Length: 5"], b"hello") == [(200, {"length": 5})]
    assert gateway.bodies == [b"hello"]


@pytest.mark.parametrize(
    "head",
    [["Content-Length: 5", "Content-Length: 5"], ["Content-Length: 5, 5"], ["Content-Length: 5", "content-length: 5"]],
    ids=["repeated", "as-a-list", "other-case"],
)
def test_given_the_same_length_given_twice_when_posted_then_it_is_one_length(gateway: Gateway, head: list[str]):
    # RFC 9110 §8.6: a recipient may take identical values as one.
    assert gateway.send(head, b"hello") == [(200, {"length": 5})]


@pytest.mark.parametrize(
    "head",
    [
        ["Content-Length: 5", "Content-Length: 9"],
        ["Content-Length: 9", "Content-Length: 5"],
        ["Content-Length: 5, 9"],
        ["Content-Length: 5", "Content-Length: 5, 9"],
    ],
    ids=["two-headers", "two-headers-reversed", "a-list", "a-header-and-a-list"],
)
def test_given_two_different_content_lengths_when_posted_then_400_and_the_route_is_never_called(
    gateway: Gateway, head: list[str]
):
    ((status, answer),) = gateway.send(head, b"hello1234")

    assert (status, answer["error"]) == (400, "bad_request")
    assert "Content-Length" in answer["message"]
    assert gateway.bodies == []


@pytest.mark.parametrize("value", ["abc", "-1", "+5", "0x5", "5 5", "5.0", "", "\xb2", "1_0"])
def test_given_a_content_length_that_is_not_digits_when_posted_then_400_naming_it(gateway: Gateway, value: str):
    ((status, answer),) = gateway.send([f"Content-Length: {value}"], b"hello")

    assert (status, answer["error"]) == (400, "bad_request")
    assert "Content-Length" in answer["message"]
    assert gateway.bodies == []


@pytest.mark.parametrize("coding", ["chunked", "gzip, chunked", "Chunked"])
def test_given_content_length_and_transfer_encoding_when_posted_then_400_naming_both(gateway: Gateway, coding: str):
    body = b"5\r\nhello\r\n0\r\n\r\n"

    ((status, answer),) = gateway.send([f"Transfer-Encoding: {coding}", "Content-Length: 5"], body)

    assert (status, answer["error"]) == (400, "bad_request")
    assert "Transfer-Encoding" in answer["message"]
    assert "Content-Length" in answer["message"]
    assert gateway.bodies == []


@pytest.mark.parametrize("coding", ["gzip", "chunked, gzip", "identity"])
def test_given_a_transfer_encoding_that_does_not_end_in_chunked_when_posted_then_400(gateway: Gateway, coding: str):
    # RFC 9112 §6.3: the length of such a request cannot be determined; the server answers 400 and closes.
    ((status, answer),) = gateway.send([f"Transfer-Encoding: {coding}"], b"hello")

    assert (status, answer["error"]) == (400, "bad_request")
    assert "Transfer-Encoding" in answer["message"]
    assert gateway.bodies == []


def test_given_a_chunked_body_alone_when_posted_then_411_as_before(gateway: Gateway):
    ((status, answer),) = gateway.send(["Transfer-Encoding: chunked"], b"5\r\nhello\r\n0\r\n\r\n")

    assert (status, answer["error"]) == (411, "length_required")
    assert gateway.bodies == []


def test_given_a_refused_request_with_another_behind_it_then_the_connection_closes_unanswered(gateway: Gateway):
    # A smuggling attempt: the bytes after the first request (read by the shorter length) form a second one.
    smuggled = f"POST {ECHO} HTTP/1.1\r\nHost: 127.0.0.1:{gateway.server.port}\r\nContent-Length: 0\r\n\r\n"

    answers = gateway.send(["Content-Length: 0", f"Content-Length: {len(smuggled)}"], b"", then=smuggled.encode())

    assert [status for status, _ in answers] == [400]
    assert gateway.bodies == []
