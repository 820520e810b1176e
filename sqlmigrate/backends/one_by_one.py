"""What the backends that run a message statement by statement share (SQLite, MySQL).

Their drivers take one statement per call, so a message is split again and run
in order; they run no batches, name no lock holders and cannot drop yet.
"""

from __future__ import annotations

from ..exceptions import ConfigurationError
from .base import Dropped, Holder, Outcome


class OneByOne:
    """Mixin: ``_run`` runs the message; these are the contract's other answers."""

    batches = False
    #: how messages name the vendor ("SQLite", "MySQL/MariaDB")
    label = ""

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

    def drop_everything(self) -> Dropped:
        raise ConfigurationError(
            f"sqlmigrate_drop supports PostgreSQL so far; on {self.label} drop the tables by hand"
        )
