"""The local stack's landing page at ``/``: what is running, where to go, what to try (local only)."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from local.gateway.app import LocalRequest, LocalRoute
from local.gateway.model import Answer

STACK_JSON_PATH = "/__local/stack.json"
# A dot on a square: enough for a browser tab, and no 404 in the gateway's log for every page.
FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    b'<rect width="16" height="16" rx="3" fill="#1f6feb"/><circle cx="8" cy="8" r="3" fill="#fff"/></svg>'
)
SAMPLE = {"events": [{"event_type": "page_view", "url": "https://example.com/", "session_id": "s-1"}]}


def commands(info: dict[str, Any]) -> list[tuple[str, str]]:
    """(what it does, the command) for the page; the same commands docs/local-mode.md shows."""
    auth = f"{info['tenant']}:{info['api_key']}"
    api = info["api_url"]
    return [
        (
            "Send an event",
            f"curl -u '{auth}' -H 'Content-Type: application/json' {api}/v1/events -d '{json.dumps(SAMPLE)}'",
        ),
        ("Read its count (counted with the request)", f"curl -u '{auth}' '{api}/v1/counts?event_type=page_view'"),
        ("Compact what arrived into Parquet", "make compact"),
        ("Rows per event type and tenant in the compacted tables", "make query"),
        ("A load test against this stack", "make load"),
        ("The same checks as against a deployed stack", "make smoke"),
    ]


def landing_page(info: dict[str, Any]) -> str:
    tenants = ", ".join(escape(t["tenant"]) for t in info["tenants"])
    rows = "\n".join(
        f"<li><p>{escape(what)}</p><pre><code>{escape(command)}</code></pre></li>" for what, command in commands(info)
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Event collector (local)</title>
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<style>
  body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d2125; }}
  h1 {{ font-size: 1.5rem; }} nav a {{ display: inline-block; margin: 0 1rem .5rem 0; font-weight: 600; }}
  dl {{ display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }} dt {{ color: #57606a; }}
  dd {{ margin: 0; overflow-wrap: anywhere; }}
  pre {{ background: #f6f8fa; padding: .6rem; overflow-x: auto; border-radius: .4rem; }}
  ul {{ padding-left: 1.2rem; }} li p {{ margin: .8rem 0 .2rem; }}
</style>
</head>
<body>
<h1>Event collector, running locally</h1>
<p>The whole stack on this machine: no Docker, no AWS account, nothing leaves 127.0.0.1.</p>
<nav aria-label="Where to go">
  <a href="/dashboard">Dashboard</a>
  <a href="/v1/docs">API docs (try it out)</a>
  <a href="{STACK_JSON_PATH}">stack.json</a>
</nav>
<h2>What is running</h2>
<dl>
  <dt>API ({escape(str(info["api_type"]))})</dt><dd>{escape(info["api_url"])}</dd>
  <dt>AWS (moto)</dt><dd>{escape(info["aws_endpoint_url"])}</dd>
  <dt>Region</dt><dd>{escape(info["region"])}</dd>
  <dt>Demo tenants</dt><dd>{tenants}</dd>
  <dt>Lake bucket</dt><dd>{escape(str(info["lake_bucket"]))}</dd>
  <dt>Process</dt><dd>pid {int(info["pid"])}; Ctrl-C in its terminal stops everything</dd>
</dl>
<h2>Try</h2>
<ul>
{rows}
</ul>
<p>Everything else: <code>docs/local-mode.md</code> in the repository.</p>
</body>
</html>
"""


def landing_routes(info: Any) -> dict[tuple[str, str], LocalRoute]:
    """``info``: a callable returning the stack's stack.json content (it exists once the stack is ready)."""

    def landing(_: LocalRequest) -> Answer:
        return 200, {"Content-Type": "text/html; charset=utf-8"}, landing_page(info()).encode()

    def favicon(_: LocalRequest) -> Answer:
        return 200, {"Content-Type": "image/svg+xml", "Cache-Control": "max-age=86400"}, FAVICON

    def stack_json(_: LocalRequest) -> Answer:
        return 200, {"Content-Type": "application/json"}, (json.dumps(info(), indent=2) + "\n").encode()

    return {("GET", "/"): landing, ("GET", "/favicon.ico"): favicon, ("GET", STACK_JSON_PATH): stack_json}
