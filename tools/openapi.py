"""Print the collector's OpenAPI document (``make openapi`` writes docs/openapi.json).

The same function builds the document the deployed API serves on ``/v1/docs``
(there with the server it was called through; here with the deployed API's
default endpoint and its variables).
"""

from __future__ import annotations

import json

from event_collector.ingest.openapi import openapi_document


def openapi_json() -> str:
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(openapi_json(), end="")
