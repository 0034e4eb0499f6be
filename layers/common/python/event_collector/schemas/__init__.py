"""Tenants' own event types: their JSON Schemas, how versions evolve, and the lake columns they give.

- ``names``: field names that become columns, reserved names, event type names;
- ``document``: the rules a schema document follows (draft 2020-12, local ``$ref`` only, bounded),
  with ``keywords``: the draft's keywords, those refused, and the values each takes;
- ``fields``: a schema's fields as the lake types them (kind, nullable, children);
- ``formats``: the one reading of a ``date-time``, for the edge's validator and for compaction;
- ``evolution``: a proposed version accepted (with its number) or refused (with each field's reason);
- ``columns``: the fields as Arrow and Glue columns (imports pyarrow; only compaction uses it).

Nothing here imports pyarrow except ``columns``, and this package imports no module of its own, so
the collector can use the rest without loading it. Design: docs/schemas.md.
"""
