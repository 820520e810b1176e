"""golang-migrate's ``drop`` on SQLite: every table and view of the main database.

The CLI drops each table listed in ``sqlite_master`` and then runs
``VACUUM``; views survive, and a database with an ``AUTOINCREMENT`` table
(Django's own tables have them; sqlmigrate's history table does not) makes it
fail on ``table sqlite_sequence may not be dropped``. Here, as ``sqlmigrate_drop`` does on
PostgreSQL, views and tables go (triggers and indexes with them), the
version and history tables included, in one transaction; SQLite's own
tables (``sqlite_sequence``, ``sqlite_stat1``, ...) cannot be dropped and
are left, ``sqlite_sequence`` emptied. Then ``VACUUM``, as the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...exceptions import SQLMigrateError
from ..base import Dropped, ExecutionFailed

if TYPE_CHECKING:
    from .backend import SQLiteBackend

_LISTING = (
    "SELECT upper(type), name FROM main.sqlite_master WHERE type IN ('view', 'table') "
    "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type = 'table', name"
)


def drop_everything(backend: SQLiteBackend) -> Dropped:
    """Drop every view and table, foreign keys off meanwhile (a parent table's DROP
    would otherwise check its children's rows); all or nothing, then VACUUM."""
    from .backend import quote

    rows = [(str(kind), str(name)) for kind, name in backend.query(_LISTING)]
    statements = [f"DROP {kind} IF EXISTS main.{quote(name)}" for kind, name in rows]
    if backend.table_exists("sqlite_sequence"):
        statements.append("DELETE FROM main.sqlite_sequence")
    keys = backend.query("PRAGMA foreign_keys")[0][0]
    backend.query("PRAGMA foreign_keys = OFF")  # not inside a transaction: before it
    try:
        if statements:
            backend.execute(";\n".join(statements))  # several statements: one transaction
    except ExecutionFailed as failure:
        raise SQLMigrateError(
            f"cannot drop the tables and views of the main database: "
            f"{backend.explain(failure.error)}. Nothing was dropped: the drops ran in one "
            f"transaction"
        ) from None
    finally:
        backend.query(f"PRAGMA foreign_keys = {int(keys)}")
    backend.query("VACUUM")
    return Dropped("main", tuple(rows))
