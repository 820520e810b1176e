"""The migration lock as a row in a table: golang-migrate's pgx ``x-lock-strategy=table``.

Through PgBouncer in transaction pooling, each transaction may run on another
server session, so a session advisory lock does not hold from one message to
the next. The pgx driver's table strategy (database/pgx/pgx.go, ``applyTableLock``)
works there, and this is byte-compatible with it:

- table ``schema_lock`` (pgx's ``x-lock-table``) in ``current_schema()``:
  ``CREATE TABLE "schema_lock" (lock_id BIGINT NOT NULL PRIMARY KEY)``;
- the lock is the row whose ``lock_id`` is ``GenerateAdvisoryLockId(dbname)``
  (the database name only); pgx inserts it in a transaction that first looks
  for it, and deletes it to unlock. The CLI passes the URL path, slash
  included ("/realstaging"); the library ``current_database()``. sqlmigrate
  inserts both rows in one statement, so either kind of pgx runner is excluded.

pgx records no owner. sqlmigrate's ownership token is the rows' ``xmin`` (the
inserting transaction's id, which stays with the row): every version write
checks that the rows with that ``xmin`` are still there, so a run whose row
was cleared (``sqlmigrate_unlock``) and taken by another runner writes nothing.
What it cannot protect against is said in the README ("Safe deploys").
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import psycopg
from django.db.backends.base.base import BaseDatabaseWrapper

from ...exceptions import LockLostError, LockTimeoutError, SQLMigrateError
from ...identifiers import check_table_name
from ..base import StatementError
from .backend import PostgreSQLBackend, advisory_lock_id
from .state import LOCK_LOST_MARK, bounded, literal

_FIRST_PAUSE = 0.01
_LONGEST_PAUSE = 0.25


class TableLockBackend(PostgreSQLBackend):
    """PostgreSQL with the lock in ``lock_table``; no session state is relied on."""

    def __init__(self, connection: BaseDatabaseWrapper, table: str, lock_table: str) -> None:
        super().__init__(connection, table)
        check_table_name(lock_table, "SQLMIGRATE_LOCK_TABLE")
        self.lock_table = lock_table
        self.lock_ids: tuple[int, ...] = ()
        #: xmin of our lock rows while we hold them
        self._token: str | None = None

    def _keys(self, schema: str, database: str) -> tuple[int, ...]:
        name = self.connection.settings_dict.get("NAME") or database
        self.lock_ids = tuple(
            dict.fromkeys([advisory_lock_id("/" + name), advisory_lock_id(database)])
        )
        self.lock_qualified, self.lock_label = self.qualify(self.lock_table)
        return super()._keys(schema, database)

    # -- lock -----------------------------------------------------------------
    def lock(self, timeout: float) -> None:
        """Insert the lock rows, polling until ``timeout``; as pgx, a row there is locked."""
        deadline = time.monotonic() + timeout
        self.wait_timeout = timeout
        self._enter_run()
        self._ensure_lock_table()
        pause = _FIRST_PAUSE
        while (token := self._try_insert(max(deadline - time.monotonic(), 0.01))) is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LockTimeoutError(self._table_timeout_message(timeout))
            time.sleep(min(pause, left))
            pause = min(pause * 2, _LONGEST_PAUSE)
        self._token = token

    def _enter_run(self) -> None:
        # No session settings: through transaction pooling they would land on a server
        # session other clients then use. The baseline is still put back after files.
        self._restore = None
        self._baseline = self._read_baseline()

    def _ensure_lock_table(self) -> None:
        if self.table_exists(self.lock_table):
            return
        try:
            self.write(
                f"CREATE TABLE IF NOT EXISTS {self.lock_qualified} "
                "(lock_id bigint not null primary key)"
            )
        except SQLMigrateError as error:
            raise SQLMigrateError(
                f"cannot create the lock table {self.lock_label}: {error}"
            ) from None

    def _try_insert(self, left: float) -> str | None:
        """The rows' xmin when we inserted them; None when a row is there (or being put)."""
        values = ", ".join(f"({key})" for key in self.lock_ids)
        sql = (
            f"{bounded(min(left, 1.0))};\n"
            f"INSERT INTO {self.lock_qualified} (lock_id) VALUES {values} RETURNING xmin::text"
        )
        try:
            with self._raw.cursor() as cursor:
                cursor.execute(sql)
                cursor.nextset()
                row = cursor.fetchone()
        except (psycopg.errors.UniqueViolation, psycopg.errors.LockNotAvailable) as busy:
            self._after_error(busy)
            return None
        except psycopg.Error as error:
            self._after_error(error)
            raise SQLMigrateError(f"cannot take the migration lock: {error}") from None
        return str(row[0]) if row else None

    def unlock(self) -> None:
        token, self._token = self._token, None
        baseline, self._baseline = self._baseline, None
        if self._raw is None or self._raw.closed or token is None:
            return
        restore = f"{baseline.restore_sql()};\n" if baseline is not None else ""
        delete = f"DELETE FROM {self.lock_qualified} WHERE {self._owned(token)}"
        # The run's own error matters more; a row left behind shows in sqlmigrate_unlock.
        with contextlib.suppress(SQLMigrateError, psycopg.Error):
            self.execute(restore + delete)

    def _owned(self, token: str) -> str:
        ids = ", ".join(str(key) for key in self.lock_ids)
        return f"lock_id IN ({ids}) AND xmin = {literal(token)}::pg_catalog.xid"

    def _guard_sql(self) -> str:
        """Fails (LOCK_LOST_MARK) unless our lock rows are still there."""
        if self._token is None:
            return ""
        return (
            f"SELECT CASE WHEN (SELECT pg_catalog.count(*) FROM {self.lock_qualified} WHERE "
            f"{self._owned(self._token)}) = {len(self.lock_ids)} THEN 0 ELSE CAST(("
            f"{literal(LOCK_LOST_MARK + ' by pid ')} || pg_catalog.pg_backend_pid()) AS "
            "pg_catalog.int4) END"
        )

    def explain(self, error: StatementError) -> str:
        if LOCK_LOST_MARK in error.message:
            raise LockLostError(
                f"this run's lock row (lock_id {self._ids_text()} in {self.lock_label}) is "
                f"gone: it was removed (sqlmigrate_unlock, or a DELETE), so another runner may "
                f"be migrating now. Nothing more was written"
            )
        return super().explain(error)

    # -- seeing and clearing the row --------------------------------------------
    def lock_rows(self) -> list[tuple[Any, ...]]:
        """(lock_id, inserting transaction, transactions since) of the lock rows; [] when
        the table is missing or empty."""
        if not self.table_exists(self.lock_table):
            return []
        return self.query(
            f"SELECT lock_id, xmin::text, pg_catalog.age(xmin) FROM {self.lock_qualified} "
            f"WHERE lock_id IN ({self._ids_text()}) ORDER BY lock_id"
        )

    def clear_lock_rows(self) -> int:
        """Delete the lock rows, whoever put them; how many there were."""
        if not self.table_exists(self.lock_table):
            return 0
        rows = self.query(
            f"DELETE FROM {self.lock_qualified} WHERE lock_id IN ({self._ids_text()}) "
            "RETURNING lock_id"
        )
        return len(rows)

    def _ids_text(self) -> str:
        return ", ".join(str(key) for key in self.lock_ids)

    def _table_timeout_message(self, timeout: float) -> str:
        try:
            rows = self.lock_rows()
        except SQLMigrateError:
            rows = []
        held = "; ".join(
            f"lock_id {lock_id}, inserted by transaction {xid}, {age} transactions ago"
            for lock_id, xid, age in rows
        )
        alias = self.connection.alias
        unlock = "python manage.py sqlmigrate_unlock" + (
            f" --database {alias}" if alias != "default" else ""
        )
        return (
            f"timeout: can't acquire database lock: waited {timeout:g} s for the lock row in "
            f"{self.lock_label} ({held or 'it went meanwhile'}; SQLMIGRATE_LOCK_STRATEGY = "
            f'"table", pgx\'s x-lock-strategy=table). Another migration is running: wait for '
            f"it, or raise --lock-timeout / SQLMIGRATE_LOCK_TIMEOUT. If none is running, a "
            f"runner that crashed left its row: see and clear it with `{unlock}`"
        )
