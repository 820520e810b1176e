"""What the admin status pages show, built from a ``Status``: no HTTP, no database.

The migrations table is a tuple of columns, each turning a ``MigrationRow``
into a ``Cell``; the template only iterates them. A later column (applied at,
duration, checksum drift) is one more entry in ``COLUMNS``, not a template
change.
"""

from __future__ import annotations

import codecs
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS

from .exceptions import FileReadError, SQLMigrateError
from .management.output import format_duration
from .source import (
    UTF8_BOM,
    Direction,
    Migration,
    MigrationFile,
    display_path,
    file_size,
    load_source,
    read_bytes,
    read_sql,
)
from .status import MigrationRow, Status

#: the SQL page shows at most this much of a file; seed files can be huge
MAX_SQL_BYTES = 1024 * 1024

SqlUrl = Callable[[int, Direction], str]


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Cell:
    text: str = ""
    #: classes of the <td>
    css: str = ""
    #: when set, the text shows as a badge of this kind (a state name)
    badge: str = ""
    #: when not None, the admin's yes/no icon instead of text
    boolean: bool | None = None
    links: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class RowContext:
    sql_url: SqlUrl
    #: False when the database could not be read: every state is then unknown
    database_read: bool


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    cell: Callable[[MigrationRow, RowContext], Cell]


def _has_file(row: MigrationRow) -> bool:
    return row.up is not None or row.down is not None


def _version_cell(row: MigrationRow, context: RowContext) -> Cell:
    return Cell(str(row.version), css="version")


def _name_cell(row: MigrationRow, context: RowContext) -> Cell:
    if not _has_file(row):
        return Cell("no file for this version in the folder", css="quiet")
    return Cell(row.name, css="name")


def _state_cell(row: MigrationRow, context: RowContext) -> Cell:
    # Without the database, read_status reports every file as pending: say
    # "unknown" rather than something false in the middle of an incident.
    state = row.state if context.database_read else "unknown"
    return Cell(state, badge=state.replace(" ", "-"))


def _down_cell(row: MigrationRow, context: RowContext) -> Cell:
    if not _has_file(row):
        return Cell("-", css="quiet")
    return Cell("yes" if row.has_down else "no", boolean=row.has_down)


def _sql_cell(row: MigrationRow, context: RowContext) -> Cell:
    present: list[Direction] = []
    if row.up is not None:
        present.append("up")
    if row.down is not None:
        present.append("down")
    links = tuple(Link(d, context.sql_url(row.version, d)) for d in present)
    return Cell(css="sql", links=links)


def _applied_cell(row: MigrationRow, context: RowContext) -> Cell:
    if not context.database_read or row.state not in ("applied", "current", "dirty"):
        return Cell()
    if row.adopted:
        return Cell("adopted (backfill)", css="quiet")
    if row.outside or row.history is None:
        return Cell("outside sqlmigrate", css="quiet")
    return Cell(f"{row.history.started_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC", css="when")


def _duration_cell(row: MigrationRow, context: RowContext) -> Cell:
    history = row.history
    applied = row.state in ("applied", "current", "dirty")
    if not context.database_read or not applied or history is None or history.outside:
        return Cell()
    if history.duration_ms is None:
        return Cell()
    return Cell(format_duration(history.duration_ms / 1000), css="quiet when")


def _checks_cell(row: MigrationRow, context: RowContext) -> Cell:
    """What history says is wrong with this file: unreadable, drift or out of order."""
    if row.unreadable is not None:
        return Cell(f"unreadable ({row.unreadable})", badge="unreadable")
    if row.drift is not None:
        kind = "whitespace/comments" if row.drift.cosmetic else "SQL"
        return Cell(f"drift ({kind} changed)", badge="drift")
    if row.out_of_order:
        return Cell("out of order", badge="out-of-order")
    return Cell()


COLUMNS: tuple[Column, ...] = (
    Column("version", "Version", _version_cell),
    Column("name", "Name", _name_cell),
    Column("state", "State", _state_cell),
    Column("applied", "Applied at", _applied_cell),
    Column("duration", "Took", _duration_cell),
    Column("checks", "Checks", _checks_cell),
    Column("down", "Down file", _down_cell),
    Column("sql", "SQL", _sql_cell),
)


def table_rows(
    status: Status, context: RowContext, columns: Sequence[Column] = COLUMNS
) -> list[dict[str, Any]]:
    """One dict per migration row: its version, state and one cell per column."""
    return [
        {
            "version": row.version,
            "state": row.state,
            "css": f"row-{row.state.replace(' ', '-')}" if context.database_read else "",
            "cells": [column.cell(row, context) for column in columns],
        }
        for row in status.rows
    ]


