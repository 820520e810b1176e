"""System checks: settings and the folder always, the database with ``--database``.

Ids are ``sqlmigrate.<id>``; they are stable (README: "System checks").

| id   | level   | meaning                                          | fix                          |
|------|---------|--------------------------------------------------|------------------------------|
| E001 | Error   | database dirty: a migration failed part-way      | repair, `sqlmigrate_force V` |
| E002 | Error   | SQLMIGRATE_TABLE / _HISTORY_TABLE not usable     | plain name, <= 63 bytes      |
| E003 | Error   | SQLMIGRATE_LOCK_TIMEOUT is not seconds > 0       | a positive number (15)       |
| E004 | Error   | SQLMIGRATE_TEST_DATABASES: unknown alias/type    | aliases from DATABASES, True |
| E005 | Error   | migrations folder missing, not a dir, unreadable | set SQLMIGRATE_DIR           |
| E006 | Error   | duplicate version, version > bigint, bad entry   | rename/remove the file named |
| E007 | Error   | database at a version that has no file           | restore it, or force         |
| E008 | Error   | an applied up file changed since it ran (drift)  | restore it, add a migration  |
| E009 | Error   | a file older than the version never ran          | renumber it, or allow it     |
| E010 | Error   | an applied up file cannot be read now            | restore the file             |
| E011-E015 | Error | the safe-deploy settings (see checks_safety.py) | as it says                 |
| W001 | Warning | SQL migrations pending                           | `sqlmigrate_up`              |
| W002 | Warning | database unreadable: db checks skipped           | start it / fix DATABASES     |
| W003 | Warning | database ahead of the files (older release?)     | deploy the newer files       |
| W004 | Warning | squawk finding, pending file (SQLMIGRATE_LINT)   | fix it, or squawk-ignore it  |
| W005 | Warning | SQLMIGRATE_LINT on, but lint could not run       | pip install '...[lint]'      |

E001, E007-E010 and W001-W003 are database checks, tagged ``database``: like
Django's own, they run only for the aliases given with ``check --database``,
during ``migrate`` and in the test runner. They read through
``status.read_status``: no lock, no table created, a short statement timeout.
W004/W005 (``check_lint``) are database checks too: only pending files are
linted, since an applied file cannot be changed any more.
E007-E010 are the states in which ``sqlmigrate_up`` would refuse to run;
W003 is E007 when the database is past the last file and SQLMIGRATE_STRICT
is off. Aliases on a database sqlmigrate does not support are skipped.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings as django_settings
from django.core.checks import CheckMessage, Error, Warning
from django.db import DEFAULT_DB_ALIAS, connections

from .backends import backend_for
from .checks_safety import check_safety_settings
from .conf import DEFAULT_HISTORY_TABLE, DEFAULT_LOCK_TIMEOUT, DEFAULT_TABLE, settings
from .exceptions import ConfigurationError, SourceError
from .identifiers import check_table_name
from .source import display_path, load_source

if TYPE_CHECKING:
    from .lint import Finding
    from .status import MigrationRow, Status


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return [
        *_check_tables(),
        *_check_lock_timeout(),
        *_check_test_databases(),
        *check_safety_settings(),  # E011-E015
    ]


def check_migrations_folder(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E005 when the folder cannot be listed, E006 when its listing cannot be used."""
    try:
        directory = settings.migrations_dir
    except TypeError:
        value = getattr(django_settings, "SQLMIGRATE_DIR", None)
        return [Error(f"SQLMIGRATE_DIR must be a path, not {value!r}.", id="sqlmigrate.E005")]
    try:
        load_source(directory)
    except SourceError as error:
        folder_ok = _listable(directory)
        return [Error(str(error), id="sqlmigrate.E006" if folder_ok else "sqlmigrate.E005")]
    return []


