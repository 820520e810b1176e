"""sqlmigrate's history table in MySQL/MariaDB types (see ``sqlmigrate.history``).

Times are UTC ``DATETIME(6)``. The id of the row of a running file is read
with ``LAST_INSERT_ID()``, which MySQL 8 and MariaDB both have (``INSERT ...
RETURNING``: MariaDB 10.5 and newer only).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from ...history import COLUMNS, STATE_OUTCOMES

_NOW = "UTC_TIMESTAMP(6)"


class MySQLHistorySql:
    def create_table(self, qualified: str) -> str:
        return f"""CREATE TABLE IF NOT EXISTS {qualified} (
    id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    version bigint NOT NULL,
    name varchar(255) NOT NULL,
    direction varchar(8) NOT NULL CHECK (direction IN ('up', 'down', 'force')),
    outcome varchar(16) NOT NULL
        CHECK (outcome IN ('running', 'applied', 'failed', 'observed', 'backfilled')),
    checksum varchar(64),
    content_checksum varchar(64),
    started_at datetime(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
    duration_ms double,
    db_user varchar(255) NOT NULL DEFAULT '',
    hostname varchar(255),
    application varchar(255),
    resulting_version bigint
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
        return (
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            f"DATABASE() AND table_name = {literal(table)}"
        )

    def timing(self) -> tuple[str, str]:
        # No transaction timestamp: the SQL is built just before it is sent.
        started = "'" + datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + "'"
        return started, self.elapsed_since(started)

    def now(self) -> str:
        return _NOW

    def elapsed_since(self, column: str) -> str:
        return f"TIMESTAMPDIFF(MICROSECOND, {column}, UTC_TIMESTAMP(6)) / 1000.0"

    def returning_id(self, insert: str) -> list[str]:
        # MySQL 8 has no INSERT ... RETURNING (MariaDB has it since 10.5).
        # LAST_INSERT_ID() is per session: another session's inserts in between
        # cannot change what it answers here.
        return [insert, "SELECT LAST_INSERT_ID()"]