@dataclass(frozen=True, slots=True)
class Fact:
    label: str
    value: str
    css: str = ""


def facts(status: Status) -> list[Fact]:
    """The summary above the table: where the database is, and where it looks."""
    known = status.database_error is None
    version_css = "version dirty" if known and status.dirty else "version"
    return [
        Fact("Database", status.using),
        Fact("Version", _version_text(status) if known else "unknown", css=version_css),
        Fact("Applied", f"{status.applied} of {len(status.rows)}" if known else "unknown"),
        Fact("Pending", str(status.pending) if known else "unknown"),
        Fact("Version table", status.table, css="mono"),
        Fact("Migrations folder", str(status.directory), css="mono"),
    ]


def _version_text(status: Status) -> str:
    shown = "none" if status.version is None else str(status.version)
    return f"{shown} (dirty)" if status.dirty else shown


@dataclass(frozen=True, slots=True)
class DirtyFix:
    """The commands that clear a dirty version, as the CLI's error message gives them."""

    version: int | None
    #: the command with a placeholder V: the version the database matches once fixed
    general: str
    #: force to the dirty version: the database now matches it
    matches: str
    #: the version before it (None: no version), and the command for it
    previous: int | None
    undone: str | None


def dirty_fix(status: Status) -> DirtyFix | None:
    if not status.dirty or status.database_error:
        return None
    version, using = status.version, status.using
    general, matches = _force_words("V", using), force_command(version, using)
    # Without the folder's listing the version before this one is unknown.
    if version is None or status.source_error:
        return DirtyFix(version, general, matches, None, None)
    previous = _previous_version(status, version)
    return DirtyFix(version, general, matches, previous, force_command(previous, using))


def _previous_version(status: Status, version: int) -> int | None:
    """The highest version below ``version`` that has a file, the one ``down`` would leave."""
    earlier = [row.version for row in status.rows if row.version < version and _has_file(row)]
    return max(earlier, default=None)


def force_command(version: int | None, using: str) -> str:
    """The exact command that records ``version`` clean (None: no version, -1)."""
    return _force_words("-1" if version is None else str(version), using)


def _force_words(version: str, using: str) -> str:
    words = ["python manage.py sqlmigrate_force", version]
    if using != DEFAULT_DB_ALIAS:
        words.append(f"--database {shlex.quote(using)}")
    return " ".join(words)


def notices(status: Status) -> list[tuple[str, str]]:
    """(level, text) messages about what could not be read, in the admin's message levels."""
    found: list[tuple[str, str]] = []
    if status.database_error:
        found.append(("error", f"Cannot read the database: {status.database_error}"))
    elif not status.table_exists:
        found.append(("info", f"No migrations applied yet (table {status.table} does not exist)."))
    if status.source_error:
        found.append(("error", f"Cannot read the migrations folder: {status.source_error}"))
    elif not status.rows:
        found.append(("warning", f"The migrations folder {status.directory} has no migrations."))
    found.extend(("error", _unreadable_notice(row)) for row in status.unreadable)
    return found


def _unreadable_notice(row: MigrationRow) -> str:
    shown = display_path(row.up.location) if row.up else row.name
    return (
        f"{shown}: {row.unreadable}. Version {row.version} is applied, but its file cannot be "
        f"compared with the checksum recorded when it ran: sqlmigrate_up refuses to run until "
        f"the file is readable again."
    )


# -- the SQL of one file --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SqlText:
    text: str
    #: the file's size in bytes
    size: int
    #: True when only the first MAX_SQL_BYTES are in ``text``
    truncated: bool = False
    error: str | None = None


def find_migration(directory: Path, version: int) -> Migration | None:
    """The folder's migration for ``version``, if there is one (None too when unreadable).

    Files are looked up in the folder's listing, never built from a path in the
    URL, so nothing but the migrations can be served.
    """
    try:
        return load_source(directory).get(version)
    except SQLMigrateError:
        return None


def read_sql_text(file: MigrationFile, limit: int = MAX_SQL_BYTES) -> SqlText:
    """The file's text for the page; a file that cannot be read gives a message instead."""
    size = 0
    try:
        size = file_size(file)
        if size <= limit:
            return SqlText(read_sql(file), size)
        return SqlText(_read_head(file, limit), size, truncated=True)
    except FileReadError as error:
        return SqlText("", size, error=str(error))


def _read_head(file: MigrationFile, limit: int) -> str:
    head = read_bytes(file, limit)
    # An incremental decoder keeps a character cut at the limit out of the text.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    return decoder.decode(head, final=False).removeprefix(UTF8_BOM)
