"""Apply the SQL migrations to every test database Django creates.

Turned on by SQLMIGRATE_TEST_DATABASES (a list of aliases, or True for all).
The hook wraps ``BaseDatabaseCreation.create_test_db``, the one method both
Django's test runner and pytest-django call once per test database, with
``--keepdb`` / ``--reuse-db`` too. It runs after Django's own migrations and
before ``--parallel`` clones the database (``CREATE DATABASE ... TEMPLATE``),
so the clones carry the schema. ``post_migrate`` was the other candidate; it
fires once per app, on every ``migrate`` (real databases included) and after
every TransactionTestCase flush, and cannot tell a test database apart.

A failing migration stops the test run with a TestDatabaseMigrationError
whose message holds the engine's (FILE:LINE:COL, state, fix).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import connections
from django.db.backends.base.creation import BaseDatabaseCreation

from .conf import settings
from .exceptions import SQLMigrateError

if TYPE_CHECKING:
    from .runner import AppliedMigration

#: set on the wrapper, so installing twice (tests, a second setup()) wraps once
_MARK = "_sqlmigrate_hook"


class TestDatabaseMigrationError(SQLMigrateError):
    """The SQL migrations failed on a test database; the test run cannot start."""

    __test__ = False  # not a test case, whatever pytest thinks of the name

    def __init__(self, alias: str, name: str, error: SQLMigrateError, *, keepdb: bool) -> None:
        self.alias = alias
        self.error = error
        text = f"SQL migrations failed on test database {name!r} (alias {alias!r}):\n{error}"
        if keepdb:
            text += (
                "\nThe test database is kept (--keepdb / --reuse-db) as the failure left it; "
                "run the tests once without it (pytest: --create-db) to start from a new one."
            )
        else:
            text += "\nThe next test run makes the test database anew: fix the file and rerun."
        super().__init__(text)


def install() -> None:
    """Wrap ``BaseDatabaseCreation.create_test_db``; a no-op when already wrapped."""
    original = BaseDatabaseCreation.create_test_db
    if getattr(original, _MARK, False):
        return
    signature = inspect.signature(original)

    @functools.wraps(original)
    def create_test_db(self: BaseDatabaseCreation, *args: Any, **kwargs: Any) -> str:
        call = signature.bind(self, *args, **kwargs)
        call.apply_defaults()
        wanted = migrates_test_database(self)
        name = original(self, *args, **kwargs)
        if wanted:
            migrate_test_database(
                self.connection.alias,
                name,
                verbosity=int(call.arguments["verbosity"]),
                keepdb=bool(call.arguments["keepdb"]),
            )
        return name

    setattr(create_test_db, _MARK, True)
    BaseDatabaseCreation.create_test_db = create_test_db  # type: ignore[method-assign]


def migrates_test_database(creation: BaseDatabaseCreation) -> bool:
    """Whether the test database ``creation`` is about to create gets the SQL.

    Yes when its alias is named, or when a named alias shares the database:
    Django then creates it once, for the first alias, and mirrors the others.
    Call it before the creation, while the aliases still have their real names.
    """
    named = settings.test_databases
    if not named or creation.connection.alias in named:
        return bool(named)
    signature = creation.test_db_signature()
    return any(
        other in connections.settings
        and connections[other].creation.test_db_signature() == signature
        for other in named
    )


def migrate_test_database(alias: str, name: str, *, verbosity: int, keepdb: bool) -> None:
    """Apply the pending SQL migrations to the (just created) test database of ``alias``.

    Prints like ``create_test_db`` does (stderr): at verbosity 1 only warnings,
    at 2 and more a line per file applied.
    """
    log = connections[alias].creation.log
    if verbosity >= 2:
        log(f"Applying SQL migrations to test database for alias {alias!r}...")
    try:
        from . import engine  # loaded when a test database is made, not at start-up

        result = engine.up(
            using=alias,
            progress=_progress(log) if verbosity >= 2 else None,
            warn=log if verbosity >= 1 else None,
        )
    except SQLMigrateError as error:
        raise TestDatabaseMigrationError(alias, name, error, keepdb=keepdb) from error
    if result.notice and verbosity >= 1:
        # --keepdb on an older branch: the kept database has a newer schema than the files
        log(f"warning: test database for alias {alias!r}: {result.notice}")
    elif verbosity >= 2 and not result.changed:
        log("  No SQL migrations to apply.")


def _progress(log: Callable[[str], None]) -> Callable[[AppliedMigration], None]:
    from .management.output import format_applied

    def report(applied: AppliedMigration) -> None:
        log(f"  {format_applied(applied)}")

    return report
