"""The lake's object-store port (``event_collector.aws.s3.S3ObjectStore``) over a local directory.

Benchmarks measure the engine, not an emulator: moto keeps every object in
memory, which would be counted in the peak RSS of the process measured.
``<root>/<bucket>/<key>`` holds each object; ETags are MD5s, as S3's are for
single-part uploads; here they are the size and modification time, which
change when the content does and cost no read (S3 hands ETags out for free).

``traffic`` counts what S3 would bill and carry, per top-level prefix: GETs (a ranged read is one GET),
PUTs, LISTs (a page of 1,000 keys each), DELETEs, bytes read and written, and the keys read.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from event_collector.lake.rewrites import StoredObject


def _etag(path: Path) -> str:
    status = path.stat()
    return f"{status.st_size:x}-{status.st_mtime_ns:x}"


class Traffic:
    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str]] = Counter()  # (prefix, GET/PUT/LIST/DELETE) -> requests
        self.bytes_read: Counter[str] = Counter()
        self.bytes_written: Counter[str] = Counter()
        self.keys_read: dict[str, set[str]] = defaultdict(set)

    def read(self, key: str, size: int) -> None:
        prefix = key.split("/", 1)[0]
        self.requests[(prefix, "GET")] += 1
        self.bytes_read[prefix] += size
        self.keys_read[prefix].add(key)

    def wrote(self, key: str, size: int) -> None:
        self.requests[(key.split("/", 1)[0], "PUT")] += 1
        self.bytes_written[key.split("/", 1)[0]] += size

    def total(self, verb: str) -> int:
        return sum(count for (_, found), count in self.requests.items() if found == verb)


class DirectoryStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.bytes_read = 0
        self.traffic = Traffic()

    def _path(self, bucket: str, key: str) -> Path:
        return self.root / bucket / key

    def open(self, bucket: str, key: str) -> tuple[IO[bytes], str, datetime]:
        path = self._path(bucket, key)
        self.bytes_read += path.stat().st_size
        self.traffic.read(key, path.stat().st_size)
        return open(path, "rb"), _etag(path), datetime.now(UTC)

    def open_ranges(self, bucket: str, key: str, size: int) -> IO[bytes]:
        return io.BufferedReader(_Ranged(self._path(bucket, key), key, self.traffic), buffer_size=64 * 1024)

    def read(self, bucket: str, key: str) -> StoredObject:
        body, etag, modified = self.open(bucket, key)
        return StoredObject(body, etag, modified, {})

    def put(self, bucket: str, key: str, body: IO[bytes]) -> str:
        target = self._path(bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            shutil.copyfileobj(body, out)
        self.traffic.wrote(key, target.stat().st_size)
        return _etag(target)

    def put_file(self, bucket: str, key: str, path: str, content_type: str = "application/octet-stream") -> None:
        target = self._path(bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        self.traffic.wrote(key, target.stat().st_size)

    def get_file(self, bucket: str, key: str, path: str) -> None:
        shutil.copyfile(self._path(bucket, key), path)
        self.traffic.read(key, os.path.getsize(path))

    def put_json(self, bucket: str, key: str, document: Any) -> None:
        self.put(bucket, key, io.BytesIO(json.dumps(document, separators=(",", ":"), default=str).encode()))

    def get_json(self, bucket: str, key: str) -> Any:
        body, _, _ = self.open(bucket, key)
        with body:
            return json.loads(body.read())

    def delete(self, bucket: str, keys: Sequence[str]) -> None:
        for key in keys:
            self._path(bucket, key).unlink(missing_ok=True)
        if keys:
            self.traffic.requests[(keys[0].split("/", 1)[0], "DELETE")] += 1

    def folders(self, bucket: str, prefix: str) -> list[str]:
        base = self.root / bucket / prefix
        self.traffic.requests[(prefix.split("/", 1)[0], "LIST")] += 1
        return sorted(f"{prefix}{path.name}/" for path in base.iterdir() if path.is_dir()) if base.exists() else []

    def listing(self, bucket: str, prefix: str, start_after: str | None = None) -> Iterator[tuple[str, str, int]]:
        base = self.root / bucket
        start = base / prefix.rsplit("/", 1)[0] if "/" in prefix else base
        self.traffic.requests[(prefix.split("/", 1)[0], "LIST")] += 1
        if not start.exists():
            return
        listed = 0
        for directory, _, files in sorted(os.walk(start)):
            for name in sorted(files):
                path = Path(directory) / name
                key = path.relative_to(base).as_posix()
                if key.startswith(prefix) and (start_after is None or key > start_after):
                    listed += 1
                    if listed % 1000 == 0:  # S3 lists 1,000 keys a page
                        self.traffic.requests[(prefix.split("/", 1)[0], "LIST")] += 1
                    yield key, _etag(path), path.stat().st_size

    def keys(self, bucket: str, prefix: str) -> Iterator[str]:
        for key, _, _ in self.listing(bucket, prefix):
            yield key


class _Ranged(io.RawIOBase):
    """A file read in ranges, each read counted as one ranged GET (what S3ObjectStore.open_ranges does)."""

    def __init__(self, path: Path, key: str, traffic: Traffic) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed with the reader
        self._key, self._traffic = key, traffic

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def readinto(self, buffer: Any) -> int:
        count = self._file.readinto(buffer)
        if count:
            self._traffic.read(self._key, count)
        return count

    def close(self) -> None:
        self._file.close()
        super().close()
