"""Writing sqlmigrate's history table, through the run's locked backend session.

``HistoryTable`` owns the SQL that creates, reads and fills the table;
``HistoryRecorder`` writes the rows of one run beside each migration: inside
its transaction when the file is atomic, around it otherwise.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from typing import Any

from .backends.base import Backend, ExecutionFailed
from .exceptions import ConfigurationError, SQLMigrateError
from .guards import applied_file_checksums
from .history import (
    COLUMN_NAMES,
    Checksums,
    HistoryView,
    application_name,
    last_sql,
)
from .source import Migration, MigrationSource


class HistoryTable:
    """Writes and reads the side table through a locked backend session."""

    def __init__(self, backend: Backend, table: str, qualified: str, label: str) -> None:
        self.backend = backend
        self.table = table
        self.qualified = qualified
        self.label = label
        # Quoted once: the same for every row of the run.
        self._who = (
            f"{backend.literal(socket.gethostname())}, {backend.literal(application_name())}"
        )

    def ensure(self) -> None:
        """Create the table when missing (checked first, as for the version table);
        refuse one of that name that is not sqlmigrate's."""
        if not self.backend.table_exists(self.table):
            self.backend.write(self.backend.history_sql.create_table(self.qualified))
            return
        self._check_columns()

    def _check_columns(self) -> None:
        sql = self.backend.history_sql.columns(self.qualified, self.table, self.backend.literal)
        rows = self.backend.query(sql)
        missing = [c for c in COLUMN_NAMES if c not in {row[0] for row in rows}]
        if missing:
            raise ConfigurationError(
                f"SQLMIGRATE_HISTORY_TABLE names {self.label}, which exists but is not "
                f"sqlmigrate's history table (it has no {', '.join(missing)}). Choose another "
                f"name, or set SQLMIGRATE_HISTORY_TABLE = None to keep no history"
            )

    def load(self, *, full: bool = True) -> HistoryView:
        """The table's state; ``full=False`` skips what only drift checks need."""
        try:
            states = self.backend.query(self.backend.history_sql.states(self.qualified, full=full))
            last = self.backend.query(last_sql(self.qualified))
        except ExecutionFailed as failure:
            self._check_columns()  # a table of that name that is not ours: say so
            raise self._failure(failure, "read") from None
        if full:
            return HistoryView.from_rows(states, last)
        return HistoryView.from_light_rows(states, last)

    def observe(
        self, view: HistoryView, current: int | None, source: MigrationSource
    ) -> tuple[HistoryView, list[str]]:
        """A version change made outside sqlmigrate since its last row, and the rows
        that record it (written by the caller once the run is sure to go ahead).

        The rows say which files went in (or out) without sqlmigrate, with the
        checksums the files have now, so later checks have something to go on.
        The view returned already counts them.
        """
        last = view.last
        if last is None or last.resulting_version == current:
            return view, []
        found = _observed_rows(view, source, last.resulting_version, current)
        rows = [
            self.insert_sql(**row, outcome="observed", resulting=current, timed=False)
            for row in found
        ]
        if not rows:
            rows.append(self.force_sql(current, outcome="observed"))
        directions = {**view.directions, **{row["version"]: row["direction"] for row in found}}
        return replace(view, directions=directions), rows

    def backfill_sql(
        self, source: MigrationSource, view: HistoryView, current: int | None
    ) -> list[str]:
        """Rows adopting every applied version that history does not know yet."""
        return [
            self.insert_sql(
                version=m.version,
                name=m.up.name,
                direction="up",
                outcome="backfilled",
                sums=applied_file_checksums(m.up, current),
                resulting=current,
                timed=False,
            )
            for m in source
            if current is not None
            and m.version <= current
            and m.up is not None
            and not view.knows(m.version)
        ]

    def insert_sql(
        self,
        *,
        version: int | None,
        name: str,
        direction: str,
        outcome: str,
        sums: Checksums | None,
        resulting: int | None,
        timed: bool = True,
    ) -> str:
        """An INSERT of one row; ``timed``: duration from the transaction's start."""
        dialect = self.backend.history_sql
        started, elapsed = dialect.timing() if timed else (dialect.now(), "NULL")
        values = [
            str(-1 if version is None else version),
            self.backend.literal(name),
            _word(direction),
            _word(outcome),
            _hex(sums.sha256 if sums else None),
            _hex(sums.content if sums else None),
            started,
            elapsed,
            self._who,
            str(-1 if resulting is None else resulting),
        ]
        return (
            f"INSERT INTO {self.qualified} (version, name, direction, outcome, checksum, "
            f"content_checksum, started_at, duration_ms, hostname, application, "
            f"resulting_version) VALUES ({', '.join(values)})"
        )

    def force_sql(self, version: int | None, outcome: str = "applied") -> str:
        """A row saying the version was set to ``version`` without running a file."""
        return self.insert_sql(
            version=version,
            name="",
            direction="force",
            outcome=outcome,
            sums=None,
            resulting=version,
            timed=False,
        )

    def start_running(self, **row: Any) -> int:
        """Insert a ``running`` row, committed before the file runs; returns its id."""
        insert = self.insert_sql(outcome="running", timed=False, **row)
        try:
            for statement in self.backend.history_sql.returning_id(insert):
                rows = self.backend.query(statement)
            return int(rows[0][0])
        except ExecutionFailed as failure:
            raise self._failure(failure, "write to") from None

    def _failure(self, failure: ExecutionFailed, verb: str) -> SQLMigrateError:
        return SQLMigrateError(
            f"cannot {verb} the history table {self.label}: {self.backend.explain(failure.error)}"
        )

    def finish_sql(self, row_id: int, outcome: str = "applied") -> str:
        return (
            f"UPDATE {self.qualified} SET outcome = {self.backend.literal(outcome)}, "
            f"duration_ms = {self.backend.history_sql.elapsed_since('started_at')} "
            f"WHERE id = {int(row_id)}"
        )


