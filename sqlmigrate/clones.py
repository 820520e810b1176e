"""Kept ``--parallel`` clones follow their test database (``--keepdb``).

Django clones the migrated test database once per worker. With ``--keepdb`` it
keeps the clones too, and on the next run reuses them as they are ("Using
existing clone") on every vendor: a SQL migration added since reaches the kept
test database through the hook but none of the clones, and the workers would
test the old schema. So, after Django's ``clone_test_db`` under ``--keepdb``,
a clone whose stored version differs from its test database's is cloned anew
through Django's own non-keepdb path (drop, then TEMPLATE / ``mysqldump`` /
file copy). Clones already at the same version are left alone: they stay as
fast to reuse as Django means them to be.

An in-memory SQLite test database keeps nothing between runs: a forked worker
shares its copy, a spawned one restores a copy made for this run.

Django clones a MySQL test database by piping ``mysqldump`` into ``mysql``;
without those programs it stops with a bare FileNotFoundError from deep in
the runner. For the test databases the hook migrated, that is said first, as
one line of error (TestDatabaseCloneError is a CommandError).
"""

from __future__ import annotations

import functools
import inspect
import shutil
from typing import Any

from django.core.management.base import CommandError
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.creation import BaseDatabaseCreation

from .backends import backend_for
from .backends.base import VersionState
from .conf import settings
from .exceptions import SQLMigrateError

#: set on the wrapper, so installing twice wraps once
_MARK = "_sqlmigrate_clone_hook"

#: aliases whose test database the hook migrated in this process
MIGRATED: set[str] = set()


class TestDatabaseCloneError(SQLMigrateError, CommandError):
    """Django cannot clone the migrated test database for ``--parallel`` workers."""

    __test__ = False  # not a test case, whatever pytest thinks of the name


def install() -> None:
    """Wrap ``BaseDatabaseCreation.clone_test_db``; a no-op when already wrapped."""
    original = BaseDatabaseCreation.clone_test_db
    if getattr(original, _MARK, False):
        return
    signature = inspect.signature(original)

    @functools.wraps(original)
    def clone_test_db(self: BaseDatabaseCreation, *args: Any, **kwargs: Any) -> None:
        call = signature.bind(self, *args, **kwargs)
        call.apply_defaults()
        if self.connection.alias in MIGRATED:
            check_clone_programs(self)
        original(self, *args, **kwargs)
        if call.arguments["keepdb"] and self.connection.alias in MIGRATED:
            refresh_kept_clone(
                self, str(call.arguments["suffix"]), verbosity=int(call.arguments["verbosity"])
            )

    setattr(clone_test_db, _MARK, True)
    BaseDatabaseCreation.clone_test_db = clone_test_db  # type: ignore[method-assign]


def check_clone_programs(creation: BaseDatabaseCreation) -> None:
    """Refuse, with what to do, when the programs Django clones a MySQL database with
    are not on PATH."""
    if creation.connection.vendor != "mysql":
        return
    client = creation.connection.client.executable_name or "mysql"
    missing = [program for program in ("mysqldump", client) if shutil.which(program) is None]
    if missing:
        raise TestDatabaseCloneError(
            f"--parallel cannot clone the test database for alias "
            f"{creation.connection.alias!r}: Django copies a MySQL/MariaDB database into each "
            f"worker's with `mysqldump | {client}`, and {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not on PATH. Install the MySQL client "
            f"programs (newer MariaDB releases may install only mariadb-dump and mariadb: "
            f"link the mysql names to them), or run the tests without --parallel."
        )


def refresh_kept_clone(creation: BaseDatabaseCreation, suffix: str, *, verbosity: int) -> None:
    """Clone anew when the kept clone ``suffix`` is not at its test database's version."""
    name = creation.connection.settings_dict["NAME"]
    in_memory = getattr(creation, "is_in_memory_db", None)
    if in_memory is not None and in_memory(name):
        return
    source = stored_version(creation.connection)
    clone_settings = creation.get_test_db_clone_settings(suffix)
    clone = version_of_clone(creation.connection.alias, suffix, clone_settings)
    if clone == source:
        return
    if verbosity >= 1:
        creation.log(
            f"Cloning test database for alias {creation.connection.alias!r} anew: its kept "
            f"clone {clone_settings['NAME']!r} is at {describe(clone)}, the test database "
            f"at {describe(source)}."
        )
    creation._clone_test_db(suffix, verbosity, keepdb=False)  # type: ignore[attr-defined]


def stored_version(connection: BaseDatabaseWrapper) -> VersionState | None:
    """The version ``connection``'s database stores; None: it has no version table."""
    return backend_for(connection, settings.table).peek_version(settings.lock_timeout)


def version_of_clone(
    alias: str, suffix: str, clone_settings: dict[str, Any]
) -> VersionState | None:
    """The clone's stored version, read through an alias of its own for the length of it.

    An alias rather than a bare wrapper: the backends find their connection by
    alias (``transaction.atomic(using=...)``)."""
    reader = f"{alias}__sqlmigrate_clone_{suffix}"
    connections.settings[reader] = dict(clone_settings)
    try:
        return stored_version(connections[reader])
    finally:
        connections[reader].close()
        del connections[reader]
        del connections.settings[reader]


def describe(state: VersionState | None) -> str:
    if state is None:
        return "no version table"
    if state.version is None:
        return "no version"
    return f"version {state.version}" + (" (dirty)" if state.dirty else "")
