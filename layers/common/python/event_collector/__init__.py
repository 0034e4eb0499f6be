"""The serverless event collector's code, by pipeline stage (docs/architecture.md).

    auth -> ingest -> lake (fan-out, counting) -> compaction
                 \\-> counts (read by the API)

- ``auth``: HTTP Basic credentials, API keys, the authorizer's decision;
- ``tenants``: creating tenants and issuing, rotating and revoking their keys;
- ``ingest``: the REST API, event models, validation, delivery to Firehose;
- ``lake``: the lake's layout, the fan-out, the Glue catalog's shape, the queue for compaction;
- ``counts``: counter keys, what an object adds to them, reading them back;
- ``compaction``: Plan, Compact (the Lambda and Athena engines), Refresh, Report;
- ``schemas``: tenants' own event types: their JSON Schemas, versions, and lake columns;
- ``aws``: one small adapter per AWS service, and the one place clients are made.

Imports run one way: handlers (``functions/*/app.py``) -> stages -> ``aws``.
Only ``aws`` imports boto3/botocore; only ``compaction``, ``privacy``'s Parquet rewrites and
``schemas.columns`` import pyarrow, never the request path.
"""

__version__ = "0.2.0"
