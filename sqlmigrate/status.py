"""Where a database stands against the migrations folder, read-only.

``read_status`` never takes the lock, never creates the table and never
waits long on a running migration: it is what the admin page, the system
checks and ``sqlmigrate_status`` show. Problems reading the folder or the
database are reported in the result, not raised, so a page can still render.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from django.db import DEFAULT_DB_ALIAS, connections

from .backends import backend_for
from .backends.base import VersionState
from .conf import settings
from .exceptions import SQLMigrateError
from .source import Migration, MigrationFile, MigrationSource, load_source

State = Literal["applied", "current", "dirty", "pending", "missing file"]

#: how long a status read may wait on the database before it says so
READ_TIMEOUT = 2.0


@dataclass(frozen=True, slots=True)
class MigrationRow:
    version: int
    identifier: str
    state: State
    up: MigrationFile | None = None
    down: MigrationFile | None = None

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

    @property
    def applied(self) -> int:
        return sum(row.state in ("applied", "current") for row in self.rows)

    @property
    def pending(self) -> int:
        return sum(row.state == "pending" for row in self.rows)

    @property
    def ok(self) -> bool:
        return not (self.source_error or self.database_error or self.dirty or self.pending)

    def row(self, version: int) -> MigrationRow | None:
        return next((row for row in self.rows if row.version == version), None)


def read_status(
    *, using: str = DEFAULT_DB_ALIAS, path: Path | None = None, timeout: float = READ_TIMEOUT
) -> Status:
    directory = Path(path) if path is not None else settings.migrations_dir
    source, source_error = _read_source(directory)
    state, table_exists, table, database_error = _read_database(using, timeout)
    rows = _rows(source, state) if source is not None else ()
    return Status(
        using=using,
        directory=directory,
        table=table,
        version=state.version,
        dirty=state.dirty,
        table_exists=table_exists,
        rows=rows,
        source_error=source_error,
        database_error=database_error,
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


def _rows(source: MigrationSource, state: VersionState) -> tuple[MigrationRow, ...]:
    rows = [_row(migration, state) for migration in source]
    current = state.version
    if current is not None and current not in source:
        rows.append(MigrationRow(current, "", "missing file"))
        rows.sort(key=lambda row: row.version)
    return tuple(rows)


def _row(migration: Migration, state: VersionState) -> MigrationRow:
    current = state.version
    if current is None or migration.version > current:
        kind: State = "pending"
    elif migration.version == current:
        kind = "dirty" if state.dirty else "current"
    else:
        kind = "applied"
    return MigrationRow(migration.version, migration.identifier, kind, migration.up, migration.down)
