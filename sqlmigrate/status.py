"""Where a database stands against the migrations folder, read-only.

``read_status`` never takes the lock, never creates the table and never
waits long on a running migration: it is what the admin page, the system
checks and ``sqlmigrate_status`` show. Problems reading the folder or the
database are reported in the result, not raised, so a page can still render.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from django.db import DEFAULT_DB_ALIAS, connections

from .backends import backend_for
from .backends.base import VersionState
from .conf import settings
from .exceptions import SQLMigrateError
from .gcpause import collector_paused
from .guards import Drift, check_applied, find_out_of_order
from .history import Entry, HistoryView, last_sql
from .source import Migration, MigrationFile, MigrationSource, load_source

#: "unknown": the database could not be read, so no row can claim a state
State = Literal["applied", "current", "dirty", "pending", "missing file", "unknown"]

#: how long a status read may wait on the database before it says so
READ_TIMEOUT = 2.0


@dataclass(frozen=True, slots=True)
class MigrationRow:
    version: int
    identifier: str
    state: State
    up: MigrationFile | None = None
    down: MigrationFile | None = None
    #: the history row that applied it (None: not applied, or applied before history)
    history: Entry | None = None
    #: the up file changed since it was applied
    drift: Drift | None = None
    #: older than the version and never applied, although history was watching
    out_of_order: bool = False
    #: why the applied up file cannot be read now ("cannot read: Permission denied"),
    #: so drift cannot be checked and sqlmigrate_up refuses to run
    unreadable: str | None = None

    @property
    def outside(self) -> bool:
        """Applied without sqlmigrate: by the Go CLI, or before history was kept."""
        applied = self.state in ("applied", "current")
        return applied and (self.history is None or self.history.outside)

    @property
    def adopted(self) -> bool:
        """Recorded by ``sqlmigrate_backfill``: applied before history was kept here."""
        return self.history is not None and self.history.outcome == "backfilled"

    @property
    def name(self) -> str:
        """The file name without direction and extension, e.g. ``0011_seed_plans_table``."""
        present = self.up or self.down
        if present is None:
            return str(self.version)
        return present.name.split(f"_{self.identifier}.", 1)[0] + f"_{self.identifier}"

    @property
    def has_down(self) -> bool:
        return self.down is not None


@dataclass(frozen=True, slots=True)
class Status:
    using: str
    directory: Path
    table: str
    version: int | None = None
    dirty: bool = False
    table_exists: bool = False
    rows: tuple[MigrationRow, ...] = ()
    #: why the folder could not be read, or None
    source_error: str | None = None
    #: why the database could not be read, or None
    database_error: str | None = None
    history_table: str | None = None

    @property
    def drifted(self) -> tuple[MigrationRow, ...]:
        return tuple(row for row in self.rows if row.drift is not None)

    @property
    def out_of_order(self) -> tuple[MigrationRow, ...]:
        return tuple(row for row in self.rows if row.out_of_order)

    @property
    def unreadable(self) -> tuple[MigrationRow, ...]:
        return tuple(row for row in self.rows if row.unreadable is not None)

    @property
    def missing_files(self) -> tuple[MigrationRow, ...]:
        return tuple(row for row in self.rows if row.state == "missing file")

    @property
    def applied(self) -> int:
        return sum(row.state in ("applied", "current") for row in self.rows)

    @property
    def pending(self) -> int:
        return sum(row.state == "pending" for row in self.rows)

    @property
    def ok(self) -> bool:
        """Nothing pending and nothing wrong: what ``sqlmigrate_status --check`` wants."""
        problems = (self.drifted, self.out_of_order, self.missing_files, self.unreadable)
        return not (
            self.source_error or self.database_error or self.dirty or self.pending
        ) and not any(problems)

    def row(self, version: int) -> MigrationRow | None:
        return next((row for row in self.rows if row.version == version), None)


def read_status(
    *, using: str = DEFAULT_DB_ALIAS, path: Path | None = None, timeout: float = READ_TIMEOUT
) -> Status:
    directory = Path(path) if path is not None else settings.migrations_dir
    source, source_error = _read_source(directory)
    state, table_exists, table, database_error = _read_database(using, timeout)
    view, history_error = _read_history(using, timeout, database_error)
    rows: tuple[MigrationRow, ...] = ()
    if source is not None:
        with collector_paused():  # every applied file is hashed: thousands of objects
            rows = _rows(source, state, view, known=database_error is None)
    return Status(
        using=using,
        directory=directory,
        table=table,
        version=state.version,
        dirty=state.dirty,
        table_exists=table_exists,
        rows=rows,
        source_error=source_error,
        database_error=database_error or history_error,
        history_table=settings.history_table,
    )


def _read_source(directory: Path) -> tuple[MigrationSource | None, str | None]:
    try:
        return load_source(directory), None
    except SQLMigrateError as error:
        return None, str(error)


def _read_database(using: str, timeout: float) -> tuple[VersionState, bool, str, str | None]:
    nothing = VersionState(None, False)
    table = settings.table
    try:
        if using not in connections.settings:
            raise SQLMigrateError(f"database alias {using!r} is not in DATABASES")
        backend = backend_for(connections[using], table)
        state = backend.peek_version(timeout)
    except SQLMigrateError as error:
        return nothing, False, table, str(error)
    if state is None:
        return nothing, False, backend.table_label, None
    return state, True, backend.table_label, None


def _read_history(
    using: str, timeout: float, database_error: str | None
) -> tuple[HistoryView, str | None]:
    table = settings.history_table
    if table is None or database_error is not None:
        return HistoryView(), None
    try:
        backend = backend_for(connections[using], settings.table)
        states = backend.history_sql.states
        results = backend.peek_query(table, lambda q: [states(q, full=True), last_sql(q)], timeout)
    except SQLMigrateError as error:
        return HistoryView(), str(error)
    if results is None:
        return HistoryView(), None
    return HistoryView.from_rows(results[0], results[1]), None


def _rows(
    source: MigrationSource, state: VersionState, view: HistoryView, *, known: bool
) -> tuple[MigrationRow, ...]:
    if not known:
        return tuple(MigrationRow(m.version, m.identifier, "unknown", m.up, m.down) for m in source)
    checked = check_applied(source, view, state.version)
    drifts = {d.migration.version: d for d in checked.drifts}
    unreadable = {u.migration.version: u.error.reason for u in checked.unreadable}
    late = {m.version for m in find_out_of_order(source, view, state.version)}
    rows = [
        _row(m, state, view.applied(m.version), drifts.get(m.version), m.version in late)
        for m in source
    ]
    # A file that cannot be read now: its row says so, the rest of the page renders.
    rows = [replace(row, unreadable=unreadable.get(row.version)) for row in rows]
    current = state.version
    if current is not None and current not in source:
        rows.append(MigrationRow(current, "", "missing file"))
        rows.sort(key=lambda row: row.version)
    return tuple(rows)


def _row(
    migration: Migration,
    state: VersionState,
    entry: Entry | None,
    drift: Drift | None,
    late: bool,
) -> MigrationRow:
    current = state.version
    if current is None or migration.version > current or late:
        kind: State = "pending"
    elif migration.version == current:
        kind = "dirty" if state.dirty else "current"
    else:
        kind = "applied"
    return MigrationRow(
        migration.version,
        migration.identifier,
        kind,
        migration.up,
        migration.down,
        history=entry,
        drift=drift,
        out_of_order=late,
    )
