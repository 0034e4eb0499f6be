"""The request path's credentials: the environment's, else the container endpoint's (what Lambda gives a
SnapStart function), kept, refreshed ahead of expiry as botocore refreshes them, shared between threads.

The container endpoint is a local server on 127.0.0.1 (tests/fakes/container_credentials.py); time is a list
the test moves. botocore's own ContainerProvider runs against a twin of the server on the same clock as the
oracle."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.credentials import ContainerProvider
from botocore.utils import ContainerMetadataFetcher

from event_collector.aws.credentials import (
    ContainerEndpoint,
    CredentialChain,
    Credentials,
    check_container_url,
)
from event_collector.aws.errors import AwsCallError
from tests.fakes.container_credentials import PATH, ContainerCredentialsServer

START = 1_800_000_000.0
MINUTE = 60.0


@pytest.fixture
def clock() -> list[float]:
    return [START]


@pytest.fixture
def endpoint(clock) -> Iterator[ContainerCredentialsServer]:
    server = ContainerCredentialsServer(clock)
    yield server
    server.stop()


def container_environment(server: ContainerCredentialsServer, **extra: str) -> dict[str, str]:
    """What Lambda sets for a SnapStart function: no keys, the endpoint and its token."""
    return {"AWS_CONTAINER_CREDENTIALS_FULL_URI": server.full_uri, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "tok", **extra}


def chain(environ: dict[str, str], clock: list[float]) -> CredentialChain:
    return CredentialChain(environ, clock=lambda: clock[0])


def test_given_only_the_container_variables_when_asked_then_the_endpoint_is_called_with_the_token(endpoint, clock):
    credentials = chain(container_environment(endpoint), clock)()

    assert credentials == Credentials("ASIA000000000001", "secret-1-never-logged", "token-1-never-logged")
    assert endpoint.requests == [(PATH, "tok")]


def test_given_the_same_answer_when_read_then_ours_and_botocores_provider_hold_the_same_credentials(endpoint, clock):
    environ = container_environment(endpoint)
    clock[0] = datetime.now(UTC).timestamp()  # botocore's provider reads the real time: give it a future expiry
    ours = chain(environ, clock)
    ours()
    endpoint.issued = 0  # the next answer is the same credentials again, for botocore

    theirs = ContainerProvider(environ=environ).load().get_frozen_credentials()

    assert ours() == Credentials(theirs.access_key, theirs.secret_key, theirs.token)
    assert [authorization for _, authorization in endpoint.requests] == ["tok", "tok"]


def test_given_keys_in_the_environment_too_when_asked_then_they_win_and_the_endpoint_is_never_called(
    endpoint, clock, monkeypatch
):
    environ = {**container_environment(endpoint), "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"}

    assert chain(environ, clock)() == Credentials("AKID", "s", None)
    assert endpoint.requests == []
    import botocore.session

    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    assert botocore.session.Session().get_credentials().method == "env"  # botocore's chain: the same order


def test_given_a_key_id_without_its_secret_when_asked_then_an_error_names_the_missing_variable(endpoint, clock):
    from botocore.credentials import EnvProvider
    from botocore.exceptions import PartialCredentialsError

    environ = {**container_environment(endpoint), "AWS_ACCESS_KEY_ID": "AKID"}

    with pytest.raises(AwsCallError, match="AWS_SECRET_ACCESS_KEY"):
        chain(environ, clock)()
    with pytest.raises(PartialCredentialsError):  # botocore stops there too, rather than go on to the container
        EnvProvider(environ).load()
    assert endpoint.requests == []


def test_given_a_secret_without_a_key_id_when_asked_then_the_container_is_used(endpoint, clock):
    environ = {**container_environment(endpoint), "AWS_SECRET_ACCESS_KEY": "stray"}

    assert chain(environ, clock)().access_key == "ASIA000000000001"


def test_given_a_relative_uri_when_resolved_then_it_is_on_botocores_host_and_wins_over_a_full_uri():
    environ = {
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc?x=1",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/other",
    }

    found = ContainerEndpoint.from_environment(environ)

    assert found is not None
    assert found.url == ContainerMetadataFetcher().full_url("/v2/credentials/abc?x=1")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9001/2021-04-23/credentials",
        "http://127.2.3.4/c",
        "http://[::1]:8080/c",
        "http://localhost/c",
        "http://LOCALHOST:80/c",
        "http://169.254.170.2/v2/credentials/x",
        "http://169.254.170.23/v1/credentials",
        "http://[fd00:ec2::23]/v1/credentials",
        "https://credentials.example.com/c",
        "http://credentials.example.com/c",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost.example/c",
        "http://10.0.0.1/c",
        "http://0.0.0.0/c",
        "http://127.1/c",
        "http://169.254.170.2@evil.example/c",
    ],
)
def test_given_a_container_url_when_checked_then_it_is_allowed_exactly_when_botocore_allows_it(url):
    try:
        ContainerMetadataFetcher()._validate_allowed_url(url)
        botocore_allows = True
    except ValueError:
        botocore_allows = False
    try:
        check_container_url(url)
        ours_allows = True
    except AwsCallError:
        ours_allows = False

    assert ours_allows == botocore_allows


def test_given_a_token_file_when_fetching_then_it_wins_and_is_read_again_at_each_fetch(endpoint, clock, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("from-the-file")
    credentials = chain(container_environment(endpoint, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(token_file)), clock)

    credentials()
    token_file.write_text("rotated")
    clock[0] += 50 * MINUTE  # in the advisory window: fetched again
    credentials()

    assert [authorization for _, authorization in endpoint.requests] == ["from-the-file", "rotated"]


@pytest.mark.parametrize("token", ["line\nbreak", "trailing newline\n", "carriage\rreturn"])
def test_given_a_token_with_a_line_break_when_fetching_then_refused_as_botocore_refuses_it(
    endpoint, clock, tmp_path, token
):
    token_file = tmp_path / "token"
    token_file.write_text(token)
    environ = container_environment(endpoint, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(token_file))

    with pytest.raises(AwsCallError) as raised:
        chain(environ, clock)()
    with pytest.raises(ValueError, match="not a legal header value"):
        ContainerProvider(environ=environ).load()

    assert raised.value.code == "CredentialRetrievalError"
    assert endpoint.requests == []


def test_given_a_missing_token_file_when_fetching_then_a_clear_error_and_no_request(endpoint, clock, tmp_path):
    environ = container_environment(endpoint, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(tmp_path / "absent"))

    with pytest.raises(AwsCallError, match="AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"):
        chain(environ, clock)()
    assert endpoint.requests == []


class BotocoreTwin:
    """botocore's ContainerProvider on a twin endpoint and the same clock: what botocore would sign with."""

    def __init__(self, clock: list[float]) -> None:
        self.endpoint = ContainerCredentialsServer(clock)
        environ = container_environment(self.endpoint)
        fetcher = ContainerMetadataFetcher(sleep=lambda seconds: None)  # it retries a failed fetch 3 times
        self.credentials: Any = ContainerProvider(environ=environ, fetcher=fetcher).load()
        self.credentials._time_fetcher = lambda: datetime.fromtimestamp(clock[0], UTC)

    def key(self) -> str:
        try:
            return str(self.credentials.get_frozen_credentials().access_key)
        except Exception:  # noqa: BLE001 - any refusal is the outcome compared
            return "error"


