"""Which stored events a target matches: by digest only, per tenant, selector and receive time."""

from __future__ import annotations

import base64
import json

import pyarrow as pa

from event_collector.privacy.matching import Matcher, Target
from event_collector.privacy.regulations import subject_digest

REQUESTED = 1_000_000


def target(value: str = "u-1", kind: str = "delete", selector: str = "user_id", tenant: str = "acme") -> Target:
    return Target(f"reg-{kind}-{selector}", tenant, kind, selector, subject_digest(tenant, selector, value), REQUESTED)  # type: ignore[arg-type]


def line(**fields: object) -> bytes:
    return json.dumps({"tenant": "acme", "event_id": "e", "received_at": REQUESTED, **fields}).encode()


def test_given_a_user_id_selector_when_lines_are_matched_then_user_id_and_previous_id_match_and_nothing_else():
    matcher = Matcher([target()])

    assert [bool(matcher.line(line(user_id="u-1"))), bool(matcher.line(line(previous_id="u-1")))] == [True, True]
    assert matcher.line(line(anonymous_id="u-1")) == []
    assert matcher.line(line(user_id="u-10")) == []
    assert matcher.line(line(name="u-1", properties='{"user_id":"u-1"}')) == []


def test_given_an_anonymous_id_selector_when_lines_are_matched_then_anonymous_id_and_previous_id_match():
    matcher = Matcher([target(selector="anonymous_id")])

    assert matcher.line(line(anonymous_id="u-1"))
    assert matcher.line(line(previous_id="u-1"))
    assert matcher.line(line(user_id="u-1")) == []


def test_given_the_same_id_under_another_tenant_when_matched_then_it_is_another_user():
    matcher = Matcher([target()])

    assert matcher.line(line(tenant="globex", user_id="u-1")) == []


def test_given_receive_times_when_matched_then_a_deletion_covers_up_to_its_request_and_a_suppression_from_it():
    deletion, suppression = Matcher([target()]), Matcher([target(kind="suppress")])
    before, same, after = (line(user_id="u-1", received_at=t) for t in (REQUESTED - 1, REQUESTED, REQUESTED + 1))
    timeless = json.dumps({"tenant": "acme", "user_id": "u-1"}).encode()

    assert [bool(deletion.line(x)) for x in (before, same, after, timeless)] == [True, True, False, True]
    assert [bool(suppression.line(x)) for x in (before, same, after, timeless)] == [False, True, True, False]


def test_given_quarantine_entries_when_matched_then_the_original_line_decides_text_or_base64():
    matcher = Matcher([target()])
    original = line(user_id="u-1", event_id=None)
    as_text = json.dumps({"reason": "event_id missing or malformed", "line": original.decode()}).encode()
    as_base64 = json.dumps({"reason": "x", "line_base64": base64.b64encode(original).decode()}).encode()
    broken = json.dumps({"reason": "not valid JSON", "line": '{"user_id": "u-1"'}).encode()

    assert [bool(matcher.quarantined(entry)) for entry in (as_text, as_base64, broken, b"not json")] == [
        True,
        True,
        False,
        False,
    ]


def test_given_compacted_rows_when_matched_then_each_target_gets_the_mask_of_its_rows_in_its_window():
    user, anonymous = target(), target("a-1", selector="anonymous_id")
    table = pa.table(
        {
            "received_at": [REQUESTED - 5, REQUESTED + 5, REQUESTED, 1],
            "user_id": ["u-1", "u-1", None, "u-2"],
            "anonymous_id": [None, "a-1", "a-1", None],
            "previous_id": [None, None, None, "u-1"],
        }
    )

    masks = Matcher([user, anonymous]).table("acme", table)

    assert {request: mask.to_pylist() for request, mask in masks.items()} == {
        user.request: [True, False, False, True],  # the second one came after the request
        anonymous.request: [False, False, True, False],
    }
    assert Matcher([user]).table("globex", table) == {}


def test_given_counter_keys_when_split_then_an_id_as_a_path_segment_query_value_or_encoded_is_a_part():
    from event_collector.privacy.matching import key_parts

    assert "jane@example.com" in key_parts("https://shop.example/u/jane%40example.com?tab=1")
    assert "jane@example.com" in key_parts("/profile?user=jane@example.com&x=1")
    assert "u-1" in key_parts("u-1")
    assert "u-1" not in key_parts("/u-10/orders")  # a part is matched whole, never a prefix
    assert "" not in key_parts("//a//")
