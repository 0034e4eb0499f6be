"""The S3 adapter's port (``event_collector.aws.s3.S3ObjectStore``), in memory."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import IO, Any

from event_collector.errors import StorageError
from event_collector.lake.rewrites import StoredObject

MODIFIED = datetime(2026, 5, 28, 20, tzinfo=UTC)


class MemoryObjectStore:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.metadata: dict[tuple[str, str], dict[str, str]] = {}
        self.reads: list[str] = []
        self.bytes_read = 0

    def read(self, bucket: str, key: str) -> StoredObject:
        body, etag, modified = self.open(bucket, key)
        return StoredObject(body, etag, modified, dict(self.metadata.get((bucket, key), {})))

    def open_ranges(self, bucket: str, key: str, size: int) -> IO[bytes]:
        if (bucket, key) not in self.objects:
            raise StorageError(f"reading s3://{bucket}/{key} failed: NoSuchKey")
        return _Counted(self.objects[(bucket, key)], self)

    def replace(self, bucket: str, key: str, body: IO[bytes], content_type: str, metadata: Mapping[str, str]) -> str:
        etag = self.put(bucket, key, body)
        self.metadata[(bucket, key)] = dict(metadata)
        return etag

    def folders(self, bucket: str, prefix: str) -> list[str]:
        return sorted(
            {
                prefix + key[len(prefix) :].split("/", 1)[0] + "/"
                for (found, key) in self.objects
                if found == bucket and key.startswith(prefix) and "/" in key[len(prefix) :]
            }
        )

    def open(self, bucket: str, key: str) -> tuple[IO[bytes], str, datetime]:
        if (bucket, key) not in self.objects:
            raise StorageError(f"reading s3://{bucket}/{key} failed: NoSuchKey")
        self.reads.append(key)
        body = self.objects[(bucket, key)]
        self.bytes_read += len(body)
        return io.BytesIO(body), hashlib.md5(body).hexdigest(), MODIFIED  # noqa: S324

    def put(self, bucket: str, key: str, body: IO[bytes]) -> str:
        data = body.read()
        self.objects[(bucket, key)] = data
        self.metadata.pop((bucket, key), None)
        return hashlib.md5(data).hexdigest()  # noqa: S324 - what S3 reports as the ETag

    def put_file(self, bucket: str, key: str, path: str, content_type: str = "application/octet-stream") -> None:
        with open(path, "rb") as handle:
            self.objects[(bucket, key)] = handle.read()

    def get_file(self, bucket: str, key: str, path: str) -> None:
        source, _, _ = self.open(bucket, key)
        with open(path, "wb") as handle:
            shutil.copyfileobj(source, handle)

    def put_json(self, bucket: str, key: str, document: Any) -> None:
        self.objects[(bucket, key)] = json.dumps(document, default=str).encode()

    def get_json(self, bucket: str, key: str) -> Any:
        return json.loads(self.open(bucket, key)[0].read())

    def delete(self, bucket: str, keys: Sequence[str]) -> None:
        for key in keys:
            self.objects.pop((bucket, key), None)
            self.metadata.pop((bucket, key), None)

    def listing(self, bucket: str, prefix: str, start_after: str | None = None) -> Iterator[tuple[str, str, int]]:
        for (found, key), body in sorted(self.objects.items()):
            if found == bucket and key.startswith(prefix) and (start_after is None or key > start_after):
                yield key, hashlib.md5(body).hexdigest(), len(body)  # noqa: S324

    def keys(self, bucket: str, prefix: str) -> Iterator[str]:
        for key, _, _ in self.listing(bucket, prefix):
            yield key


class _Counted(io.BytesIO):
    """An object read in ranges, counting the bytes read (what a ranged GET would fetch)."""

    def __init__(self, data: bytes, store: MemoryObjectStore) -> None:
        super().__init__(data)
        self._store = store

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self._store.bytes_read += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        count = super().readinto(buffer)
        self._store.bytes_read += count
        return count
