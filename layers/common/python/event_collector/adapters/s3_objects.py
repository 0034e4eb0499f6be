"""S3 adapter for fan-out: stream objects in, upload lake objects, list a prefix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from ..errors import StorageError
from .aws_errors import AWS_ERRORS, error_code


class S3ObjectStore:
    def __init__(self, client: Any) -> None:
        self._client = client

    def open(self, bucket: str, key: str) -> tuple[IO[bytes], str, datetime]:
        try:
            response = self._client.get_object(Bucket=bucket, Key=key)
        except AWS_ERRORS as error:
            raise StorageError(f"reading s3://{bucket}/{key} failed: {error_code(error)}") from error
        return response["Body"], str(response["ETag"]).strip('"'), response["LastModified"]

    def put(self, bucket: str, key: str, body: IO[bytes]) -> None:
        try:
            self._client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/gzip")
        except AWS_ERRORS as error:
            raise StorageError(f"writing s3://{bucket}/{key} failed: {error_code(error)}") from error

    def keys(self, bucket: str, prefix: str) -> Iterator[str]:
        for key, _, _ in self.listing(bucket, prefix):
            yield key

    def listing(self, bucket: str, prefix: str) -> Iterator[tuple[str, str, int]]:
        """(key, ETag, size) of every object under the prefix."""
        try:
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield str(item["Key"]), str(item["ETag"]).strip('"'), int(item["Size"])
        except AWS_ERRORS as error:
            raise StorageError(f"listing s3://{bucket}/{prefix} failed: {error_code(error)}") from error
