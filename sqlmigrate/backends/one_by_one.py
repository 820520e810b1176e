"""What the backends that run a message statement by statement share (SQLite, MySQL).

Their drivers take one statement per call, so a message is split again and run
in order; they run no batches and name no lock holders. Each drops in its own
``drop`` module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..exceptions import SQLMigrateError
from .base import ExecutionFailed, Holder, Outcome, StatementError, VersionState


class OneByOne:
    """Mixin: ``_run`` runs the message; these are the contract's other answers."""

    batches = False
    #: how messages name the vendor ("SQLite", "MySQL/MariaDB")
    label = ""
    table: str
    _qualified: str

    def table_exists(self, table: str) -> bool:
        raise NotImplementedError

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def explain(self, error: StatementError) -> str:
        raise NotImplementedError

    def peek_query(
        self, table: str, sql_for: Callable[[str], list[str]], timeout: float
    ) -> list[list[tuple[Any, ...]]] | None:
        raise NotImplementedError

    def read_version(self) -> VersionState:
        if not self.table_exists(self.table):
            return VersionState(None, False)
        try:
            rows = self.query(f"SELECT version, dirty FROM {self._qualified} LIMIT 1")
        except ExecutionFailed as failure:
            raise SQLMigrateError(
                f"cannot read the version table: {self.explain(failure.error)}"
            ) from None
        return VersionState.from_row(rows[0]) if rows else VersionState(None, False)

    def peek_version(self, timeout: float) -> VersionState | None:
        results = self.peek_query(
            self.table, lambda name: [f"SELECT version, dirty FROM {name} LIMIT 1"], timeout
        )
        if results is None or not results[0]:
            return None if results is None else VersionState(None, False)
        return VersionState.from_row(results[0][0])

    def _run(self, sql: str | bytes) -> None:
        raise NotImplementedError

    def execute(self, sql: str | bytes) -> list[Outcome]:
        """See ``_run``; answers with no outcomes (this vendor runs no batches)."""
        self._run(sql)
        return []

    def begin(self) -> None:
        self.execute(self.begin_sql())

    def begin_sql(self) -> str:
        raise NotImplementedError

    def lock_holders(self, statement: str) -> list[Holder]:
        """Who holds the locks a statement waited for: not looked up on this vendor."""
        return []
