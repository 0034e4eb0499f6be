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
