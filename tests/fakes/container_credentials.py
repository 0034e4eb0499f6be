"""The container credential endpoint Lambda gives a SnapStart function (``AWS_CONTAINER_CREDENTIALS_FULL_URI``),
played on 127.0.0.1: each GET gets fresh credentials that expire ``lifetime`` seconds after the test's clock, or
the failure the test sets; every request's path and ``Authorization`` are kept."""

from __future__ import annotations

import http.server
import json
import threading
from datetime import UTC, datetime
from typing import Any

PATH = "/2021-04-23/credentials?role=collector"


class ContainerCredentialsServer:
    def __init__(self, clock: list[float], lifetime: float = 3600.0) -> None:
        self.clock = clock  # epoch seconds, moved by the test
        self.lifetime = lifetime
        self.status = 200
        self.body: bytes | None = None  # answered instead of fresh credentials, when set
        self.requests: list[tuple[str, str | None]] = []
        self.issued = 0
        # For the concurrency tests: set ``hold`` to keep an answer back until it is set; ``arrived`` is set
        # once a request is in.
        self.hold: threading.Event | None = None
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = fake.answer(self.path, self.headers.get("Authorization"))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll, so that stopping it (once per test) does not wait half a second.
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.full_uri = self.url + PATH

    def answer(self, path: str, authorization: str | None) -> tuple[int, bytes]:
        with self._lock:
            self.requests.append((path, authorization))
        self.arrived.set()
        if self.hold is not None:
            self.hold.wait(timeout=30)
        if self.status != 200 or self.body is not None:
            return self.status, self.body or b'{"message": "unavailable"}'
        with self._lock:
            self.issued += 1
            number = self.issued
        expires = datetime.fromtimestamp(self.clock[0] + self.lifetime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        document = {
            "AccessKeyId": f"ASIA{number:012d}",
            "SecretAccessKey": f"secret-{number}-never-logged",
            "Token": f"token-{number}-never-logged",
            "Expiration": expires,
            "AccountId": "123456789012",
        }
        return 200, json.dumps(document).encode()

    def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()
