from __future__ import annotations

import pytest

from event_collector.aws.firehose import MAX_BYTES_PER_CALL, MAX_RECORD_BYTES, pack_lines, split_into_calls


def test_given_small_lines_when_packed_then_one_record_holds_them_all_in_order():
    lines = [f'{{"n":{i}}}\n'.encode() for i in range(500)]

    records = pack_lines(lines)

    assert records == [b"".join(lines)]


def test_given_lines_over_the_record_limit_when_packed_then_lines_are_never_split():
    lines = [b"a" * 399 + b"\n", b"b" * 399 + b"\n", b"c" * 99 + b"\n"]

    records = pack_lines(lines, max_record_bytes=850)

    assert records == [lines[0] + lines[1], lines[2]]
    assert all(record.endswith(b"\n") for record in records)


def test_given_a_line_larger_than_a_record_when_packed_then_it_is_an_error():
    with pytest.raises(ValueError, match="exceeds the record limit"):
        pack_lines([b"x" * 11], max_record_bytes=10)


def test_given_many_records_when_split_then_calls_respect_count_and_byte_limits():
    records = [b"r" * MAX_RECORD_BYTES] * 9 + [b"s"] * 600

    calls = split_into_calls(records)

    assert all(len(call) <= 500 and sum(map(len, call)) <= MAX_BYTES_PER_CALL for call in calls)
    assert [record for call in calls for record in call] == records
    assert len(calls) == 4  # 4 big, 4 big, 1 big + 499 small, 101 small


def test_given_no_lines_when_packed_then_no_records_and_no_calls():
    assert pack_lines([]) == []
    assert split_into_calls([]) == []
