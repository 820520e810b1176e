"""Apply the SQL migrations to every test database Django creates.

Turned on by SQLMIGRATE_TEST_DATABASES (a list of aliases, or True for all).
The hook wraps ``BaseDatabaseCreation.create_test_db``, the one method both
Django's test runner and pytest-django call once per test database, with
``--keepdb`` / ``--reuse-db`` too. It runs after Django's own migrations and
before ``--parallel`` clones the database (PostgreSQL: ``CREATE DATABASE ...
TEMPLATE``, MySQL: ``mysqldump | mysql``, SQLite: a copy of the file or of the
in-memory database), so the clones carry the schema; ``sqlmigrate.clones``
keeps ``--keepdb``'s kept clones at their test database's version.
``post_migrate`` was the other candidate; it fires once per app, on every
``migrate`` (real databases included) and after every TransactionTestCase
flush, and cannot tell a test database apart.

A failing migration stops the test run with a TestDatabaseMigrationError
whose message holds the engine's (FILE:LINE:COL, SQLSTATE), rewritten for a
test database: its fix is to edit the file and run the tests again, never a
command on the real database. The half-made test database is dropped, so the
next run does not ask to delete it; with ``--keepdb`` it is kept, and the
message says how to start anew. It is a CommandError too, so ``manage.py
test`` prints it as one line of error without a traceback.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError
from django.db import DatabaseError, connections
from django.db.backends.base.creation import BaseDatabaseCreation

from .conf import settings
from .exceptions import DirtyError, DriftError, FileReadError, MigrationFailedError, SQLMigrateError

if TYPE_CHECKING:
    from .runner import AppliedMigration

#: set on the wrapper, so installing twice (tests, a second setup()) wraps once
_MARK = "_sqlmigrate_hook"


#: what to run instead, for a database kept from an earlier run
START_ANEW = "run the tests once without --keepdb (pytest: --create-db) to start from a new one"


class TestDatabaseMigrationError(SQLMigrateError, CommandError):
    """The SQL migrations failed on a test database; the test run cannot start.

    ``dropped``: None when the database was kept (``--keepdb``), else whether
    dropping the half-made database worked (a string: why it did not).
    """

    __test__ = False  # not a test case, whatever pytest thinks of the name

    def __init__(
        self, alias: str, name: str, error: SQLMigrateError, *, dropped: bool | str | None
    ) -> None:
        self.alias = alias
        self.error = error
        self.dropped = dropped
        lines = [
            f"SQL migrations failed on test database {name!r} (alias {alias!r}):",
            describe_failure(error, kept=dropped is None),
            aftermath(error, dropped),
        ]
        super().__init__("\n".join(lines))


def describe_failure(error: SQLMigrateError, *, kept: bool) -> str:
    """What failed and where, without the fix commands meant for the real database."""
    if isinstance(error, MigrationFailedError):
        code = f" ({error.sqlstate})" if error.sqlstate else ""
        failed = f"{error.location}: {error.reason}{code}"
        # The state matters only for a database that stays.
        return f"{failed}\n{error.state}" if kept else failed
    if isinstance(error, DriftError):
        from .guards import Drift

        # Without the advice to pass --allow-drift: a kept test database is made anew.
        return "\n".join(d.describe() for d in error.drifts if isinstance(d, Drift))
    if isinstance(error, FileReadError):
        return f"{error.location}: {error.reason}"
    if isinstance(error, DirtyError):
        shown = -1 if error.version is None else error.version
        return f"the kept test database is dirty at version {shown}: a migration failed part-way"
    return str(error)


def aftermath(error: SQLMigrateError, dropped: bool | str | None) -> str:
    """What became of the test database, and what to do next."""
    if dropped is None and isinstance(error, DriftError):
        return (
            "The test database is kept (--keepdb / --reuse-db) and ran an earlier version of "
            f"the file: {START_ANEW}, with the files as they are now."
        )
    if dropped is None:
        return (
            f"The test database is kept (--keepdb / --reuse-db) as the failure left it; "
            f"{START_ANEW}."
        )
    if dropped is True:
        return "The test database was dropped: fix the file and run the tests again."
    return (
        f"The test database could not be dropped ({dropped}): the next run asks to delete it "
        f"(or pass --noinput). Fix the file and run the tests again."
    )


def install() -> None:
    """Wrap ``create_test_db`` and ``clone_test_db``; a no-op when already wrapped."""
    from . import clones

    clones.install()
    original = BaseDatabaseCreation.create_test_db
    if getattr(original, _MARK, False):
        return
    signature = inspect.signature(original)

    @functools.wraps(original)
    def create_test_db(self: BaseDatabaseCreation, *args: Any, **kwargs: Any) -> str:
        call = signature.bind(self, *args, **kwargs)
        call.apply_defaults()
        wanted = migrates_test_database(self)
        real_name = self.connection.settings_dict["NAME"]
        name = original(self, *args, **kwargs)
        if wanted:
            migrate_test_database(
                self.connection.alias,
                name,
                verbosity=int(call.arguments["verbosity"]),
                keepdb=bool(call.arguments["keepdb"]),
                real_name=real_name,
            )
            clones.MIGRATED.add(self.connection.alias)
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


def migrate_test_database(
    alias: str, name: str, *, verbosity: int, keepdb: bool, real_name: str | None = None
) -> None:
    """Apply the pending SQL migrations to the (just created) test database of ``alias``.

    Prints like ``create_test_db`` does (stderr): at verbosity 1 only warnings,
    at 2 and more a line per file applied. On failure the test database is
    dropped (unless ``keepdb``) and ``alias`` points at ``real_name`` again.
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
        dropped = None if keepdb else drop_test_database(alias, real_name)
        raise TestDatabaseMigrationError(alias, name, error, dropped=dropped) from None
    if result.notice and verbosity >= 1:
        # --keepdb on an older branch: the kept database has a newer schema than the files
        log(f"warning: test database for alias {alias!r}: {result.notice}")
    elif verbosity >= 2 and not result.changed:
        log("  No SQL migrations to apply.")


def drop_test_database(alias: str, real_name: str | None) -> bool | str:
    """Drop the half-made test database of ``alias``: True, or why it could not be."""
    creation = connections[alias].creation
    try:
        creation.destroy_test_db(real_name, verbosity=0, keepdb=False)
    except DatabaseError as error:
        return str(error).strip() or type(error).__name__
    return True


def _progress(log: Callable[[str], None]) -> Callable[[AppliedMigration], None]:
    from .management.output import format_applied

    def report(applied: AppliedMigration) -> None:
        log(f"  {format_applied(applied)}")

    return report
