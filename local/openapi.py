"""Print the collector's OpenAPI document (``make openapi`` writes docs/openapi.json)."""

from __future__ import annotations

import os

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from .functions import load_function


def openapi_json() -> str:
    collector = load_function("collector")
    schema = collector.app.get_openapi_json_schema()
    return str(schema) + "\n"


if __name__ == "__main__":
    print(openapi_json(), end="")
