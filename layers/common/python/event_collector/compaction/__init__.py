"""The compaction workflow's steps: Plan -> Map(Compact) -> Refresh -> Report (docs/compaction.md).

Only :mod:`.compact` needs pandas/awswrangler; the other steps stay lean.
"""
