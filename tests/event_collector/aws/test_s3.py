"""The S3 adapter against moto: pagination and batch limits, ETags, errors."""

from __future__ import annotations

import io

import pytest

from event_collector.aws.s3 import S3ObjectStore
from event_collector.errors import StorageError
from tests.conftest import LAKE_BUCKET


@pytest.fixture
def store(aws) -> S3ObjectStore:
    return S3ObjectStore(aws.s3)


def test_given_more_keys_than_one_page_when_listed_and_deleted_then_every_key_is_seen_and_removed(aws, store):
    keys = [f"p/{i:05d}" for i in range(1_205)]
    for key in keys:
        aws.s3.put_object(Bucket=LAKE_BUCKET, Key=key, Body=b"x")
    aws.s3.put_object(Bucket=LAKE_BUCKET, Key="q/outside", Body=b"x")

    listed = list(store.listing(LAKE_BUCKET, "p/"))
    store.delete(LAKE_BUCKET, [key for key, _, _ in listed])

    assert [key for key, _, _ in listed] == keys
    assert aws.lake_keys() == ["q/outside"]


def test_given_an_upload_when_put_then_the_etag_returned_is_the_one_listed(store):
    etag = store.put(LAKE_BUCKET, "events/x.json.gz", io.BytesIO(b"\x1f\x8b data"))

    ((key, listed_etag, size),) = store.listing(LAKE_BUCKET, "events/")

    assert (key, listed_etag, size) == ("events/x.json.gz", etag, 7)
    assert store.open(LAKE_BUCKET, key)[1] == etag


def test_given_a_missing_object_when_opened_then_a_storage_error_names_it(store):
    with pytest.raises(StorageError, match="s3://test-lake/nope"):
        store.open(LAKE_BUCKET, "nope")


def test_given_more_versions_than_one_batch_when_emptied_until_told_to_stop_then_it_stops_between_batches(aws, store):
    for index in range(1_205):
        aws.s3.put_object(Bucket=LAKE_BUCKET, Key=f"r/{index:05d}", Body=b"x")
    answers = iter([True, False])  # one batch, then no time left

    emptied = store.empty(LAKE_BUCKET, keep_going=lambda: next(answers))

    assert (emptied.deleted, emptied.complete) == (1_000, False)
    assert store.versions_left(LAKE_BUCKET) == (205, False)


def test_given_a_bucket_emptied_or_gone_when_asked_then_nothing_is_left(store):
    emptied = store.empty(LAKE_BUCKET)

    assert emptied.complete
    assert store.versions_left(LAKE_BUCKET) == (0, False)
    assert store.versions_left("no-such-bucket") == (0, False)
    assert store.empty("no-such-bucket").complete


def versioned(aws) -> str:
    from tests.conftest import RAW_BUCKET

    aws.s3.put_bucket_versioning(Bucket=RAW_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return RAW_BUCKET


def test_given_versioned_objects_when_listed_by_version_then_each_key_comes_once_current_first_and_resumes(aws, store):
    bucket = versioned(aws)
    for key, bodies in (("raw/a", [b"1", b"2", b"3"]), ("raw/b", [b"1"]), ("raw/c", [b"1", b"2"])):
        for body in bodies:
            aws.s3.put_object(Bucket=bucket, Key=key, Body=body)
    aws.s3.delete_object(Bucket=bucket, Key="raw/c")  # a delete marker: it holds nothing

    groups = list(store.versions(bucket, "raw/"))
    after_a = list(store.versions(bucket, "raw/", after="raw/a"))

    assert [(g[0].key, len(g), [v.latest for v in g]) for g in groups] == [
        ("raw/a", 3, [True, False, False]),
        ("raw/b", 1, [True]),
        ("raw/c", 2, [False, False]),
    ]
    assert store.read(bucket, "raw/a", groups[0][0].version_id).body.read() == b"3"
    assert [g[0].key for g in after_a] == ["raw/b", "raw/c"]


def test_given_versions_deleted_for_good_when_listed_then_none_is_left_and_no_marker_made(aws, store):
    bucket = versioned(aws)
    aws.s3.put_object(Bucket=bucket, Key="raw/a", Body=b"old")
    aws.s3.put_object(Bucket=bucket, Key="raw/a", Body=b"new")
    (group,) = store.versions(bucket, "raw/")

    store.delete_versions(bucket, [(v.key, v.version_id) for v in group])

    assert aws.s3.list_object_versions(Bucket=bucket).get("Versions", []) == []
    assert aws.s3.list_object_versions(Bucket=bucket).get("DeleteMarkers", []) == []


def test_given_an_object_replaced_with_metadata_when_read_then_its_metadata_and_type_come_back(store):
    store.put(LAKE_BUCKET, "raw/x", io.BytesIO(b"first"))

    etag = store.replace(LAKE_BUCKET, "raw/x", io.BytesIO(b"second"), "application/x-ndjson", {"original-etag": "e1"})

    stored = store.read(LAKE_BUCKET, "raw/x")
    assert (stored.body.read(), stored.etag, stored.content_type) == (b"second", etag, "application/x-ndjson")
    assert stored.metadata == {"original-etag": "e1"}


def test_given_a_large_object_read_by_ranges_then_only_the_ranges_read_are_fetched(aws, store):
    from tests.conftest import record_calls

    body = bytes(range(256)) * 4096  # 1 MiB
    store.put(LAKE_BUCKET, "compacted/x", io.BytesIO(body))
    calls = record_calls(aws.s3, "GetObject")

    reader = store.open_ranges(LAKE_BUCKET, "compacted/x", len(body))
    reader.seek(-8, io.SEEK_END)
    tail = reader.read(8)
    reader.seek(300_000)
    middle = reader.read(200_000)

    assert (tail, middle) == (body[-8:], body[300_000:500_000])
    fetched = [tuple(int(n) for n in call["Range"].removeprefix("bytes=").split("-")) for call in calls]
    assert sum(end - start + 1 for start, end in fetched) < len(body) // 2


def test_given_nested_keys_when_their_folders_are_listed_then_each_next_level_comes_once_and_resumes(store):
    for key in ("events/page_view/tenant=a/x", "events/page_view/tenant=b/y", "events/track/tenant=a/z"):
        store.put(LAKE_BUCKET, key, io.BytesIO(b"x"))

    assert store.folders(LAKE_BUCKET, "events/") == ["events/page_view/", "events/track/"]
    assert [key for key, _, _ in store.listing(LAKE_BUCKET, "events/", start_after="events/page_view/tenant=a/x")] == [
        "events/page_view/tenant=b/y",
        "events/track/tenant=a/z",
    ]
