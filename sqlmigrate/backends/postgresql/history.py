"""sqlmigrate's history table in PostgreSQL's types (see ``sqlmigrate.history``)."""

from __future__ import annotations

from collections.abc import Callable

from ...history import COLUMNS, STATE_OUTCOMES


class PostgreSQLHistorySql:
    def create_table(self, qualified: str) -> str:
        return f"""CREATE TABLE IF NOT EXISTS {qualified} (
    id bigserial PRIMARY KEY,
    version bigint NOT NULL,
    name text NOT NULL,
    direction text NOT NULL CHECK (direction IN ('up', 'down', 'force')),
    outcome text NOT NULL
        CHECK (outcome IN ('running', 'applied', 'failed', 'observed', 'backfilled')),
    checksum text,
    content_checksum text,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    duration_ms double precision,
    db_user text NOT NULL DEFAULT current_user,
    hostname text,
    application text,
    resulting_version bigint
)"""

    def states(self, qualified: str, *, full: bool) -> str:
        """Per version, the latest row that says whether its up file is applied.

        ``full=False`` reads only version and direction: all a run with nothing
        to do needs, and much cheaper to decode for thousands of rows.
        """
        outcomes = ", ".join(f"'{o}'" for o in STATE_OUTCOMES)
        columns = COLUMNS if full else "version, direction"
        return (
            f"SELECT DISTINCT ON (version) {columns} FROM {qualified} "
            f"WHERE direction IN ('up', 'down') AND outcome IN ({outcomes}) "
            f"ORDER BY version, id DESC"
        )

    def columns(self, qualified: str, table: str, literal: Callable[[str], str]) -> str:
        return (
            "SELECT attname FROM pg_attribute WHERE attrelid = "
            f"{literal(qualified)}::regclass AND attnum > 0 AND NOT attisdropped"
        )

    def timing(self) -> tuple[str, str]:
        return (
            "pg_catalog.transaction_timestamp()",
            "extract(epoch FROM pg_catalog.clock_timestamp() "
            "- pg_catalog.transaction_timestamp()) * 1000",
        )

    def now(self) -> str:
        return "pg_catalog.clock_timestamp()"

    def elapsed_since(self, column: str) -> str:
        return f"extract(epoch FROM pg_catalog.clock_timestamp() - {column}) * 1000"

    def returning_id(self, insert: str) -> list[str]:
        return [f"{insert} RETURNING id"]
