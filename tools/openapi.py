"""Print the collector's OpenAPI document (``make openapi`` writes docs/openapi.json).

The document depends only on the routes and models, so it is built from
:func:`event_collector.ingest.api.create_collector` with no services wired:
no environment, no AWS clients.
"""

from __future__ import annotations

from typing import cast

from event_collector.counts.queries import CounterReader
from event_collector.ingest.api import Services, create_collector
from event_collector.ingest.delivery import EventIngestor


def openapi_json() -> str:
    unwired = Services(ingestor=cast(EventIngestor, None), counters=cast(CounterReader, None))
    schema = create_collector(unwired).app.get_openapi_json_schema()
    return str(schema) + "\n"


if __name__ == "__main__":
    print(openapi_json(), end="")
