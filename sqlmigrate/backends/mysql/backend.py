"""MySQL/MariaDB: golang-migrate's ``mysql`` driver, kept compatible, through Django's
connection (mysqlclient).

Same table as the CLI (``version bigint not null primary key, dirty boolean
not null``), same lock (``GET_LOCK`` on the CLI's name, on the connection that
migrates), same writes (one row deleted, one inserted, in a transaction).
Statements are sent one per call, split by sqlglot's MySQL tokenizer (see
``parsing``); the CLI sends a file as one multi-statement query, which the
server runs the same way, statement after statement, stopping at the first
error. Every version write is preceded, in its transaction, by a check that
``IS_USED_LOCK(name) = CONNECTION_ID()``: no write follows a lost lock.
"""

from __future__ import annotations

import contextlib
import math
import time
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError
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
from .history import MySQLHistorySql
from .session import SESSION_SQL, Baseline

if TYPE_CHECKING:
    from ...sql import ParsedSql

ADVISORY_LOCK_SALT = 1486364155
DEFAULT_WAIT = 15.0
_FIRST_PAUSE = 0.01
_LONGEST_PAUSE = 0.25
#: the text of the error the lock guard raises
LOCK_LOST_MARK = "sqlmigrate: migration lock lost"
_GUARD_PREFIX = "SELECT IS_USED_LOCK("


