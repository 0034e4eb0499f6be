"""Print the collector's OpenAPI document (``make openapi`` writes docs/openapi.json).

The same function builds the document the deployed API serves on ``/v1/docs``
(there with the server it was called through; here with the deployed API's
default endpoint and its variables).
"""

from __future__ import annotations

import argparse
import json
import sys

from event_collector.ingest.openapi import openapi_document


def openapi_json() -> str:
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="make openapi", description=__doc__.splitlines()[0]).parse_args(argv)
    print(openapi_json(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
