"""S3 adapter: stream objects in, upload lake objects and files, list and delete, small JSON documents."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from event_collector.aws.errors import aws_errors, error_code
from event_collector.errors import StorageError
from event_collector.lake.rewrites import ObjectVersion, StoredObject


@dataclass(frozen=True)
class Emptied:
    """What :meth:`S3ObjectStore.empty` did: the versions it deleted, and whether none is left."""

    deleted: int
    complete: bool


class S3ObjectStore:
    def __init__(self, client: Any) -> None:
        self._client = client

    def open(self, bucket: str, key: str) -> tuple[IO[bytes], str, datetime]:
        try:
            response = self._client.get_object(Bucket=bucket, Key=key)
        except aws_errors() as error:
            raise StorageError(f"reading s3://{bucket}/{key} failed: {error_code(error)}") from error
        return response["Body"], str(response["ETag"]).strip('"'), response["LastModified"]

    def read(self, bucket: str, key: str, version_id: str | None = None) -> StoredObject:
        """The object (or one of its versions) with its ETag, LastModified, content type and user metadata."""
        extra = {"VersionId": version_id} if version_id else {}
        try:
            response = self._client.get_object(Bucket=bucket, Key=key, **extra)
        except aws_errors() as error:
            raise StorageError(f"reading s3://{bucket}/{key} failed: {error_code(error)}") from error
        return StoredObject(
            response["Body"],
            str(response["ETag"]).strip('"'),
            response["LastModified"],
            dict(response.get("Metadata") or {}),
            str(response.get("ContentType") or "application/octet-stream"),
        )

    def open_ranges(self, bucket: str, key: str, size: int) -> IO[bytes]:
        """A seekable reader that fetches only the byte ranges read (a Parquet file's footer and columns)."""
        return io.BufferedReader(_RangedObject(self._client, bucket, key, size), buffer_size=64 * 1024)

    def replace(self, bucket: str, key: str, body: IO[bytes], content_type: str, metadata: Mapping[str, str]) -> str:
        """Put an object's new content in place, with its user metadata; returns the new ETag."""
        try:
            response = self._client.put_object(
                Bucket=bucket, Key=key, Body=body, ContentType=content_type, Metadata=dict(metadata)
            )
        except aws_errors() as error:
            raise StorageError(f"writing s3://{bucket}/{key} failed: {error_code(error)}") from error
        return str(response.get("ETag", "")).strip('"')

    def versions(self, bucket: str, prefix: str, after: str | None = None) -> Iterator[list[ObjectVersion]]:
        """Every version of every object under the prefix (keys after ``after``), one list per key, the
        current version first; delete markers hold nothing and are left out."""
        request: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if after:
            request["KeyMarker"] = after
        group: list[ObjectVersion] = []
        try:
            for page in self._client.get_paginator("list_object_versions").paginate(**request):
                for item in page.get("Versions", []):
                    if after and str(item["Key"]) <= after:
                        continue  # S3 lists from the key after the marker; emulators may include it
                    found = ObjectVersion(
                        str(item["Key"]), str(item["VersionId"]), bool(item["IsLatest"]), int(item["Size"])
                    )
                    if group and group[0].key != found.key:
                        yield sorted(group, key=lambda version: not version.latest)
                        group = []
                    group.append(found)
        except aws_errors() as error:
            raise StorageError(f"listing s3://{bucket}/{prefix} failed: {error_code(error)}") from error
        if group:
            yield sorted(group, key=lambda version: not version.latest)

    def delete_versions(self, bucket: str, versions: Sequence[tuple[str, str]]) -> None:
        """Delete object versions for good ((key, version id) pairs): nothing of them is left."""
        for start in range(0, len(versions), 1000):
            objects = [{"Key": key, "VersionId": version} for key, version in versions[start : start + 1000]]
            try:
                response = self._client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            except aws_errors() as error:
                raise StorageError(f"deleting versions from s3://{bucket} failed: {error_code(error)}") from error
            if response.get("Errors"):
                raise StorageError(f"deleting versions from s3://{bucket} failed: {response['Errors'][0].get('Code')}")

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

    def empty(self, bucket: str, keep_going: Callable[[], bool] = lambda: True) -> Emptied:
        """Delete every object and object version in the bucket, 1,000 at a time while ``keep_going()`` (asked
        before each batch); a bucket already gone counts as empty. Each batch is the first page of what is
        left, so no listing marker ever points at a version already deleted."""
        deleted = 0
        try:
            while True:
                page = self._client.list_object_versions(Bucket=bucket, MaxKeys=1000)
                entries = [*page.get("Versions", []), *page.get("DeleteMarkers", [])][:1000]
                if not entries:
                    return Emptied(deleted, complete=True)
                if not keep_going():
                    return Emptied(deleted, complete=False)
                objects = [{"Key": entry["Key"], "VersionId": entry["VersionId"]} for entry in entries]
                response = self._client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
                if response.get("Errors"):
                    raise StorageError(f"emptying s3://{bucket} failed: {response['Errors'][0].get('Code')}")
                deleted += len(objects)
        except aws_errors() as error:
            if error_code(error) == "NoSuchBucket":
                return Emptied(deleted, complete=True)
            raise StorageError(f"emptying s3://{bucket} failed: {error_code(error)}") from error

    def versions_left(self, bucket: str) -> tuple[int, bool]:
        """Object versions and delete markers in the bucket: how many on the first page (up to 1,000), and
        whether there are more."""
        try:
            page = self._client.list_object_versions(Bucket=bucket, MaxKeys=1000)
        except aws_errors() as error:
            if error_code(error) == "NoSuchBucket":
                return 0, False
            raise StorageError(f"listing s3://{bucket} failed: {error_code(error)}") from error
        return len(page.get("Versions", [])) + len(page.get("DeleteMarkers", [])), bool(page.get("IsTruncated"))

    def keys(self, bucket: str, prefix: str) -> Iterator[str]:
        for key, _, _ in self.listing(bucket, prefix):
            yield key

    def folders(self, bucket: str, prefix: str) -> list[str]:
        """The next level of ``prefix`` (``events/`` -> ``events/page_view/``, ...)."""
        found: list[str] = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
            for page in pages:
                found += [str(item["Prefix"]) for item in page.get("CommonPrefixes", [])]
        except aws_errors() as error:
            raise StorageError(f"listing s3://{bucket}/{prefix} failed: {error_code(error)}") from error
        return sorted(found)

    def listing(self, bucket: str, prefix: str, start_after: str | None = None) -> Iterator[tuple[str, str, int]]:
        """(key, ETag, size) of every object under the prefix (after ``start_after``, in key order)."""
        request: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if start_after:
            request["StartAfter"] = start_after
        try:
            for page in self._client.get_paginator("list_objects_v2").paginate(**request):
                for item in page.get("Contents", []):
                    yield str(item["Key"]), str(item["ETag"]).strip('"'), int(item["Size"])
        except aws_errors() as error:
            raise StorageError(f"listing s3://{bucket}/{prefix} failed: {error_code(error)}") from error


class _RangedObject(io.RawIOBase):
    """An S3 object as a seekable file: each read is one ranged GET of exactly what was asked."""

    def __init__(self, client: Any, bucket: str, key: str, size: int) -> None:
        self._client, self._bucket, self._key, self._size = client, bucket, key, size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer: Any) -> int:
        end = min(self._size, self._position + len(buffer))
        if end <= self._position:
            return 0
        try:
            response = self._client.get_object(
                Bucket=self._bucket, Key=self._key, Range=f"bytes={self._position}-{end - 1}"
            )
        except aws_errors() as error:
            raise StorageError(f"reading s3://{self._bucket}/{self._key} failed: {error_code(error)}") from error
        data = response["Body"].read()
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)
