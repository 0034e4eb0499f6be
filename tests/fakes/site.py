"""A web site on an origin of its own (``http://127.0.0.1:<port>``), for the browser tests: a page on one
origin talking to the API on another, or a static copy of a page served elsewhere."""

from __future__ import annotations

import http.server
import threading
from typing import Any


class Site:
    """Serves ``html`` (settable after start, e.g. once a key was issued for ``url``) at every path."""

    def __init__(self, html: str = "") -> None:
        self.html = html
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = site.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
