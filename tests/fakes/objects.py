"""The S3 adapter's port (``event_collector.aws.s3.S3ObjectStore``), in memory."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import IO, Any

from event_collector.errors import StorageError


class MemoryObjectStore:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.reads: list[str] = []

    def open(self, bucket: str, key: str) -> tuple[IO[bytes], str, datetime]:
        if (bucket, key) not in self.objects:
            raise StorageError(f"reading s3://{bucket}/{key} failed: NoSuchKey")
        self.reads.append(key)
        body = self.objects[(bucket, key)]
        return io.BytesIO(body), hashlib.md5(body).hexdigest(), datetime(2026, 5, 28, 20, tzinfo=UTC)  # noqa: S324

    def put(self, bucket: str, key: str, body: IO[bytes]) -> str:
        data = body.read()
        self.objects[(bucket, key)] = data
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

    def listing(self, bucket: str, prefix: str) -> Iterator[tuple[str, str, int]]:
        for (found, key), body in sorted(self.objects.items()):
            if found == bucket and key.startswith(prefix):
                yield key, hashlib.md5(body).hexdigest(), len(body)  # noqa: S324

    def keys(self, bucket: str, prefix: str) -> Iterator[str]:
        for key, _, _ in self.listing(bucket, prefix):
            yield key