def lock_name(database: str, table: str) -> str:
    """golang-migrate's GenerateAdvisoryLockId(database + ":" + table), as MySQL's lock name."""
    checksum = zlib.crc32(f"{database}:{table}".encode()) & 0xFFFFFFFF
    return str((checksum * ADVISORY_LOCK_SALT) & 0xFFFFFFFF)


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class MySQLBackend(OneByOne):
    vendor = "mysql"
    label = "MySQL/MariaDB"
    history_sql: HistorySql = MySQLHistorySql()
    unlocked_cli_note: str | None = None  # the CLI takes the same lock

    def __init__(self, connection: BaseDatabaseWrapper, table: str) -> None:
        check_table_name(table)
        self.connection = connection
        self.table = table
        self.table_label = table
        self._database = ""
        self._qualified = quote(table)
        self._raw: Any = None
        self._lock_name = ""
        self._held = False
        self._baseline: Baseline | None = None
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
            raise SQLMigrateError(self._connect_failure(error)) from None
        self._raw = self.connection.connection
        if not self.connection.get_autocommit():
            raise SQLMigrateError(
                f"database alias {self.connection.alias!r} has AUTOCOMMIT off; sqlmigrate "
                f"manages its own transactions and needs Django's default autocommit"
            )
        row = self.query("SELECT DATABASE()")
        database = row[0][0] if row else None
        if not database:
            raise SQLMigrateError("no database: the connection has no default database (NAME)")
        self._database = str(database)
        self._qualified = f"{quote(self._database)}.{quote(self.table)}"
        self.table_label = f"{self._database}.{self.table}"
        self._lock_name = lock_name(self._database, self.table)

    def qualify(self, table: str) -> tuple[str, str]:
        return f"{quote(self._database)}.{quote(table)}", f"{self._database}.{table}"

    def table_exists(self, table: str) -> bool:
        rows = self.query(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = "
            f"{self.literal(self._database)} AND table_name = {self.literal(table)}"
        )
        return bool(rows)

    @property
    def lock_key(self) -> str:
        return self._lock_name

    def check_session(self) -> None:
        raw = self._raw
        if raw is None or self.connection.connection is not raw or not _alive(raw):
            raise LockLostError(
                "the database session that held the migration lock was lost (connection "
                "closed or replaced); stopped before running anything more. Run "
                "sqlmigrate_version to see where the database is"
            )

    # -- lock -------------------------------------------------------------
    def lock(self, timeout: float) -> None:
        """``GET_LOCK(name, 0)`` polled until the deadline: never one long blocking wait."""
        deadline = time.monotonic() + timeout
        pause = _FIRST_PAUSE
        self.wait_timeout = timeout
        name = self.literal(self._lock_name)
        while True:
            row = self._fetch(f"SELECT GET_LOCK({name}, 0)", "take the lock")
            if row and row[0] == 1:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise LockTimeoutError(self._timeout_message(timeout))
            time.sleep(min(pause, left))
            pause = min(pause * 2, _LONGEST_PAUSE)
        self._held = True
        rows = self.query(SESSION_SQL)
        self._baseline = Baseline.from_row(rows[0], self._database)

    def _timeout_message(self, timeout: float) -> str:
        row = self._fetch(
            f"SELECT IS_USED_LOCK({self.literal(self._lock_name)})", "look up the lock holder"
        )
        holder = f"connection {row[0]}" if row and row[0] is not None else "another session"
        return (
            f"timeout: can't acquire database lock: waited {timeout:g} s for MySQL lock "
            f"{self._lock_name} ({self.table_label}), held by {holder}. Another migration is "
            f"running: wait for it, or raise --lock-timeout / SQLMIGRATE_LOCK_TIMEOUT"
        )

    def unlock(self) -> None:
        held, self._held = self._held, False
        baseline, self._baseline = self._baseline, None
        if self._raw is None or not _alive(self._raw):
            return
        with contextlib.suppress(ExecutionFailed, LockLostError, SQLMigrateError):
            if baseline is not None:
                self.execute(baseline.restore_sql())
            if held:
                self.query(f"SELECT RELEASE_LOCK({self.literal(self._lock_name)})")

    # -- session state and waits ------------------------------------------------
    def restore_sql(self) -> str:
        return self._baseline.restore_sql() if self._baseline is not None else ""

    def restore(self) -> None:
        sql = self.restore_sql()
        if sql and self._raw is not None and _alive(self._raw):
            with contextlib.suppress(ExecutionFailed, LockLostError):
                self.execute(sql)

    def bounded_sql(self) -> str:
        seconds = max(1, math.ceil(self.wait_timeout))
        return f"SET SESSION lock_wait_timeout = {seconds}, innodb_lock_wait_timeout = {seconds}"

    def write(self, sql: str) -> None:
        try:
            self.execute(f"{self.bounded_sql()};\n{sql}")
        except ExecutionFailed as failure:
            raise SQLMigrateError(self.explain(failure.error)) from None

    def explain(self, error: StatementError) -> str:
        if LOCK_LOST_MARK in error.message:
            raise LockLostError(
                f"this session no longer holds the migration lock (MySQL lock "
                f"{self._lock_name}): something run in it released it (RELEASE_LOCK(), "
                f"RELEASE_ALL_LOCKS()), so another runner may be migrating now. Nothing more "
                f"was written"
            )
        if error.sqlstate in ("1205", "1213"):
            return (
                f"timeout: waited {self.wait_timeout:g} s for a lock on {self.table_label} "
                f"(or its history table): {error.message}. End the transaction in the way, or "
                f"raise --lock-timeout / SQLMIGRATE_LOCK_TIMEOUT"
            )
        code = f" (MySQL error {error.sqlstate})" if error.sqlstate else ""
        return f"{error.message}{code}"

    def snapshot_waiters(self) -> list[str]:
        return []

    def drop_everything(self) -> Dropped:
        """golang-migrate's ``drop``, and what it leaves behind too (``drop``)."""
        from .drop import drop_everything

        return drop_everything(self, self._database)

    # -- version table --------------------------------------------------------
    def ensure_table(self) -> None:
        if self.table_exists(self.table):
            return
        try:
            self.write(
                f"CREATE TABLE IF NOT EXISTS {self._qualified} "
                "(version bigint not null primary key, dirty boolean not null)"
            )
        except SQLMigrateError as error:
            raise SQLMigrateError(
                f"cannot create the version table {self.table_label}: {error}"
            ) from None

    def peek_query(
        self, table: str, sql_for: Callable[[str], list[str]], timeout: float
    ) -> list[list[tuple[Any, ...]]] | None:
        """Read-only queries on Django's connection, metadata-lock waits bounded."""
        seconds = max(1, math.ceil(timeout))
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT DATABASE(), @@SESSION.lock_wait_timeout")
                database, before = cursor.fetchone()
                self.table_label = f"{database}.{table}"
                cursor.execute(
                    "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() "
                    "AND table_name = %s",
                    [table],
                )
                if not cursor.fetchall():
                    return None
                cursor.execute(f"SET SESSION lock_wait_timeout = {seconds}")
                try:
                    results = []
                    for sql in sql_for(f"{quote(str(database))}.{quote(table)}"):
                        cursor.execute(sql)
                        results.append(list(cursor.fetchall()))
                    return results
                finally:
                    cursor.execute(f"SET SESSION lock_wait_timeout = {int(before)}")
        except DatabaseError as error:
            raise SQLMigrateError(f"cannot read {table} within {timeout:g} s: {error}") from None

    def version_sql(self, version: int | None, dirty: bool) -> str:
        """The CLI's DELETE and INSERT, behind the lock guard while the lock is held."""
        sql = f"DELETE FROM {self._qualified}"
        if self._held:
            guard = (
                f"{_GUARD_PREFIX}{self.literal(self._lock_name)}) <=> CONNECTION_ID() "
                "AS sqlmigrate_lock_guard"
            )
            sql = f"{guard};\n{sql}"
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
        return "START TRANSACTION"

    def _run(self, sql: str | bytes) -> None:
        """Run the statements of ``sql`` one per call; several plain DML statements (and
        sqlmigrate's own writes) with no transaction control run in one transaction."""
        text = sql.decode("ascii") if isinstance(sql, bytes) else sql
        try:
            spans = parsing.split_statements(text)
        except SQLMigrateError as error:
            raise ExecutionFailed(
                StatementError(str(error), None, None, statement_index=0)
            ) from None
        wrap = len(spans) > 1 and not any(_controls_transaction(text[a:b]) for a, b in spans)
        index = 0
        try:
            with self._raw.cursor() as cursor:
                if wrap:
                    cursor.execute("START TRANSACTION")
                for index, (start, end) in enumerate(spans):
                    statement = text[start:end]
                    cursor.execute(statement)
                    rows = cursor.fetchall() if cursor.description else ()
                    while cursor.nextset():
                        pass
                    if statement.startswith(_GUARD_PREFIX) and rows and rows[0][0] != 1:
                        self._rollback()
                        raise ExecutionFailed(
                            StatementError(f"{LOCK_LOST_MARK}", None, None, statement_index=index)
                        )
                if wrap:
                    cursor.execute("COMMIT")
                    index = len(spans)
        except self._errors() as error:
            self._after_error(error)
            raise ExecutionFailed(_statement_error(error, index)) from None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            with self._raw.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall()) if cursor.description else []
        except self._errors() as error:
            self._after_error(error)
            raise ExecutionFailed(_statement_error(error)) from None

    def literal(self, value: object) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool | int | float):
            return str(int(value) if isinstance(value, bool) else value)
        # NO_BACKSLASH_ESCAPES may be on or off: escape for both readings.
        escaped = str(value).replace("\\", "\\\\").replace("'", "''")
        return f"'{escaped}'"

    def _fetch(self, sql: str, purpose: str) -> tuple[Any, ...] | None:
        try:
            rows = self.query(sql)
        except ExecutionFailed as failure:
            raise SQLMigrateError(f"cannot {purpose}: {failure.error.message}") from None
        return rows[0] if rows else None

    def _errors(self) -> type[Exception]:
        database: Any = getattr(self.connection, "Database")  # noqa: B009 - not in the stubs
        return database.Error  # type: ignore[no-any-return]

    def _rollback(self) -> None:
        with contextlib.suppress(Exception):
            self._raw.rollback()

    def _after_error(self, error: Exception) -> None:
        if not _alive(self._raw):
            raise LockLostError(f"lost the database session (and the migration lock): {error}")
        self._rollback()

    def _connect_failure(self, error: Exception) -> str:
        settings = self.connection.settings_dict
        text = str(error).strip()
        password = settings.get("PASSWORD")
        if password:
            text = text.replace(str(password), "********")
        where = f"{settings.get('HOST') or 'local socket'}, database {settings.get('NAME')!r}"
        return f"cannot connect to database alias {self.connection.alias!r} ({where}): {text}"


def _controls_transaction(statement: str) -> bool:
    word = statement.split(None, 1)[0].upper() if statement.strip() else ""
    return word in ("BEGIN", "START", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def _alive(raw: Any) -> bool:
    try:
        # Never reconnect: a new session would not hold the lock. mysqlclient does not;
        # PyMySQL (the tests' fallback) does unless told not to.
        if type(raw).__module__.startswith("pymysql"):
            raw.ping(reconnect=False)
        else:
            raw.ping()
    except Exception:
        return False
    return True


def _statement_error(error: Exception, index: int | None = None) -> StatementError:
    args: tuple[Any, ...] = tuple(getattr(error, "args", ()))
    code = str(args[0]) if args and isinstance(args[0], int) else None
    message = str(args[1]) if len(args) > 1 else str(error)
    return StatementError(message=message, sqlstate=code, position=None, statement_index=index)