@pytest.fixture
def twin(clock) -> Iterator[BotocoreTwin]:
    made = BotocoreTwin(clock)
    yield made
    made.endpoint.stop()


def key(number: int) -> str:
    return f"ASIA{number:012d}"


def test_given_time_passing_and_failures_when_asked_then_refreshes_happen_exactly_when_botocores_do(
    endpoint, clock, twin
):
    ours = chain(container_environment(endpoint), clock)
    ours()  # both hold their first credentials (key 1), valid for 60 minutes
    # (minutes from the start, what the endpoint answers, the lifetime it gives new credentials, what both use)
    steps = [
        (30, 200, 60, key(1)),  # 30 minutes left: kept
        (44, 200, 60, key(1)),  # 16 left: kept
        (46, 200, 60, key(2)),  # 14 left, the advisory window: refreshed (the next expire at 106)
        (80, 200, 60, key(2)),
        (92, 500, 60, key(2)),  # 14 left, the refresh fails: the current ones are kept
        (95, 503, 60, key(2)),  # 11 left: still kept
        (97, 500, 60, "error"),  # 9 left, the mandatory window: an error
        (98, 200, 60, key(3)),  # refreshed (to 158)
        (200, 200, 60, key(4)),  # expired long ago: refreshed
        (300, 200, -1, "error"),  # expired, and the endpoint answers expired credentials (key 5)
        (301, 200, 60, key(6)),  # refreshed
    ]
    outcomes = []

    for minutes, status, lifetime, _ in steps:
        clock[0] = START + minutes * MINUTE
        for server in (endpoint, twin.endpoint):
            server.status, server.lifetime = status, lifetime * MINUTE
        try:
            mine = ours().access_key
        except AwsCallError:
            mine = "error"
        outcomes.append((minutes, mine, twin.key()))

    assert [(minutes, mine) for minutes, mine, _ in outcomes] == [(minutes, theirs) for minutes, _, theirs in outcomes]
    assert [mine for _, mine, _ in outcomes] == [expected for *_, expected in steps]


