"""SQLite: golang-migrate's ``sqlite3`` driver, kept byte-compatible, through Django's
connection (the standard library's ``sqlite3``).

Same table as the CLI (``version uint64,dirty bool`` plus its ``version_unique``
index), same writes (every row deleted, one inserted). Unlike the CLI, a file
runs in one transaction *with* its version update, so a failing file leaves
the previous version clean; and runners exclude each other with a file lock
(``filelock``), which the CLI does not take.

SQL is run a statement at a time (the driver runs one per call), split by
SQLite's own ``complete_statement``. A message with several statements and no
transaction control of its own runs in one transaction, as PostgreSQL runs a
multi-statement message: a version write never half-happens.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db.backends.base.base import BaseDatabaseWrapper

from ...exceptions import LockLostError, LockTimeoutError, SQLMigrateError
from ...identifiers import check_table_name
from ..base import (
    Dropped,
    ExecutionFailed,
    HistorySql,
    StatementError,
)
from ..one_by_one import OneByOne
from . import parsing
from .filelock import FileLock
from .history import SQLiteHistorySql
from .session import Baseline, read_baseline

if TYPE_CHECKING:
    from ...sql import ParsedSql

DEFAULT_WAIT = 15.0
LOCK_SUFFIX = ".sqlmigrate.lock"


class SQLiteBackend(OneByOne):
    vendor = "sqlite"
    label = "SQLite"
    history_sql: HistorySql = SQLiteHistorySql()
    #: golang-migrate's sqlite3 driver takes no lock (golang-migrate-vendors.md)
    unlocked_cli_note: str | None = (
        "(golang-migrate takes no lock on SQLite: if a migrate run is going on right now, "
        "this is its migration in progress; let it finish and look again.)"
    )

    def __init__(self, connection: BaseDatabaseWrapper, table: str) -> None:
        check_table_name(table)
        self.connection = connection
        self.table = table
        self.table_label = table
        self._qualified = f"main.{quote(table)}"
        self._raw: Any = None
        self._lock: FileLock | None = None
        self._baseline: Baseline | None = None
        self._busy_before: int | None = None
        self.wait_timeout = DEFAULT_WAIT

    def parse(self, text: str, location: str) -> ParsedSql:
        return parsing.parse_migration(text, location)

    # -- session ---------------------------------------------------------
    def open(self) -> None:
        if self.connection.in_atomic_block:
            raise SQLMigrateError(
                "sqlmigrate cannot run inside transaction.atomic(): a migration that needs "
                "the dirty-flag protocol must commit as it goes"
            )
        try:
            self.connection.ensure_connection()
        except Exception as error:
            raise SQLMigrateError(
                f"cannot open database alias {self.connection.alias!r} "
                f"({self.connection.settings_dict.get('NAME')}): {error}"
            ) from None
        self._raw = self.connection.connection
        if self._raw.isolation_level is not None or self._raw.in_transaction:
            raise SQLMigrateError(
                f"database alias {self.connection.alias!r} has AUTOCOMMIT off; sqlmigrate "
                f"manages its own transactions and needs Django's default autocommit"
            )
        path = self._main_file()
        self.table_label = f"{self.table} in {path}" if path else f"{self.table} (in memory)"

    def _main_file(self) -> str:
        """The main database's file; '' for an in-memory database."""
        for _, name, file in self._raw.execute("PRAGMA database_list").fetchall():
            if name == "main":
                return str(file or "")
        return ""

    def qualify(self, table: str) -> tuple[str, str]:
        return f"main.{quote(table)}", table

    def table_exists(self, table: str) -> bool:
        rows = self.query(
            "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = "
            f"{self.literal(table)}"
        )
        return bool(rows)

    def check_session(self) -> None:
        raw = self._raw
        if raw is None or self.connection.connection is not raw or not _is_open(raw):
            raise LockLostError(
                "the database connection that ran the migrations was closed or replaced; "
                "stopped before running anything more. Run sqlmigrate_version to see where "
                "the database is"
            )
        if self._lock is not None and not self._lock.held:
            raise LockLostError(self._lost_message())

    def _lost_message(self) -> str:
        assert self._lock is not None
        return (
            f"the migration lock file {self._lock.path} was removed or replaced while this "
            f"run held it, so another runner may be migrating now. Nothing more was written"
        )

    # -- lock -------------------------------------------------------------
    def lock(self, timeout: float) -> None:
        """Take the file lock beside the database, polling until the deadline."""
        path = self._main_file()
        lock = FileLock(path + LOCK_SUFFIX if path else None, self.connection.alias)
        self.wait_timeout = timeout
        try:
            taken = lock.acquire(timeout)
        except OSError as error:
            raise SQLMigrateError(
                f"cannot take the migration lock {lock.path}: {error.strerror or error}"
            ) from None
        if not taken:
            raise LockTimeoutError(
                f"timeout: can't acquire database lock: waited {timeout:g} s for the lock "
                f"file {lock.path or lock.name} ({self.table_label}), held by "
                f"{lock.holder()}. Another migration is running: wait for it, or raise "
                f"--lock-timeout / SQLMIGRATE_LOCK_TIMEOUT"
            )
        self._lock = lock
        self._busy_before = int(self._raw.execute("PRAGMA busy_timeout").fetchone()[0])
        self._raw.execute(f"PRAGMA busy_timeout = {self._busy_ms()}")
        self._baseline = read_baseline(self._raw)

    def unlock(self) -> None:
        lock, self._lock = self._lock, None
        baseline, self._baseline = self._baseline, None
        try:
            if self._raw is not None and _is_open(self._raw):
                if baseline is not None:
                    with contextlib.suppress(ExecutionFailed, LockLostError):
                        self._detach_extra(baseline)
                        self.execute(baseline.restore_sql())
                if self._busy_before is not None:
                    self._raw.execute(f"PRAGMA busy_timeout = {self._busy_before}")
        finally:
            self._busy_before = None
            if lock is not None:
                lock.release()

    def _busy_ms(self) -> int:
        return max(1, int(self.wait_timeout * 1000))

    # -- session state and waits ------------------------------------------------
    def restore_sql(self) -> str:
        """PRAGMAs back as the run found them (``session``); runs inside transactions."""
        return self._baseline.restore_sql() if self._baseline is not None else ""

    def restore(self) -> None:
        """After a file that may have changed the session: PRAGMAs, attached databases."""
        if self._baseline is None or self._raw is None or not _is_open(self._raw):
            return
        with contextlib.suppress(ExecutionFailed):
            self._detach_extra(self._baseline)
            self.execute(self._baseline.restore_sql())

    def _detach_extra(self, baseline: Baseline) -> None:
        for _, name, _ in self._raw.execute("PRAGMA database_list").fetchall():
            if name not in baseline.databases:
                self.execute(f"DETACH DATABASE {quote(name)}")

    def bounded_sql(self) -> str:
        return f"PRAGMA busy_timeout = {self._busy_ms()}"

    def write(self, sql: str) -> None:
        try:
            self.execute(sql)
        except ExecutionFailed as failure:
            raise SQLMigrateError(self.explain(failure.error)) from None

    def explain(self, error: StatementError) -> str:
        if error.sqlstate in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in error.message:
            return (
                f"timeout: waited {self.wait_timeout:g} s for a write lock on the database "
                f"({self.table_label}): another connection is writing (a long transaction, "
                f"or the golang-migrate CLI, which takes no lock of its own). Let it finish, "
                f"or raise --lock-timeout / SQLMIGRATE_LOCK_TIMEOUT"
            )
        code = f" ({error.sqlstate})" if error.sqlstate else ""
        return f"{error.message}{code}"

    def snapshot_waiters(self) -> list[str]:
        return []

    def drop_everything(self) -> Dropped:
        """golang-migrate's ``drop``, and what it leaves behind too (``drop``)."""
        from .drop import drop_everything

        return drop_everything(self)

    # -- version table --------------------------------------------------------
    def ensure_table(self) -> None:
        if self.table_exists(self.table):
            return
        name = quote(self.table)
        try:
            # The CLI's statements, as it sends them (sqlite_master keeps this text).
            self.write(
                f"CREATE TABLE IF NOT EXISTS main.{name} (version uint64,dirty bool);\n"
                f"CREATE UNIQUE INDEX IF NOT EXISTS main.version_unique ON {name} (version)"
            )
        except SQLMigrateError as error:
            raise SQLMigrateError(
                f"cannot create the version table {self.table_label}: {error}"
            ) from None

    def peek_query(
        self, table: str, sql_for: Callable[[str], list[str]], timeout: float
    ) -> list[list[tuple[Any, ...]]] | None:
        """Read-only queries, waiting at most ``timeout`` for a writer's commit; they run
        on Django's connection as they are, inside a request's transaction too."""
        try:
            self.connection.ensure_connection()
            raw = self.connection.connection
            before = int(raw.execute("PRAGMA busy_timeout").fetchone()[0])
            raw.execute(f"PRAGMA busy_timeout = {max(1, int(timeout * 1000))}")
            try:
                found = raw.execute(
                    "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?",
                    (table,),
                ).fetchall()
                if not found:
                    return None
                return [
                    list(raw.execute(sql).fetchall()) for sql in sql_for(self.qualify(table)[0])
                ]
            finally:
                raw.execute(f"PRAGMA busy_timeout = {before}")
        except sqlite3.Error as error:
            raise SQLMigrateError(f"cannot read {table} within {timeout:g} s: {error}") from None

    def version_sql(self, version: int | None, dirty: bool) -> str:
        """DELETE and INSERT, as the CLI's SetVersion; refused once the lock file is gone."""
        if self._lock is not None and not self._lock.held:
            raise LockLostError(self._lost_message())
        sql = f"DELETE FROM {self._qualified}"
        if version is not None or dirty:
            stored = -1 if version is None else int(version)
            sql += (
                f";\nINSERT INTO {self._qualified} (version, dirty) "
                f"VALUES ({stored}, {1 if dirty else 0})"
            )
        return sql

    def set_version(self, version: int | None, dirty: bool) -> None:
        self.write(self.version_sql(version, dirty))

    # -- running SQL -----------------------------------------------------------
    def begin_sql(self) -> str:
        # IMMEDIATE: the write lock is taken (waiting busy_timeout at most) before the
        # file runs, so the commit cannot fail on another writer half-way.
        return "BEGIN IMMEDIATE"

    def _run(self, sql: str | bytes) -> None:
        """Run every statement of ``sql`` in order, one per driver call.

        Several statements with no transaction control among them run in one
        transaction. On failure ``statement_index`` counts the statements that
        succeeded, and any transaction the message left open is rolled back."""
        text = sql.decode("ascii") if isinstance(sql, bytes) else sql
        try:
            spans = list(parsing.split_statements(text, "<sql>"))
        except SQLMigrateError as error:
            raise ExecutionFailed(
                StatementError(str(error), None, None, statement_index=0)
            ) from None
        statements = [parsing.classify(text, start, end) for start, end in spans]
        wrap = (
            len(statements) > 1
            and not any(s.transaction or s.alone for s in statements)
            and not self._raw.in_transaction
        )
        raw = self._raw
        index = 0
        try:
            if wrap:
                raw.execute(self.begin_sql())
            for index, statement in enumerate(statements):  # noqa: B007 - read in except
                raw.execute(text[statement.start : statement.end])
            if wrap:
                raw.execute("COMMIT")
                index = len(statements)
        except sqlite3.Error as error:
            self._after_error(error)
            raise ExecutionFailed(_statement_error(error, index)) from None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return list(self._raw.execute(sql).fetchall())
        except sqlite3.Error as error:
            self._after_error(error)
            raise ExecutionFailed(_statement_error(error)) from None

    def literal(self, value: object) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool | int | float):
            return str(int(value) if isinstance(value, bool) else value)
        return "'" + str(value).replace("'", "''") + "'"

    def _after_error(self, error: sqlite3.Error) -> None:
        raw = self._raw
        if not _is_open(raw):
            raise LockLostError(f"lost the database connection: {error}") from None
        if raw.in_transaction:
            raw.execute("ROLLBACK")


def quote(name: str) -> str:
    """A name as SQLite reads it; plain names stay bare, as the CLI writes them."""
    if name.isidentifier() and name.isascii():
        return name
    return '"' + name.replace('"', '""') + '"'


def _is_open(raw: sqlite3.Connection) -> bool:
    try:
        raw.total_changes  # noqa: B018 - raises ProgrammingError once closed
    except sqlite3.ProgrammingError:
        return False
    return True


def _statement_error(error: sqlite3.Error, index: int | None = None) -> StatementError:
    name = getattr(error, "sqlite_errorname", None)
    return StatementError(
        message=str(error).strip() or type(error).__name__,
        sqlstate=str(name) if name else None,
        position=None,
        statement_index=index,
    )
