"""sqlmigrate's history table in SQLite's types (see ``sqlmigrate.history``).

Times are UTC text (``YYYY-MM-DD HH:MM:SS.SSS``), as SQLite's date functions
write them; ``Entry`` reads them back as aware datetimes.

``id`` is a plain ``INTEGER PRIMARY KEY`` (the rowid: one more than the largest,
and rows are only ever added), not ``AUTOINCREMENT``: that would create
``sqlite_sequence``, a table no one may drop, and golang-migrate's ``drop``
fails on it (it drops every table sqlite_master lists).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from ...history import COLUMNS, STATE_OUTCOMES

_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


class SQLiteHistorySql:
    def create_table(self, qualified: str) -> str:
        return f"""CREATE TABLE IF NOT EXISTS {qualified} (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('up', 'down', 'force')),
    outcome TEXT NOT NULL
        CHECK (outcome IN ('running', 'applied', 'failed', 'observed', 'backfilled')),
    checksum TEXT,
    content_checksum TEXT,
    started_at TEXT NOT NULL DEFAULT ({_NOW}),
    duration_ms REAL,
    db_user TEXT NOT NULL DEFAULT '',
    hostname TEXT,
    application TEXT,
    resulting_version INTEGER
)"""

    def states(self, qualified: str, *, full: bool) -> str:
        outcomes = ", ".join(f"'{o}'" for o in STATE_OUTCOMES)
        columns = COLUMNS if full else "version, direction"
        return (
            f"SELECT {columns} FROM {qualified} WHERE id IN (SELECT max(id) FROM {qualified} "
            f"WHERE direction IN ('up', 'down') AND outcome IN ({outcomes}) GROUP BY version) "
            f"ORDER BY version"
        )

    def columns(self, qualified: str, table: str, literal: Callable[[str], str]) -> str:
        return f"SELECT name FROM pragma_table_info({literal(table)}, 'main')"

    def timing(self) -> tuple[str, str]:
        # SQLite has no transaction timestamp: the SQL is built just before it is sent.
        started = _literal(datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3])
        return started, self.elapsed_since(started)

    def now(self) -> str:
        return _NOW

    def elapsed_since(self, column: str) -> str:
        return f"(julianday('now') - julianday({column})) * 86400000.0"

    def returning_id(self, insert: str) -> list[str]:
        return [f"{insert} RETURNING id"]


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