def test_given_many_calls_in_the_advisory_window_then_one_fetches_and_the_others_go_on_without_waiting(endpoint, clock):
    credentials = chain(container_environment(endpoint), clock)
    credentials()
    clock[0] += 48 * MINUTE  # 12 minutes left: the advisory window
    endpoint.hold = threading.Event()
    endpoint.arrived.clear()

    with ThreadPoolExecutor(max_workers=8) as pool:
        refreshing = pool.submit(credentials)
        assert endpoint.arrived.wait(timeout=30)  # the refresh is under way, its answer held back
        others = [pool.submit(credentials) for _ in range(7)]
        assert [other.result(timeout=30).access_key for other in others] == ["ASIA000000000001"] * 7
        endpoint.hold.set()
        assert refreshing.result(timeout=30).access_key == "ASIA000000000002"

    assert len(endpoint.requests) == 2  # the first fetch and one refresh


def test_given_many_calls_in_the_mandatory_window_then_they_wait_for_one_fetch(endpoint, clock):
    credentials = chain(container_environment(endpoint), clock)
    credentials()
    clock[0] += 55 * MINUTE  # 5 minutes left: nobody may use the old ones
    endpoint.hold = threading.Event()
    endpoint.arrived.clear()

    with ThreadPoolExecutor(max_workers=8) as pool:
        calls = [pool.submit(credentials) for _ in range(8)]
        assert endpoint.arrived.wait(timeout=30)
        endpoint.hold.set()
        keys = {call.result(timeout=30).access_key for call in calls}

    assert keys == {"ASIA000000000002"}
    assert len(endpoint.requests) == 2


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, None),
        (200, b"<html>not json</html>"),
        (200, b'{"AccessKeyId": "ASIAX", "SecretAccessKey": "secret-never-logged"}'),
        (200, b'{"AccessKeyId": "A", "SecretAccessKey": "s", "Token": "t", "Expiration": "soon"}'),
        (200, b"[]"),
    ],
    ids=["http-500", "not-json", "no-token-nor-expiration", "bad-expiration", "not-an-object"],
)
def test_given_an_endpoint_that_fails_when_asked_then_a_retryable_error_without_secrets(
    endpoint, clock, caplog, status, body
):
    endpoint.status, endpoint.body = status, body
    caplog.set_level(logging.DEBUG)

    with pytest.raises(AwsCallError) as raised:
        chain(container_environment(endpoint), clock)()

    assert (raised.value.code, raised.value.retryable) == ("CredentialRetrievalError", True)
    assert "never-logged" not in str(raised.value)
    assert "never-logged" not in caplog.text


def test_given_nothing_listening_when_asked_then_a_retryable_error():
    from tools.harness import free_port

    environ = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{free_port()}/c"}

    with pytest.raises(AwsCallError) as raised:
        chain(environ, [START])()

    assert (raised.value.code, raised.value.retryable) == ("CredentialRetrievalError", True)


def test_given_a_failed_refresh_when_logged_then_no_secret_is_in_the_log(endpoint, clock, caplog):
    credentials = chain(container_environment(endpoint), clock)
    credentials()
    clock[0] += 48 * MINUTE
    endpoint.status = 500
    caplog.set_level(logging.DEBUG)

    assert credentials().access_key == "ASIA000000000001"
    assert "CredentialRetrievalError" in caplog.text
    assert "never-logged" not in caplog.text
    assert "never-logged" not in repr(credentials())


def test_given_no_credentials_anywhere_when_asked_then_the_error_names_both_ways(clock):
    with pytest.raises(AwsCallError) as raised:
        chain({}, clock)()

    assert raised.value.code == "MissingCredentials"
    assert "AWS_ACCESS_KEY_ID" in str(raised.value)
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in str(raised.value)
