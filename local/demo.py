"""The demo page served at /demo: page views, button clicks and live counts through the API."""

from __future__ import annotations

import html
import json
from pathlib import Path

_TEMPLATE = Path(__file__).with_name("demo.html")


def demo_page(api_url: str, tenant: str, api_key: str) -> str:
    settings = json.dumps({"apiUrl": api_url, "tenant": tenant, "apiKey": api_key})
    # The settings sit in a JSON script block; escape "</" so they can never close it.
    return (
        _TEMPLATE.read_text(encoding="utf-8")
        .replace("__SETTINGS__", settings.replace("</", "<\\/"))
        .replace("__TENANT__", html.escape(tenant))
    )
