"""A web site on an origin of its own (``http://127.0.0.1:<port>``), for the browser tests: a page on one
origin talking to the API on another, or a static copy of a page served elsewhere."""

from __future__ import annotations

import http.server
import threading
from typing import Any


def serve(handler: type[http.server.BaseHTTPRequestHandler]) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``handler`` on a free port of 127.0.0.1 in a daemon thread; return the server and its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def stop(server: http.server.ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()


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

        self.server, self.url = serve(Handler)

    def close(self) -> None:
        stop(self.server)
