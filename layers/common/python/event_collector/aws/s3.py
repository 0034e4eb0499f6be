"""S3 adapter: stream objects in, upload lake objects and files, list and delete, small JSON documents."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import IO, Any

from event_collector.aws.errors import aws_errors, error_code
from event_collector.errors import StorageError


class S3ObjectStore:
    def __init__(self, client: Any) -> None:
        self._client = client

    def open(self, bucket: str, key: str) -> tuple[IO[bytes], str, datetime]:
        try:
            response = self._client.get_object(Bucket=bucket, Key=key)
        except aws_errors() as error:
            raise StorageError(f"reading s3://{bucket}/{key} failed: {error_code(error)}") from error
        return response["Body"], str(response["ETag"]).strip('"'), response["LastModified"]

    def put(self, bucket: str, key: str, body: IO[bytes]) -> str:
        """Upload a GZIP object; returns its ETag."""
        try:
            response = self._client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/gzip")
        except aws_errors() as error:
            raise StorageError(f"writing s3://{bucket}/{key} failed: {error_code(error)}") from error
        return str(response.get("ETag", "")).strip('"')

    def get_file(self, bucket: str, key: str, path: str) -> None:
        """Download to a local file (streamed, so memory stays flat)."""
        try:
            self._client.download_file(bucket, key, path)
        except aws_errors() as error:
            raise StorageError(f"reading s3://{bucket}/{key} failed: {error_code(error)}") from error

    def put_json(self, bucket: str, key: str, document: Any) -> None:
        body = json.dumps(document, separators=(",", ":"), default=str).encode()
        try:
            self._client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
        except aws_errors() as error:
            raise StorageError(f"writing s3://{bucket}/{key} failed: {error_code(error)}") from error

    def get_json(self, bucket: str, key: str) -> Any:
        stream, _, _ = self.open(bucket, key)
        with stream:
            return json.loads(stream.read())

    def put_file(self, bucket: str, key: str, path: str, content_type: str = "application/octet-stream") -> None:
        """Upload a local file (multipart when large, so memory stays flat)."""
        try:
            self._client.upload_file(path, bucket, key, ExtraArgs={"ContentType": content_type})
        except aws_errors() as error:
            raise StorageError(f"writing s3://{bucket}/{key} failed: {error_code(error)}") from error

    def delete(self, bucket: str, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            chunk = keys[start : start + 1000]
            try:
                response = self._client.delete_objects(
                    Bucket=bucket, Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": True}
                )
            except aws_errors() as error:
                raise StorageError(f"deleting from s3://{bucket} failed: {error_code(error)}") from error
            if response.get("Errors"):
                raise StorageError(f"deleting from s3://{bucket} failed: {response['Errors'][0].get('Code')}")

    def empty(self, bucket: str) -> int:
        """Delete every object and object version in the bucket; returns how many were deleted."""
        deleted = 0
        try:
            for page in self._client.get_paginator("list_object_versions").paginate(Bucket=bucket):
                entries = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
                objects = [{"Key": entry["Key"], "VersionId": entry["VersionId"]} for entry in entries]
                for start in range(0, len(objects), 1000):
                    chunk = objects[start : start + 1000]
                    response = self._client.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
                    if response.get("Errors"):
                        raise StorageError(f"emptying s3://{bucket} failed: {response['Errors'][0].get('Code')}")
                    deleted += len(chunk)
        except aws_errors() as error:
            if error_code(error) == "NoSuchBucket":
                return deleted
            raise StorageError(f"emptying s3://{bucket} failed: {error_code(error)}") from error
        return deleted

    def keys(self, bucket: str, prefix: str) -> Iterator[str]:
        for key, _, _ in self.listing(bucket, prefix):
            yield key

    def listing(self, bucket: str, prefix: str) -> Iterator[tuple[str, str, int]]:
        """(key, ETag, size) of every object under the prefix."""
        try:
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield str(item["Key"]), str(item["ETag"]).strip('"'), int(item["Size"])
        except aws_errors() as error:
            raise StorageError(f"listing s3://{bucket}/{prefix} failed: {error_code(error)}") from error
