"""The lake's object-store port (``event_collector.aws.s3.S3ObjectStore``) over a local directory.

Benchmarks measure the engine, not an emulator: moto keeps every object in
memory, which would be counted in the peak RSS of the process measured.
``<root>/<bucket>/<key>`` holds each object; ETags are MD5s, as S3's are for
single-part uploads; here they are the size and modification time, which
change when the content does and cost no read (S3 hands ETags out for free).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from event_collector.lake.rewrites import StoredObject


def _etag(path: Path) -> str:
    status = path.stat()
    return f"{status.st_size:x}-{status.st_mtime_ns:x}"


class DirectoryStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.bytes_read = 0

    def _path(self, bucket: str, key: str) -> Path:
        return self.root / bucket / key

    def open(self, bucket: str, key: str) -> tuple[IO[bytes], str, datetime]:
        path = self._path(bucket, key)
        self.bytes_read += path.stat().st_size
        return open(path, "rb"), _etag(path), datetime.now(UTC)

    def read(self, bucket: str, key: str) -> StoredObject:
        body, etag, modified = self.open(bucket, key)
        return StoredObject(body, etag, modified, {})

    def put(self, bucket: str, key: str, body: IO[bytes]) -> str:
        target = self._path(bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            shutil.copyfileobj(body, out)
        return _etag(target)

    def put_file(self, bucket: str, key: str, path: str, content_type: str = "application/octet-stream") -> None:
        target = self._path(bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)

    def get_file(self, bucket: str, key: str, path: str) -> None:
        shutil.copyfile(self._path(bucket, key), path)

    def delete(self, bucket: str, keys: Sequence[str]) -> None:
        for key in keys:
            self._path(bucket, key).unlink(missing_ok=True)

    def listing(self, bucket: str, prefix: str) -> Iterator[tuple[str, str, int]]:
        base = self.root / bucket
        start = base / prefix.rsplit("/", 1)[0] if "/" in prefix else base
        if not start.exists():
            return
        for directory, _, files in sorted(os.walk(start)):
            for name in sorted(files):
                path = Path(directory) / name
                key = path.relative_to(base).as_posix()
                if key.startswith(prefix):
                    yield key, _etag(path), path.stat().st_size

    def keys(self, bucket: str, prefix: str) -> Iterator[str]:
        for key, _, _ in self.listing(bucket, prefix):
            yield key
