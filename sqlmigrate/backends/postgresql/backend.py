"""PostgreSQL: golang-migrate's ``postgres`` driver, kept byte-compatible.

Same table (``current_schema()``, ``version bigint``, ``dirty boolean``, at
most one row), same advisory lock keys, and SQL sent as simple-query
messages with no parameters, through the raw psycopg connection that Django
already opened for the alias.
"""

from __future__ import annotations

import contextlib
import math
import time
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import psycopg
import psycopg.sql
from django.db import DatabaseError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import errors as pg_errors
from psycopg import generators, pq

from ...conf import settings
from ...exceptions import LockLostError, LockTimeoutError, SQLMigrateError
from ...identifiers import check_table_name, quote_identifier
from ..base import (
    Dropped,
    ExecutionFailed,
    HistorySql,
    Holder,
    Outcome,
    StatementError,
    VersionState,
)
from . import blockers as pg_blockers
from . import pooling as pg_pooling
from . import waits as pg_waits
from .history import PostgreSQLHistorySql
from .state import (
    BASELINE_SQL,
    LOCK_LOST_MARK,
    ROLES_SQL,
    Baseline,
    bounded,
    lock_guard_sql,
)

if TYPE_CHECKING:
    from ...sql import ParsedSql

# golang-migrate database/util.go: crc32(names joined by NUL) * salt mod 2**32
ADVISORY_LOCK_SALT = 1486364155
# Waiting for the lock: polls 10 ms apart at first, then at most 250 ms apart.
_FIRST_PAUSE = 0.01
_LONGEST_PAUSE = 0.25
#: how a migrating session shows in pg_stat_activity (and in our lock messages)
_APPLICATION = "sqlmigrate"
#: how long sqlmigrate's own statements may wait for a table lock, unless told otherwise
DEFAULT_WAIT = 15.0
_ERROR_RESULTS = (pq.ExecStatus.FATAL_ERROR, pq.ExecStatus.BAD_RESPONSE)


def advisory_lock_id(database_name: str, *additional_names: str) -> int:
    """golang-migrate's GenerateAdvisoryLockId, as an integer."""
    if additional_names:
        database_name = "\x00".join([*additional_names, database_name])
    checksum = zlib.crc32(database_name.encode("utf-8")) & 0xFFFFFFFF
    return (checksum * ADVISORY_LOCK_SALT) & 0xFFFFFFFF


