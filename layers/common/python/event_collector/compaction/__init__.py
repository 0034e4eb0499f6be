"""The compaction workflow's steps: Plan -> Map(Compact) -> Refresh -> Report (docs/compaction.md).

Only :mod:`.compact` needs pyarrow (the Arrow layer); the other steps stay lean.
"""
