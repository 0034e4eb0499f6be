"""The demo page served at /demo: it sends with the tenant's publishable key through the JS SDK (served at
/sdk/collector.js) and reads counts through the local-only /demo/counts, so it holds no secret key."""

from __future__ import annotations

import html
import json
from pathlib import Path

_TEMPLATE = Path(__file__).with_name("demo.html")


def demo_page(api_url: str, tenant: str, publishable_key: str) -> str:
    settings = json.dumps({"apiUrl": api_url, "tenant": tenant, "writeKey": publishable_key})
    # The settings sit in a JSON script block; escape "</" so they can never close it.
    return (
        _TEMPLATE.read_text(encoding="utf-8")
        .replace("__SETTINGS__", settings.replace("</", "<\\/"))
        .replace("__TENANT__", html.escape(tenant))
    )