class PostgreSQLBackend:
    vendor = "postgresql"
    batches = True
    history_sql: HistorySql = PostgreSQLHistorySql()
    unlocked_cli_note: str | None = None  # the CLI takes the same lock

    def __init__(self, connection: BaseDatabaseWrapper, table: str) -> None:
        check_table_name(table)
        self.connection = connection
        self.table = table
        self.table_label = table
        self._qualified = quote_identifier(table)
        self._raw: Any = None
        self._lock_keys: tuple[int, ...] = ()
        self._held: list[int] = []
        #: synchronous_commit and application_name to put back at unlock
        self._restore: tuple[str, str] | None = None
        #: the session as the run found it (plus sqlmigrate's settings): put back after files
        self._baseline: Baseline | None = None
        #: seconds any of sqlmigrate's own statements may wait for a lock
        self.wait_timeout = DEFAULT_WAIT

    def parse(self, text: str, location: str) -> ParsedSql:
        from .parsing import parse_migration  # pglast: 30 ms to import, only when needed

        return parse_migration(text, location)

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
        if not self._raw.autocommit:
            raise SQLMigrateError(
                f"database alias {self.connection.alias!r} has AUTOCOMMIT off; sqlmigrate "
                f"manages its own transactions and needs Django's default autocommit"
            )
        row = self._fetch_one(
            "SELECT pg_catalog.current_schema(), pg_catalog.current_database(), "
            "pg_catalog.pg_backend_pid()",
            "find the current schema",
        )
        schema, database, self._server_pid = row if row else (None, None, None)
        if schema is None:
            raise SQLMigrateError(
                "no schema: current_schema() is NULL because no schema on the search_path "
                "exists; create it or fix search_path"
            )
        self.table_label = f"{schema}.{self.table}"
        self._schema = schema
        self._qualified = f"{quote_identifier(schema)}.{quote_identifier(self.table)}"
        self._lock_keys = self._keys(schema, database)

    def _keys(self, schema: str, database: str) -> tuple[int, ...]:
        """The CLI's key first, then the library's (Go services embedding golang-migrate).

        The CLI hashes the URL path, leading slash included ("/realstaging");
        the library, and URLs with ?dbname=, hash current_database().
        """
        name = self.connection.settings_dict.get("NAME") or database
        keys = [advisory_lock_id("/" + name, schema, self.table)]
        keys.append(advisory_lock_id(database, schema, self.table))
        return tuple(dict.fromkeys(keys))

    def qualify(self, table: str) -> tuple[str, str]:
        """(quoted SQL name, label for messages) of a table beside the version table."""
        return (
            f"{quote_identifier(self._schema)}.{quote_identifier(table)}",
            f"{self._schema}.{table}",
        )

    def table_exists(self, table: str) -> bool:
        row = self._fetch_one(
            f"SELECT pg_catalog.to_regclass({_literal(self.qualify(table)[0])}) IS NOT NULL",
            "look for a table",
        )
        return bool(row and row[0])

    @property
    def lock_keys(self) -> tuple[int, ...]:
        return self._lock_keys

    def check_session(self) -> None:
        raw = self._raw
        if self.connection.connection is not raw or raw is None or raw.closed or raw.broken:
            raise LockLostError(
                "the database session that held the migration lock was lost (connection "
                "closed or replaced); stopped before running anything more. Run "
                "sqlmigrate_version to see where the database is"
            )

    # -- lock -------------------------------------------------------------
    def lock(self, timeout: float) -> None:
        """Take every key, polling with pg_try_advisory_lock until the deadline.

        Polling, not a blocking pg_advisory_lock: a session blocked in that call
        holds a snapshot, and CREATE INDEX CONCURRENTLY in the running migration
        waits for every older snapshot to go, so waiters and the migration would
        deadlock. Between polls a waiter holds nothing.
        """
        pg_pooling.refuse_transaction_pooling(self.connection, self._raw, self._server_pid)
        deadline = time.monotonic() + timeout
        pause = _FIRST_PAUSE
        waiting = list(self._lock_keys)
        self.wait_timeout = timeout
        self._enter_run()  # first: a waiting session shows as sqlmigrate too
        while waiting:
            if self._try_lock(waiting[0]):
                self._held.append(waiting.pop(0))
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                key = waiting[0]
                self.unlock()
                raise LockTimeoutError(self._timeout_message(key, timeout))
            time.sleep(min(pause, left))
            pause = min(pause * 2, _LONGEST_PAUSE)

    def _try_lock(self, key: int) -> bool:
        try:
            row = self._fetch_one(f"SELECT pg_catalog.pg_try_advisory_lock({key})", "take the lock")
        except LockLostError:
            raise
        except SQLMigrateError as error:
            self.unlock()
            raise SQLMigrateError(f"cannot take the migration lock: {error}") from None
        return bool(row and row[0])

    def _enter_run(self) -> None:
        """Name the session, and commit without waiting for the disk; unlock undoes both.

        Each migration's commit otherwise waits for an fsync, which is most of
        what a one-line migration costs. WAL is replayed in order, so a server
        crash mid-run can only lose a suffix of the run: the version row goes
        with its file, and the database is left at an earlier, consistent
        version. ``unlock`` waits for everything to be on disk.
        """
        row = self._fetch_one(
            "SELECT pg_catalog.current_setting('synchronous_commit'), "
            "pg_catalog.current_setting('application_name'), "
            "pg_catalog.set_config('synchronous_commit', 'off', false), "
            # Named only when the connection did not name itself.
            "pg_catalog.set_config('application_name', coalesce(nullif("
            f"pg_catalog.current_setting('application_name'), ''), {_literal(_APPLICATION)}), "
            "false)",
            "prepare the session",
        )
        self._restore = (str(row[0]), str(row[1])) if row else None
        self._baseline = self._read_baseline()

    def _read_baseline(self) -> Baseline:
        if self._raw.info.parameter_status("standard_conforming_strings") != "on":
            self.unlock()
            raise SQLMigrateError(
                "this session has standard_conforming_strings = off: the server would read "
                "backslashes in '...' strings differently from PostgreSQL's parser in "
                "sqlmigrate, so what runs could differ from what was checked. Turn it on "
                "(ALTER DATABASE ... SET standard_conforming_strings = on, the default since "
                "PostgreSQL 9.1) and write E'...' strings for backslash escapes"
            )
        with self._raw.cursor() as cursor:
            cursor.execute(BASELINE_SQL)
            settings = tuple((str(name), str(value)) for name, value in cursor.fetchall())
            cursor.execute(ROLES_SQL)
            current, session = cursor.fetchone()
        return Baseline(settings, str(current), str(session))

    def unlock(self) -> None:
        held, self._held = self._held, []
        baseline, self._baseline = self._baseline, None
        if self._raw is None or self._raw.closed or not (held or self._restore):
            self._restore = None
            return
        statements = [baseline.restore_sql()] if baseline is not None else []
        if self._restore is not None:
            # Back to the session's settings, in a transaction with an xid, so its
            # commit waits until every commit of the run is flushed.
            (mode, name), self._restore = self._restore, None
            statements.append(
                f"SELECT pg_catalog.set_config('synchronous_commit', {_literal(mode)}, false), "
                f"pg_catalog.set_config('application_name', {_literal(name)}, false), "
                "pg_catalog.txid_current()"
            )
        if held:
            calls = ", ".join(f"pg_catalog.pg_advisory_unlock({key})" for key in reversed(held))
            statements.append(f"SELECT {calls}")
        # If the session is gone, its session-level locks went with it.
        with contextlib.suppress(ExecutionFailed, LockLostError):
            self.execute(";\n".join(statements))

    def _timeout_message(self, key: int, timeout: float) -> str:
        holder = self._lock_holder(key)
        return (
            f"timeout: can't acquire database lock: waited {timeout:g} s for PostgreSQL "
            f"advisory lock {key} ({self.table_label}), held by {holder}. Another migration "
            f"is running: wait for it, or raise --lock-timeout / SQLMIGRATE_LOCK_TIMEOUT"
        )

    def _lock_holder(self, key: int) -> str:
        try:
            row = self._fetch_one(pg_waits.advisory_holder_sql(key), "look up the lock holder")
        except SQLMigrateError:
            row = None
        return pg_waits.describe(row) if row else "another session"

    # -- session state and waits ------------------------------------------------
    def restore_sql(self) -> str:
        """Statements putting the session back as the run found it (see state.py)."""
        return self._baseline.restore_sql() if self._baseline is not None else ""

    def restore(self) -> None:
        """Put the session back after a failed file, before anything else is written."""
        sql = self.restore_sql()
        if sql and not (self._raw is None or self._raw.closed):
            with contextlib.suppress(ExecutionFailed):
                if self._raw.info.encoding != "utf-8":
                    self.execute("RESET client_encoding")  # first, so the rest can be sent
                self.execute(sql)

    def bounded_sql(self) -> str:
        """The statement that bounds the lock waits of what follows it in a message."""
        return bounded(self.wait_timeout)

    def write(self, sql: str) -> None:
        """One of sqlmigrate's own writes (version, history, tables), as one message whose
        lock waits end after ``wait_timeout``; failures say who is in the way."""
        try:
            self.execute(f"{self.bounded_sql()};\n{sql}")
        except ExecutionFailed as failure:
            raise SQLMigrateError(self.explain(failure.error)) from None

    def explain(self, error: StatementError) -> str:
        """What went wrong with one of sqlmigrate's own statements, and who is in the way.

        Raises LockLostError when the lock guard fired."""
        if LOCK_LOST_MARK in error.message:
            raise LockLostError(
                f"this session no longer holds the migration lock (advisory keys "
                f"{', '.join(map(str, self._lock_keys))}): something run in it released the "
                f"lock (pg_advisory_unlock_all(), DISCARD ALL, pg_advisory_unlock(...)), so "
                f"another runner may be migrating now. Nothing more was written"
            )
        if error.sqlstate == "55P03":
            return (
                f"timeout: waited {self.wait_timeout:g} s for a lock on {self.table_label} "
                f"or its history table, held by {self._table_lockers()}. End that "
                f"session's transaction, or raise --lock-timeout / SQLMIGRATE_LOCK_TIMEOUT"
            )
        code = f" ({error.sqlstate})" if error.sqlstate else ""
        return f"{error.message}{code}"

    def _table_lockers(self) -> str:
        tables = [self._qualified]
        history = settings.history_table
        if history:
            tables.append(self.qualify(history)[0])
        try:
            rows = self.query(pg_waits.table_lockers_sql(*map(_literal, tables)))
        except (ExecutionFailed, SQLMigrateError):
            rows = []
        found = [f"{pg_waits.describe(row)} {row[4]} on {row[5]}" for row in rows]
        return ", ".join(found) or "another session (it went before it could be named)"

    def lock_holders(self, statement: str) -> list[Holder]:
        return pg_blockers.lookup(self.query, statement)

    def snapshot_waiters(self) -> list[str]:
        """Sessions blocked in pg_advisory_lock on our keys, holding a snapshot (the Go CLI
        waits that way); CREATE INDEX CONCURRENTLY would deadlock with them."""
        rows = self.query(pg_waits.snapshot_waiters_sql(self._lock_keys))
        return [pg_waits.describe(row) for row in rows]

    # -- version table --------------------------------------------------------
    def ensure_table(self) -> None:
        # Checked first, as golang-migrate does, so read-only users never need CREATE;
        # to_regclass answers in a fraction of information_schema's time.
        if self.table_exists(self.table):
            return
        try:
            self.write(
                f"CREATE TABLE IF NOT EXISTS {self._qualified} "
                "(version bigint not null primary key, dirty boolean not null)"
            )
        except LockLostError:
            raise
        except SQLMigrateError as error:
            raise SQLMigrateError(
                f"cannot create the version table {self.table_label}: {error}"
            ) from None

    def read_version(self) -> VersionState:
        try:
            row = self._fetch_one(
                f"SELECT version, dirty FROM {self._qualified} LIMIT 1",
                "read the version table",
                missing_table_ok=True,
                bounded=True,
            )
        except _MissingTable:
            return VersionState(None, False)
        if row is None:
            return VersionState(None, False)
        return VersionState.from_row(row)

    def peek_version(self, timeout: float) -> VersionState | None:
        """Read the version without the lock, giving up after ``timeout`` seconds.

        For pages and checks that must never wait on a running migration (the Go
        CLI's TRUNCATE takes an exclusive lock on the table). Works inside a
        request's transaction: the read runs in a savepoint. None: no table yet.
        """
        try:
            self.connection.ensure_connection()
        except Exception as error:
            raise SQLMigrateError(self._connect_failure(error)) from None
        results = self.peek_query(
            self.table, lambda name: [f"SELECT version, dirty FROM {name} LIMIT 1"], timeout
        )
        if results is None or not results[0]:
            return None if results is None else VersionState(None, False)
        return VersionState.from_row(results[0][0])

    def peek_query(
        self, table: str, sql_for: Callable[[str], list[str]], timeout: float
    ) -> list[list[tuple[Any, ...]]] | None:
        """Run our own read-only queries on ``table`` as ``peek_version`` does; None: no table."""
        limit = f"{max(1, math.ceil(timeout * 1000))}ms"
        try:
            with (
                transaction.atomic(using=self.connection.alias),
                self.connection.cursor() as cursor,
            ):
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [limit])
                cursor.execute(
                    "SELECT current_schema(), to_regclass(quote_ident(current_schema()) "
                    "|| '.' || quote_ident(%s)) IS NOT NULL",
                    [table],
                )
                schema, exists = cursor.fetchone()
                if table == self.table:
                    self.table_label = f"{schema}.{table}"
                if not exists:
                    return None
                results = []
                for sql in sql_for(f"{quote_identifier(schema)}.{quote_identifier(table)}"):
                    cursor.execute(sql)
                    results.append(list(cursor.fetchall()))
                return results
        except DatabaseError as error:
            raise SQLMigrateError(
                f"cannot read {table} within {timeout:g} s: {error}".strip()
            ) from None

    def version_sql(self, version: int | None, dirty: bool) -> str:
        """The write, behind a guard that fails unless this session still holds the lock."""
        sql = f"DELETE FROM {self._qualified}"
        guard = self._guard_sql()
        if guard:
            sql = f"{guard};\n{sql}"
        if version is not None or dirty:
            stored = -1 if version is None else int(version)
            sql += (
                f";\nINSERT INTO {self._qualified} (version, dirty) "
                f"VALUES ({stored}, {'true' if dirty else 'false'})"
            )
        return sql

    def _guard_sql(self) -> str:
        """The statement that fails unless this session still holds the lock ('': none)."""
        return lock_guard_sql(tuple(self._held)) if self._held else ""

    def set_version(self, version: int | None, dirty: bool) -> None:
        # One multi-statement message is one implicit transaction.
        self.write(self.version_sql(version, dirty))

    # -- running SQL -----------------------------------------------------------
    def begin_sql(self) -> str:
        return "BEGIN"

    def begin(self) -> None:
        self.execute(self.begin_sql())

    def execute(self, sql: str | bytes) -> list[Outcome]:
        """Send ``sql`` as one simple-query message; on failure, ``statement_index`` of
        the error says how many of its statements had succeeded (the server stops there)."""
        raw = self._raw
        if isinstance(sql, str):
            # ASCII reads the same in every client encoding PostgreSQL has.
            if raw.info.encoding != "utf-8" and not sql.isascii():
                raise ExecutionFailed(StatementError(_ENCODING_CHANGED, None, None))
            sql = sql.encode("utf-8")
        try:
            with raw.lock:
                raw.pgconn.send_query(sql)
                raw.wait(generators.send(raw.pgconn))
                failed, succeeded, notable = self._answers(raw)
        except psycopg.Error as error:
            self._after_error(error)
            raise ExecutionFailed(_statement_error(error)) from None
        if failed is not None:
            self._after_error(failed)
            raise ExecutionFailed(_statement_error(failed, succeeded), tuple(notable)) from None
        return notable

    @staticmethod
    def _answers(raw: Any) -> tuple[psycopg.Error | None, int, list[Outcome]]:
        """The server's answers, one at a time: each is let go once read, so a file of
        300 000 statements never holds 300 000 results. (error, how many statements
        succeeded before it, the outcomes worth keeping: COMMITs and rows)."""
        failed: psycopg.Error | None = None
        succeeded = 0
        notable: list[Outcome] = []
        while (result := raw.wait(generators.fetch(raw.pgconn))) is not None:
            if result.status in _ERROR_RESULTS:
                failed = failed or pg_errors.error_from_result(result, encoding="utf-8")
                continue
            outcome = _outcome(result, succeeded)
            if outcome is not None:
                notable.append(outcome)
            succeeded += 1
        return failed, succeeded, notable

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of a query we wrote ourselves (never a migration file), its lock waits bounded."""
        try:
            with self._raw.cursor() as cursor:
                cursor.execute(f"{self.bounded_sql()};\n{sql}")
                cursor.nextset()
                return list(cursor.fetchall()) if cursor.description else []
        except psycopg.Error as error:
            self._after_error(error)
            raise ExecutionFailed(_statement_error(error)) from None

    def literal(self, value: object) -> str:
        """``value`` as an SQL literal, quoted by psycopg for this connection."""
        return str(psycopg.sql.Literal(value).as_string(self._raw))

    def _after_error(self, error: psycopg.Error) -> None:
        raw = self._raw
        if raw.closed or raw.broken:
            raise LockLostError(
                f"lost the database session (and with it the migration lock): {error}"
            ) from None
        if raw.info.transaction_status != pq.TransactionStatus.IDLE:
            raw.execute("ROLLBACK")

    def _fetch_one(
        self, sql: str, purpose: str, *, missing_table_ok: bool = False, bounded: bool = False
    ) -> tuple[Any, ...] | None:
        try:
            with self._raw.cursor() as cursor:
                if bounded:
                    cursor.execute(f"{self.bounded_sql()};\n{sql}")
                    cursor.nextset()
                else:
                    cursor.execute(sql)
                row: tuple[Any, ...] | None = cursor.fetchone()
                return row
        except psycopg.Error as error:
            self._after_error(error)
            if missing_table_ok and isinstance(error, psycopg.errors.UndefinedTable):
                raise _MissingTable from None
            if isinstance(error, psycopg.errors.LockNotAvailable):
                raise SQLMigrateError(self.explain(_statement_error(error))) from None
            raise SQLMigrateError(f"cannot {purpose}: {error}") from None

    def _connect_failure(self, error: Exception) -> str:
        settings = self.connection.settings_dict
        text = str(error).strip()
        password = settings.get("PASSWORD")
        if password:
            text = text.replace(str(password), "********")
        where = f"{settings.get('HOST') or 'local socket'}, database {settings.get('NAME')!r}"
        return f"cannot connect to database alias {self.connection.alias!r} ({where}): {text}"

    # -- drop (golang-migrate's ``drop``) ---------------------------------------------
    def drop_everything(self) -> Dropped:
        """Drop every object in the version table's schema, in one transaction.

        golang-migrate drops only the schema's base tables, so views, sequences,
        types, domains and functions survive and the next ``up`` fails on
        ``already exists``. Here every table (partitioned and foreign too), view,
        materialized view, sequence, routine, type and domain goes, the version
        and history tables included; objects that belong to an extension stay
        with it, and extensions stay (other schemas may use them). CASCADE, as
        golang-migrate's: what depends on them elsewhere goes too.
        """
        rows = self.query(_DROP_LISTING.format(schema=_literal(self._schema)))
        statements = [f"DROP {kind} IF EXISTS {name} CASCADE" for kind, name in rows]
        try:
            if statements:
                self.execute(";\n".join(statements))  # one message: one transaction
        except ExecutionFailed as failure:
            code = f" ({failure.error.sqlstate})" if failure.error.sqlstate else ""
            raise SQLMigrateError(
                f"cannot drop the objects of schema {self._schema}: {failure.error.message}"
                f"{code}. Nothing was dropped: the drops ran in one transaction"
            ) from None
        return Dropped(self._schema, tuple((str(kind), str(name)) for kind, name in rows))


class _MissingTable(Exception):
    pass


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _outcome(result: pq.abc.PGresult, index: int) -> Outcome | None:
    """A COMMIT, or a statement's first value: what batches read back; else None."""
    tag = (result.command_status or b"").decode("ascii", "replace")
    if result.status == pq.ExecStatus.TUPLES_OK and result.ntuples and result.nfields:
        value = result.get_value(0, 0)
        return index, tag, None if value is None else bytes(value).decode("utf-8", "replace")
    return (index, tag, None) if tag == "COMMIT" else None