class HistoryRecorder:
    """The rows one run writes, beside (and where possible inside) each migration."""

    def __init__(self, table: HistoryTable) -> None:
        self.table = table
        self._running: int | None = None

    def applied_sql(self, step: Any, sums: Checksums | None) -> str:
        return self.table.insert_sql(**_row(step, sums), outcome="applied")

    def start(self, step: Any, sums: Checksums | None) -> None:
        self._running = self.table.start_running(**_row(step, sums))

    def finish_sql(self) -> str:
        assert self._running is not None
        row_id, self._running = self._running, None
        return self.table.finish_sql(row_id)

    def failed(self, step: Any, sums: Checksums | None) -> None:
        """Best effort: a failure report must not be hidden by a failing history write."""
        try:
            if self._running is not None:
                row_id, self._running = self._running, None
                self.table.backend.write(self.table.finish_sql(row_id, "failed"))
            else:
                row = {**_row(step, sums), "resulting": step.before}
                self.table.backend.write(
                    self.table.insert_sql(**row, outcome="failed", timed=False)
                )
        except Exception:  # noqa: S110 - the migration's own error is what matters
            pass

    def force_sql(self, version: int | None) -> str:
        return self.table.force_sql(version)


def _word(value: str) -> str:
    """One of our own constants (direction, outcome) as a literal."""
    assert value.isalpha(), value
    return f"'{value}'"


def _hex(value: str | None) -> str:
    """A hex digest as a literal: nothing in it needs escaping."""
    if value is None:
        return "NULL"
    int(value, 16)  # refuses anything that is not hex
    return f"'{value}'"


def _observed_rows(
    view: HistoryView, source: MigrationSource, before: int | None, current: int | None
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    low, high = (before, current) if _below(before, current) else (current, before)
    for migration in source:
        if not (_below(low, migration.version) and not _below(high, migration.version)):
            continue
        if _below(before, current) and migration.up is not None:
            sums = applied_file_checksums(migration.up, current)
            rows.append(_observed(migration, "up", sums))
        elif not _below(before, current) and view.is_applied(migration.version):
            rows.append(_observed(migration, "down", None))
    return rows


def _below(a: int | None, b: int | None) -> bool:
    """a < b, where None (no version) is below every version."""
    if b is None:
        return False
    return a is None or a < b


def _observed(migration: Migration, direction: str, sums: Checksums | None) -> dict[str, Any]:
    file = migration.file("up" if direction == "up" else "down") or migration.up or migration.down
    return {
        "version": migration.version,
        "name": file.name if file else str(migration.version),
        "direction": direction,
        "sums": sums,
    }


def _row(step: Any, sums: Checksums | None) -> dict[str, Any]:
    file = step.file
    return {
        "version": step.migration.version,
        "name": file.name if file is not None else step.label,
        "direction": step.direction,
        "sums": sums,
        "resulting": step.target,
    }
