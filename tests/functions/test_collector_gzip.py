"""gzip bodies through the real collector handler: every member is read (RFC 1952: concatenated members are one
gzip stream, as ``gzip -c a >> b`` and ``gzip.decompress`` make), anything after the last member is refused, and
the size limit holds for what all the members hold together."""

from __future__ import annotations

import gzip
import itertools
import json
import zlib
from typing import Any

import pytest

from event_collector.ingest.http import MAX_GZIP_MEMBERS
from event_collector.ingest.validation import MAX_BODY_BYTES
from tests.conftest import api_request, call


def track(name: str) -> dict[str, Any]:
    return {"event_type": "track", "name": name, "event_id": f"id-{name}"}


def post_gzip(collector: Any, context: Any, raw: bytes, path: str = "/v1/events") -> tuple[int, Any]:
    request = api_request("POST", path, raw_body=raw, headers=[("Content-Encoding", "gzip")])
    status, _, answer = call(collector, request, context)
    return status, answer


def batch_text(*names: str) -> bytes:
    return json.dumps({"events": [track(name) for name in names]}).encode()


def test_given_a_body_split_into_two_members_when_sent_then_both_halves_are_read(collector, aws, lambda_context):
    text = batch_text("first", "second")
    middle = len(text) // 2

    status, answer = post_gzip(collector, lambda_context, gzip.compress(text[:middle]) + gzip.compress(text[middle:]))

    assert (status, answer) == (200, {"accepted": 2, "rejected": []})
    assert [line["name"] for line in aws.raw_lines()] == ["first", "second"]


def test_given_an_empty_member_among_others_when_sent_then_it_adds_nothing(collector, aws, lambda_context):
    raw = gzip.compress(b"") + gzip.compress(batch_text("only")) + gzip.compress(b"")

    status, answer = post_gzip(collector, lambda_context, raw)

    assert (status, answer["accepted"]) == (200, 1)
    assert [line["name"] for line in aws.raw_lines()] == ["only"]


def test_given_only_empty_members_when_sent_then_400_empty_body(collector, aws, lambda_context):
    status, answer = post_gzip(collector, lambda_context, gzip.compress(b"") + gzip.compress(b""))

    assert (status, answer["error"]) == (400, "empty_body")
    aws.assert_nothing_stored_or_counted()


@pytest.mark.parametrize(
    "trailer",
    [b"garbage", b"\x00\x00\x00\x00", b"\x1f", b"\x1f\x8b", gzip.compress(b'{"x": 1}')[:-3]],
    ids=["text", "zero-padding", "half-a-magic", "a-magic-alone", "a-truncated-member"],
)
def test_given_bytes_after_the_last_member_when_sent_then_400_naming_them_and_nothing_stored(
    collector, aws, lambda_context, trailer
):
    status, answer = post_gzip(collector, lambda_context, gzip.compress(batch_text("kept?")) + trailer)

    assert (status, answer["error"]) == (400, "invalid_encoding")
    assert "gzip" in answer["message"]
    aws.assert_nothing_stored_or_counted()


def test_given_a_second_member_that_is_not_deflate_when_sent_then_400_and_nothing_stored(
    collector, aws, lambda_context
):
    broken = bytearray(gzip.compress(b"xyz"))
    broken[10:13] = b"\xff\xff\xff"  # the deflate data: an invalid block type

    status, answer = post_gzip(collector, lambda_context, gzip.compress(batch_text("a")) + bytes(broken))

    assert (status, answer["error"]) == (400, "invalid_encoding")
    aws.assert_nothing_stored_or_counted()


def small_member(size: int) -> bytes:
    """``size`` bytes of JSON whitespace, deflated to a few hundred bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return packer.compress(b" " * size) + packer.flush()


def test_given_a_bomb_split_across_members_when_sent_then_413_and_nothing_stored(collector, aws, lambda_context):
    # Each member alone is under the limit; together they unpack to twice it, from a few KiB sent.
    members = [gzip.compress(b'{"events": [')] + [small_member(MAX_BODY_BYTES // 4)] * 8 + [gzip.compress(b"]}")]
    raw = b"".join(members)
    assert len(raw) < 64 * 1024

    status, answer = post_gzip(collector, lambda_context, raw)

    assert (status, answer["error"]) == (413, "payload_too_large")
    aws.assert_nothing_stored_or_counted()


def test_given_members_that_fill_the_limit_exactly_when_sent_then_accepted(collector, aws, lambda_context):
    text = batch_text("edge")
    padding = MAX_BODY_BYTES - len(text)
    raw = gzip.compress(text) + small_member(padding)  # JSON allows whitespace after the value

    status, answer = post_gzip(collector, lambda_context, raw)

    assert (status, answer["accepted"]) == (200, 1)


def test_given_a_compressed_body_larger_than_the_limit_when_sent_then_413(collector, aws, lambda_context):
    # Empty members unpack to nothing: only the limit on what is sent keeps their number (and the work) bounded.
    raw = gzip.compress(batch_text("a")) + gzip.compress(b"") * (MAX_BODY_BYTES // 20 + 1)
    assert len(raw) > MAX_BODY_BYTES

    status, answer = post_gzip(collector, lambda_context, raw)

    assert (status, answer["error"]) == (413, "payload_too_large")
    aws.assert_nothing_stored_or_counted()


def test_given_two_members_on_a_seed_route_when_sent_then_the_whole_body_is_read(collector, aws, lambda_context):
    text = json.dumps({"session_id": "s-1", "button_id": "buy"}).encode()

    status, answer = post_gzip(
        collector, lambda_context, gzip.compress(text[:10]) + gzip.compress(text[10:]), path="/button/click"
    )

    assert (status, answer) == (200, {"message": "Received"})
    assert [line["button_id"] for line in aws.raw_lines()] == ["buy"]


def count_decompressors(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many gzip members the handler started to read: one ``zlib.decompressobj`` each."""
    made = [0]
    original = zlib.decompressobj

    def counting(*args: Any, **kwargs: Any) -> Any:
        made[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(zlib, "decompressobj", counting)
    return made


def test_given_tens_of_thousands_of_empty_members_when_sent_then_400_after_reading_only_the_allowed_number(
    collector, aws, lambda_context, monkeypatch
):
    # Under 1 MiB sent; each further member once cost a copy of the whole rest of the body (quadratic work).
    raw = gzip.compress(b"") * (MAX_BODY_BYTES // 20)
    assert len(raw) <= MAX_BODY_BYTES
    made = count_decompressors(monkeypatch)

    status, answer = post_gzip(collector, lambda_context, raw)

    assert (status, answer["error"]) == (400, "invalid_encoding")
    assert f"more than {MAX_GZIP_MEMBERS} gzip members" in answer["message"]
    assert made[0] == MAX_GZIP_MEMBERS  # no member past the limit is even started
    aws.assert_nothing_stored_or_counted()


def test_given_exactly_the_allowed_number_of_members_when_sent_then_all_are_read(collector, aws, lambda_context):
    text = batch_text("many")
    cuts = [len(text) * index // MAX_GZIP_MEMBERS for index in range(MAX_GZIP_MEMBERS + 1)]
    raw = b"".join(gzip.compress(text[start:end]) for start, end in itertools.pairwise(cuts))

    status, answer = post_gzip(collector, lambda_context, raw)

    assert (status, answer["accepted"]) == (200, 1)
    assert [line["name"] for line in aws.raw_lines()] == ["many"]