_ENCODING_CHANGED = (
    "the session's client_encoding is no longer UTF8 (a statement changed it, e.g. with "
    "set_config('client_encoding', ...)): sqlmigrate sends files as UTF-8 and stopped rather "
    "than send bytes the server would read differently"
)


def _statement_error(error: psycopg.Error, index: int | None = None) -> StatementError:
    diag = error.diag
    position = int(diag.statement_position) - 1 if diag.statement_position else None
    message = diag.message_primary or str(error).strip()
    return StatementError(
        message=message,
        sqlstate=error.sqlstate,
        position=position,
        detail=diag.message_detail,
        hint=diag.message_hint,
        context=diag.context,
        statement_index=index,
    )


# Everything ``drop_everything`` drops, dependents first (CASCADE would cope with any
# order; IF EXISTS, because a cascade may have taken an object already). What belongs
# to an extension ('e') stays; what is part of another object ('i': a range's
# constructors and multirange, array types) and a table's row type go with it.
_DROP_LISTING = """
WITH objects AS (
    SELECT 'pg_class'::regclass AS catalog, c.oid,
           CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind,
           format('%I.%I', n.nspname, c.relname) AS name,
           CASE c.relkind WHEN 'v' THEN 1 WHEN 'm' THEN 1 WHEN 'S' THEN 3 ELSE 2 END AS rank
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = {schema} AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
    UNION ALL
    SELECT 'pg_proc'::regclass, p.oid, 'ROUTINE',
           format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
           4
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = {schema}
    UNION ALL
    SELECT 'pg_type'::regclass, t.oid, CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
           format('%I.%I', n.nspname, t.typname), 5
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    LEFT JOIN pg_class r ON r.oid = t.typrelid
    WHERE n.nspname = {schema} AND t.typtype IN ('e', 'd', 'r', 'c')
      AND (t.typtype <> 'c' OR r.relkind = 'c')
)
SELECT kind, name FROM objects o
WHERE NOT EXISTS (
    SELECT FROM pg_depend d
    WHERE d.classid = o.catalog AND d.objid = o.oid AND d.objsubid = 0
      AND d.deptype IN ('e', 'i')
)
ORDER BY rank, name
"""