def check_databases(
    app_configs: Any = None, databases: Iterable[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The database checks for each alias asked for (none without ``--database``)."""
    if not databases or _check_tables():
        return []  # a table setting is wrong: E002 says so, and nothing can be read
    from .status import read_status  # the database layer loads only when asked for

    messages: list[CheckMessage] = []
    for alias in databases:
        if supported(alias):
            messages.extend(database_messages(read_status(using=alias)))
    return messages


def check_lint(
    app_configs: Any = None, databases: Iterable[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """SQLMIGRATE_LINT: W004 per squawk finding in the files pending on ``databases``."""
    if not databases or not settings.lint or _check_tables():
        return []
    from .lint import lint_configured
    from .status import read_status

    pending: dict[Path, None] = {}  # ordered, and a file pending on two aliases once
    for alias in databases:
        # squawk reads PostgreSQL: SQLite and MySQL files are not its to judge.
        if supported(alias) and _vendor(alias) == "postgresql":
            status = read_status(using=alias)
            rows = [row for row in status.rows if row.state == "pending"]
            pending.update(dict.fromkeys(row.up.path for row in rows if row.up is not None))
    report = lint_configured(list(pending))
    if report.skipped or report.error:
        reason = report.skipped or f"lint skipped: {report.error}"
        return [Warning(reason, id="sqlmigrate.W005")]
    return [_finding(finding) for finding in report.findings]


def database_messages(status: Status) -> list[CheckMessage]:
    """What a status means for a deploy: E001, E007-E010, W001-W003 (see the table)."""
    if status.database_error:
        return [
            Warning(
                f"Cannot read the SQL migration state of database {status.using!r}: "
                f"{status.database_error}",
                hint="The other sqlmigrate checks of this database were skipped.",
                id="sqlmigrate.W002",
            )
        ]
    messages: list[CheckMessage] = []
    if status.dirty:
        messages.append(_dirty(status))
    if status.source_error is None:
        messages.extend(_missing_file(status, row) for row in status.missing_files)
        if not settings.allow_drift:
            messages.extend(_drift(status, row) for row in status.drifted)
        if not settings.allow_out_of_order:
            messages.extend(_out_of_order(status, row) for row in status.out_of_order)
        messages.extend(_unreadable(status, row) for row in status.unreadable)
    if status.pending and not any(m.is_serious() for m in messages):
        messages.append(_pending(status))
    return messages


def command(name: str, *args: str, using: str = DEFAULT_DB_ALIAS) -> str:
    """The management command line to type, with ``--database`` when not default."""
    words = ["python manage.py", name, *args]
    if using != DEFAULT_DB_ALIAS:
        words.append(f"--database {using}")
    return " ".join(words)


def _vendor(alias: str) -> str:
    return connections[alias].vendor if alias in connections.settings else "postgresql"


def supported(alias: str) -> bool:
    """False for an alias on a database sqlmigrate has no backend for (it is not ours)."""
    if alias not in connections.settings:
        return True  # read_status reports the unknown alias (W002)
    try:
        backend_for(connections[alias], DEFAULT_TABLE)
    except ConfigurationError:
        return False
    return True


# -- settings -----------------------------------------------------------------


def _check_tables() -> list[CheckMessage]:
    table = getattr(django_settings, "SQLMIGRATE_TABLE", DEFAULT_TABLE)
    history = getattr(django_settings, "SQLMIGRATE_HISTORY_TABLE", DEFAULT_HISTORY_TABLE)
    errors = _check_table("SQLMIGRATE_TABLE", table)
    if history:  # None or "" turns history off
        errors += _check_table("SQLMIGRATE_HISTORY_TABLE", history)
    if not errors and history == table:
        errors.append(
            Error(
                f"SQLMIGRATE_HISTORY_TABLE and SQLMIGRATE_TABLE are both {table!r}; the "
                f"history needs a table of its own.",
                id="sqlmigrate.E002",
            )
        )
    return errors


def _check_table(setting: str, value: object) -> list[CheckMessage]:
    if not isinstance(value, str):
        return [Error(f"{setting} must be a string, not {value!r}.", id="sqlmigrate.E002")]
    try:
        check_table_name(value, setting)
    except ConfigurationError as error:
        return [Error(f"{error}.", id="sqlmigrate.E002")]
    return []


def _check_lock_timeout() -> list[CheckMessage]:
    value = getattr(django_settings, "SQLMIGRATE_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT)
    try:
        seconds = settings.lock_timeout
    except (ConfigurationError, OverflowError):
        seconds = math.nan
    if isinstance(value, bool) or not (math.isfinite(seconds) and seconds > 0):
        return [
            Error(
                f"SQLMIGRATE_LOCK_TIMEOUT must be a positive number of seconds, not {value!r}.",
                id="sqlmigrate.E003",
            )
        ]
    return []


def _check_test_databases() -> list[CheckMessage]:
    value = getattr(django_settings, "SQLMIGRATE_TEST_DATABASES", ())
    if value is True or value is False or value is None:
        return []
    if not isinstance(value, list | tuple | set | frozenset) or not all(
        isinstance(alias, str) for alias in value
    ):
        return [
            Error(
                f"SQLMIGRATE_TEST_DATABASES must be a list of DATABASES aliases, or True for "
                f"all of them, not {value!r}.",
                id="sqlmigrate.E004",
            )
        ]
    known = django_settings.DATABASES
    return [
        Error(
            f"SQLMIGRATE_TEST_DATABASES names {alias!r}, which is not in DATABASES (known "
            f"aliases: {', '.join(sorted(known)) or 'none'}).",
            id="sqlmigrate.E004",
        )
        for alias in sorted(value)
        if alias not in known
    ]


def _listable(directory: os.PathLike[str]) -> bool:
    try:
        with os.scandir(directory):
            return True
    except OSError:
        return False


# -- database -----------------------------------------------------------------


def _dirty(status: Status) -> CheckMessage:
    alias, version = status.using, status.version
    shown = "-1" if version is None else str(version)
    hint = (
        f"Check the database by hand, undo or finish what the failed file did, then run "
        f"'{command('sqlmigrate_force', shown, using=alias)}' if the database now matches "
        f"version {shown}"
    )
    if version is not None and status.source_error is None:
        earlier = [row.version for row in status.rows if row.version < version]
        previous = str(earlier[-1]) if earlier else "-1"
        hint += f", or '{command('sqlmigrate_force', previous, using=alias)}' if you undid it"
    return Error(
        f"Database {alias!r} is dirty at SQL migration version {shown} ({status.table}): a "
        f"migration failed part-way.",
        hint=f"{hint}.",
        id="sqlmigrate.E001",
    )


def _missing_file(status: Status, row: MigrationRow) -> CheckMessage:
    alias, folder = status.using, display_path(status.directory)
    files = [r.version for r in status.rows if r.state != "missing file"]
    if files and row.version > max(files) and not settings.strict:
        return Warning(
            f"Database {alias!r} is at SQL migration version {row.version}, ahead of the "
            f"files in {folder} (they end at {max(files)}).",
            hint=(
                "Is an older release of the code deployed? sqlmigrate_up does nothing until "
                "the files catch up (it fails if SQLMIGRATE_STRICT is on, or if the history "
                "table never saw that version applied)."
            ),
            id="sqlmigrate.W003",
        )
    return Error(
        f"Database {alias!r} is at SQL migration version {row.version}, which has no file "
        f"in {folder}; sqlmigrate_up fails until it has.",
        hint=(
            f"Restore the {row.version}_*.up.sql and .down.sql files, or run "
            f"'{command('sqlmigrate_force', 'V', using=alias)}' with the version the "
            f"database really matches."
        ),
        id="sqlmigrate.E007",
    )


def _drift(status: Status, row: MigrationRow) -> CheckMessage:
    assert row.drift is not None
    return Error(
        f"Database {status.using!r}: {row.drift.describe()}",
        hint=(
            "Applied migrations must not be edited: restore the file and put the change in a "
            "new migration (python manage.py sqlmigrate_create NAME), or set "
            "SQLMIGRATE_ALLOW_DRIFT = True."
        ),
        id="sqlmigrate.E008",
    )


def _out_of_order(status: Status, row: MigrationRow) -> CheckMessage:
    name = row.up.name if row.up else row.name
    return Error(
        f"Database {status.using!r} never applied {name} (version {row.version}), but is "
        f"already at version {status.version}; golang-migrate would skip it silently.",
        hint=(
            f"Renumber it to come after {status.version}, or set "
            f"SQLMIGRATE_ALLOW_OUT_OF_ORDER = True to apply it where it is."
        ),
        id="sqlmigrate.E009",
    )


def _unreadable(status: Status, row: MigrationRow) -> CheckMessage:
    shown = display_path(row.up.location) if row.up else row.name
    return Error(
        f"{shown}: {row.unreadable}. Database {status.using!r} applied it (version "
        f"{row.version}); it cannot be compared with the checksum recorded when it ran, so "
        f"sqlmigrate_up, down and goto refuse to run.",
        hint="Make the file readable again (restore it from version control).",
        id="sqlmigrate.E010",
    )


def _pending(status: Status) -> CheckMessage:
    where = "it has no version" if status.version is None else f"it is at {status.version}"
    last = max(row.version for row in status.rows)
    return Warning(
        f"Database {status.using!r} has {status.pending} unapplied SQL migration(s) "
        f"({where}; {display_path(status.directory)} goes up to {last}).",
        hint=f"Run '{command('sqlmigrate_up', using=status.using)}' to apply them.",
        id="sqlmigrate.W001",
    )


def _finding(finding: Finding) -> CheckMessage:
    return Warning(
        f"{finding.describe()} (squawk, in a pending SQL migration)",
        hint=(
            f"{finding.hint}. To accept it, put '-- squawk-ignore {finding.rule}' above the "
            f"statement, or add {finding.rule!r} to SQLMIGRATE_LINT_EXCLUDE."
        ),
        id="sqlmigrate.W004",
    )
