"""The Athena runner's port (``event_collector.aws.athena.AthenaQueryRunner``), recording, in memory.

It runs no SQL: each statement ends as told (``fail_when``), an ``INSERT INTO``
reports ``rows_written`` and may drop a file into a store (``on_insert``), a
``SELECT`` answers ``select_rows``. Queries an earlier attempt left running are
``running``: ``wait`` ends them. ``log`` keeps every start and wait, in order.
"""

from __future__ import annotations

from collections.abc import Callable

from event_collector.compaction.athena import QueryOutcome


class FakeQueryRunner:
    def __init__(
        self,
        *,
        rows_written: int = 0,
        select_rows: list[list[str | None]] | None = None,
        scanned_bytes: int = 1000,
        fail_when: str | None = None,
        on_insert: Callable[[str], None] = lambda sql: None,
    ) -> None:
        self.rows_written = rows_written
        self.select_rows: list[list[str | None]] = select_rows if select_rows is not None else [["0", "0"]]
        self.scanned_bytes = scanned_bytes
        self.fail_when = fail_when
        self.on_insert = on_insert
        self.statements: list[str] = []
        self.queries: dict[str, str] = {}
        self.running: set[str] = set()
        self.log: list[tuple[str, str]] = []

    def start(self, sql: str) -> str:
        query_id = f"q-{len(self.queries) + 1}"
        self.statements.append(sql)
        self.queries[query_id] = sql
        self.running.add(query_id)
        self.log.append(("start", query_id))
        return query_id

    def wait(self, query_id: str) -> QueryOutcome:
        self.log.append(("wait", query_id))
        self.running.discard(query_id)
        sql = self.queries.get(query_id, "")
        if self.fail_when is not None and self.fail_when in sql:
            return QueryOutcome(query_id, "FAILED", self.scanned_bytes, "SYNTAX_ERROR: told to fail")
        if sql.startswith("INSERT INTO") and "compaction_ledger" not in sql.split("\n", 1)[0]:
            self.on_insert(sql)
        return QueryOutcome(query_id, "SUCCEEDED", self.scanned_bytes)

    def written(self, query_id: str) -> int:
        return self.rows_written

    def rows(self, query_id: str) -> list[list[str | None]]:
        return self.select_rows
