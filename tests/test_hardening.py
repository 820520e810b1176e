"""Hostile files against a real PostgreSQL: what runs is the file, the lock cannot be lost
unnoticed, a file cannot misdirect what comes after it, and no wait is unbounded."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from sqlmigrate import engine
from sqlmigrate.backends.postgresql import advisory_lock_id
from sqlmigrate.exceptions import MigrationFailedError, SQLMigrateError, SqlParseError

from .conftest import Migrations, Schema, run_manage

pytestmark = pytest.mark.django_db(transaction=True)

HISTORY = "schema_migrations_history"


def keys(schema: Schema) -> tuple[int, int]:
    name = connection.settings_dict["NAME"]
    return (
        advisory_lock_id("/" + name, schema.name, "schema_migrations"),
        advisory_lock_id(name, schema.name, "schema_migrations"),
    )


def outcomes(schema: Schema) -> list[tuple[int, str, str]]:
    rows = schema.query(f"SELECT version, direction, outcome FROM {HISTORY} ORDER BY id")
    return [(int(v), d, o) for v, d, o in rows]


# -- 1. every byte runs or the file is refused ------------------------------------------


@pytest.mark.parametrize("mode", ["up", "dry-run"])
def test_nul_byte_refused_before_anything_runs(
    schema: Schema, migrations: Migrations, mode: str
) -> None:
    migrations.pair(1, "ok", "CREATE TABLE a (id int);")
    migrations.write("2_nul.up.sql", b"CREATE TABLE b (id int);\nSELECT 1;\x00DROP TABLE a;\n")
    with pytest.raises(SqlParseError) as raised:
        engine.up(path=migrations.path, dry_run=mode == "dry-run")
    assert raised.value.location.endswith("2_nul.up.sql:2:10")
    assert "a NUL byte (0x00)" in str(raised.value)
    # Parsed before the lock, refused before anything was written: not even the table.
    assert schema.tables() == set()


# -- 2. the lock cannot be lost unnoticed ---------------------------------------------------


def unlock_sql(schema: Schema) -> str:
    first, second = keys(schema)
    return f"SELECT pg_advisory_unlock({first}), pg_advisory_unlock({second})"


def test_atomic_file_that_unlocks_commits_nothing(schema: Schema, migrations: Migrations) -> None:
    migrations.pair(1, "base", "CREATE TABLE base (id int);")
    migrations.pair(2, "sneaky", f"INSERT INTO base VALUES (1);\n{unlock_sql(schema)};")
    migrations.pair(3, "after", "CREATE TABLE after_it (id int);")
    with pytest.raises(MigrationFailedError) as raised:
        engine.up(path=migrations.path)
    message = str(raised.value)
    assert "2_sneaky.up.sql ran, but sqlmigrate could not record it: this session no longer " in (
        message
    )
    assert "holds the migration lock" in message
    assert "Nothing of 2_sneaky.up.sql was applied" in message
    assert "still at version 1 (clean)" in message
    assert schema.version_row() == [(1, False)]
    assert schema.query("SELECT count(*) FROM base") == [(0,)]
    assert "after_it" not in schema.tables()


def test_do_block_that_unlocks_everything_is_caught_at_the_write(
    schema: Schema, migrations: Migrations
) -> None:
    # Out of reach of the pre-flight (inside a body): the guard still sees it.
    migrations.pair(
        1, "sneaky", "CREATE TABLE t (id int);\nDO $$BEGIN PERFORM pg_advisory_unlock_all(); END$$;"
    )
    with pytest.raises(MigrationFailedError, match="no longer holds the migration lock"):
        engine.up(path=migrations.path)
    assert schema.version_row() == []
    assert "t" not in schema.tables()


def test_dirty_protocol_file_that_unlocks_stays_dirty_and_says_so(
    schema: Schema, migrations: Migrations
) -> None:
    migrations.pair(1, "base", "CREATE TABLE base (id int);")
    migrations.pair(
        2, "sneaky", f"CREATE INDEX CONCURRENTLY base_id ON base (id);\n{unlock_sql(schema)};"
    )
    with pytest.raises(MigrationFailedError) as raised:
        engine.up(path=migrations.path)
    message = str(raised.value)
    assert "2_sneaky.up.sql ran to its end, but sqlmigrate could not mark version 2 clean" in (
        message
    )
    assert "the database is marked version 2 (dirty)" in message
    assert "python manage.py sqlmigrate_force 2" in message
    assert schema.version_row() == [(2, True)]
    assert outcomes(schema)[-1] == (2, "up", "failed")


def test_a_second_runner_never_applies_a_migration_twice(
    schema: Schema, migrations: Migrations, tmp_path: Path
) -> None:
    """The file releases the lock, then dawdles: a second runner (with a clean copy of the
    file) gets in and applies it; the first one stops without committing anything."""
    migrations.pair(1, "audit", "CREATE TABLE audit (version int, pid int);")
    insert = "INSERT INTO audit VALUES (2, pg_backend_pid());"
    migrations.pair(2, "release", f"{insert}\n{unlock_sql(schema)};\nSELECT pg_sleep(1.5);")
    clean = Migrations(tmp_path / "clean")
    clean.path.mkdir()
    clean.pair(1, "audit", "CREATE TABLE audit (version int, pid int);")
    clean.pair(2, "release", insert)
    engine.up(1, path=migrations.path)
    first = Background(
        lambda: run_manage("sqlmigrate_up", "--path", str(migrations.path), url=schema.url)
    )
    time.sleep(0.7)  # the first runner is inside migration 2, without the lock
    second = run_manage("sqlmigrate_up", "--path", str(clean.path), "--allow-drift", url=schema.url)
    first_result = first.result(30)
    assert second.returncode == 0, second.stderr
    assert first_result.returncode == 1
    assert "no longer holds the migration lock" in first_result.stderr
    assert "Nothing of 2_release.up.sql was applied" in first_result.stderr
    assert schema.query("SELECT version, count(*) FROM audit GROUP BY version") == [(2, 1)]
    assert schema.version_row() == [(2, False)]


class Background:
    def __init__(self, target: Any) -> None:
        self.value: Any = None
        self.thread = threading.Thread(target=self._run, args=(target,), daemon=True)
        self.thread.start()

    def _run(self, target: Any) -> None:
        self.value = target()

    def result(self, timeout: float) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "still running"
        return self.value


# -- 4 and 5. transaction control as golang-migrate runs it ----------------------------------


@pytest.fixture
def committing_procedure(schema: Schema) -> None:
    schema.query(
        "CREATE TABLE proc_log (n int);"
        "CREATE PROCEDURE log_and_commit(n int) LANGUAGE plpgsql AS "
        "$$BEGIN INSERT INTO proc_log VALUES (n); COMMIT; INSERT INTO proc_log VALUES (n + 1); END$$"
    )


@pytest.mark.parametrize(
    "text",
    [
        "CALL log_and_commit(1);",
        "INSERT INTO proc_log VALUES (0);\nCALL log_and_commit(1);",
        "DO $$BEGIN INSERT INTO proc_log VALUES (1); COMMIT; INSERT INTO proc_log VALUES (2); END$$;",
    ],
    ids=["call-alone", "call-after-insert", "do-with-commit"],
)
def test_procedures_and_blocks_that_commit_are_applied(
    schema: Schema, migrations: Migrations, committing_procedure: None, text: str
) -> None:
    migrations.pair(1, "commits", text)
    result = engine.up(path=migrations.path)
    assert not result.applied[0].atomic
    assert schema.version_row() == [(1, False)]
    assert {row[0] for row in schema.query("SELECT n FROM proc_log")} >= {1, 2}


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("INSERT INTO kept VALUES (1);\nROLLBACK;", []),
        ("INSERT INTO kept VALUES (1);\nCOMMIT;\nINSERT INTO kept VALUES (2);\nROLLBACK;", [1]),
        ("BEGIN;\nINSERT INTO kept VALUES (1);\nROLLBACK;\nINSERT INTO kept VALUES (2);", [2]),
    ],
    ids=["insert-rollback", "commit-then-rollback", "begin-rollback-insert"],
)
def test_mid_file_rollback_ends_where_the_cli_ends(
    schema: Schema, migrations: Migrations, text: str, rows: list[int]
) -> None:
    """golang-migrate sends the file as one message: the server's implicit transaction."""
    schema.query("CREATE TABLE kept (n int)")
    migrations.pair(1, "rollback", text)
    engine.up(path=migrations.path)
    assert [row[0] for row in schema.query("SELECT n FROM kept ORDER BY n")] == rows
    assert schema.version_row() == [(1, False)]


# -- 6. a file cannot misdirect what comes after it -------------------------------------------


@pytest.fixture
def powerless_role(schema: Schema) -> Iterator[str]:
    role = f"nobody_{schema.name}"
    schema.query(f'CREATE ROLE "{role}"')
    yield role
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')


SESSION_CHANGES = [
    "SET search_path TO pg_catalog",
    "SET statement_timeout = 1",
    "SET lock_timeout = 1",
    "SET default_transaction_read_only = on",
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
    "SELECT set_config('search_path', 'nowhere', false)",
    "SET synchronous_commit = on",
    "SET application_name = 'hijacked'",
]


@pytest.mark.parametrize("change", SESSION_CHANGES)
@pytest.mark.parametrize("concurrently", [False, True], ids=["atomic", "dirty-protocol"])
def test_session_changes_do_not_leak_into_later_files(
    schema: Schema, migrations: Migrations, change: str, concurrently: bool
) -> None:
    schema.query("CREATE TABLE base (id int)")
    index = "CREATE INDEX CONCURRENTLY base_id ON base (id);\n" if concurrently else ""
    migrations.pair(1, "changes", f"{index}{change};")
    migrations.pair(2, "after", "CREATE TABLE after_it (id int);\nINSERT INTO after_it VALUES (1);")
    before = settings_now()
    result = engine.up(path=migrations.path)
    assert [m.version for m in result.applied] == [1, 2]
    assert schema.version_row() == [(2, False)]
    assert "after_it" in schema.tables()
    assert outcomes(schema) == [(1, "up", "applied"), (2, "up", "applied")]
    assert settings_now() == before  # the caller's session (a test database's, too)


def test_set_role_does_not_leak(
    schema: Schema, migrations: Migrations, powerless_role: str
) -> None:
    migrations.pair(1, "role", f'SET ROLE "{powerless_role}";')
    migrations.pair(2, "after", "CREATE TABLE after_it (id int);")
    before = settings_now()
    engine.up(path=migrations.path)
    assert schema.version_row() == [(2, False)]
    assert settings_now() == before


def test_a_read_only_transaction_left_open_is_reported_like_a_failure(
    schema: Schema, migrations: Migrations
) -> None:
    migrations.pair(1, "ro", "SET TRANSACTION READ ONLY;\nSELECT 1;")
    with pytest.raises(MigrationFailedError) as raised:
        engine.up(path=migrations.path)
    message = str(raised.value)
    assert "1_ro.up.sql ran, but sqlmigrate could not record it: cannot execute" in message
    assert "read-only transaction (25006)" in message
    assert "still at no version (clean)" in message
    assert schema.version_row() == []
    assert outcomes(schema) == [(1, "up", "failed")]


def settings_now() -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, current_setting('search_path'), "
            "current_setting('statement_timeout'), current_setting('lock_timeout'), "
            "current_setting('default_transaction_read_only'), "
            "current_setting('synchronous_commit'), current_setting('application_name'), "
            "current_setting('client_encoding')"
        )
        return tuple(cursor.fetchone())


# -- 8. a waiting golang-migrate CLI and CREATE INDEX CONCURRENTLY ----------------------------


class BlockedWaiter:
    """A session blocked in pg_advisory_lock on the migration key, as the Go CLI waits."""

    def __init__(self, schema: Schema, key: int) -> None:
        self.conn = schema.connect()
        self.conn.execute("SET application_name = 'migrate'")
        self.pid = self.conn.info.backend_pid
        self.thread = threading.Thread(target=self._wait, args=(key,), daemon=True)
        self.error: Exception | None = None

    def _wait(self, key: int) -> None:
        try:
            self.conn.execute(f"SELECT pg_advisory_lock({key})")
            self.conn.execute(f"SELECT pg_advisory_unlock({key})")
        except psycopg.Error as error:
            self.error = error

    def cancel(self, observer: psycopg.Connection[Any]) -> None:
        observer.execute(f"SELECT pg_cancel_backend({self.pid})")
        self.thread.join(10)
        self.conn.close()


def start_waiter_during_first_file(schema: Schema, holder_key: int) -> BlockedWaiter:
    """Start a blocked waiter once sqlmigrate holds the lock (it runs file 1's sleep)."""
    waiter = BlockedWaiter(schema, holder_key)

    def start_when_locked() -> None:
        with schema.connect() as observer:
            for _ in range(200):
                held = observer.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    f"AND objid = '{holder_key}'::oid"
                ).fetchone()
                if held and held[0]:
                    break
                time.sleep(0.02)
        waiter.thread.start()

    threading.Thread(target=start_when_locked, daemon=True).start()
    return waiter


def test_concurrent_index_waits_for_a_blocked_cli_then_stops_clean(
    schema: Schema, migrations: Migrations
) -> None:
    schema.query("CREATE TABLE big (id int)")
    migrations.pair(1, "sleep", "SELECT pg_sleep(1);")
    migrations.pair(2, "index", "CREATE INDEX CONCURRENTLY big_id ON big (id);")
    waiter = start_waiter_during_first_file(schema, keys(schema)[0])
    try:
        with pytest.raises(MigrationFailedError) as raised:
            engine.up(path=migrations.path, lock_timeout=2)
        message = str(raised.value)
        assert "2_index.up.sql:1:1: CREATE INDEX CONCURRENTLY would deadlock with pid " in message
        assert f"pid {waiter.pid} (application migrate" in message
        assert "Nothing of 2_index.up.sql was run; the database is still at version 1 (clean)" in (
            message
        )
        assert f"pg_cancel_backend(pid) for pid {waiter.pid}" in message
        assert schema.version_row() == [(1, False)]
        assert schema.query("SELECT count(*) FROM pg_index WHERE NOT indisvalid") == [(0,)]
    finally:
        with schema.connect() as observer:
            waiter.cancel(observer)


def test_concurrent_index_runs_once_the_blocked_cli_is_gone(
    schema: Schema, migrations: Migrations
) -> None:
    schema.query("CREATE TABLE big (id int)")
    migrations.pair(1, "sleep", "SELECT pg_sleep(1);")
    migrations.pair(2, "index", "CREATE INDEX CONCURRENTLY big_id ON big (id);")
    waiter = start_waiter_during_first_file(schema, keys(schema)[0])

    def cancel_later() -> None:
        time.sleep(2)
        with schema.connect() as observer:
            waiter.cancel(observer)

    threading.Thread(target=cancel_later, daemon=True).start()
    result = engine.up(path=migrations.path, lock_timeout=10)
    assert [m.version for m in result.applied] == [1, 2]
    assert schema.version_row() == [(2, False)]
    valid = schema.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_id'::regclass")
    assert valid == [(True,)]


# -- 9. no wait of ours is unbounded -----------------------------------------------------------


@pytest.mark.parametrize("command", ["sqlmigrate_up", "sqlmigrate_version"])
def test_a_locked_version_table_is_waited_for_with_a_deadline(
    schema: Schema, migrations: Migrations, command: str
) -> None:
    migrations.pair(1, "a", "CREATE TABLE a (id int);")
    engine.up(path=migrations.path)
    migrations.pair(2, "b", "CREATE TABLE b (id int);")
    with schema.connect() as blocker:
        blocker.execute("SET application_name = 'psql'")
        pid = blocker.info.backend_pid
        blocker.execute("BEGIN")
        blocker.execute(f'LOCK TABLE "{schema.name}".schema_migrations')
        started = time.monotonic()
        folder = ("--path", str(migrations.path)) if command == "sqlmigrate_up" else ()
        done = run_manage(command, *folder, "--lock-timeout", "1", url=schema.url)
        elapsed = time.monotonic() - started
        blocker.execute("ROLLBACK")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"lock on {schema.name}.schema_migrations" in done.stderr
    assert f"pid {pid} (application psql, idle in transaction" in done.stderr
    assert "AccessExclusiveLock" in done.stderr
    assert elapsed < 15
    assert schema.version_row() == [(1, False)]


def test_refusal_is_a_clean_error(schema: Schema, migrations: Migrations) -> None:
    migrations.pair(1, "discard", "DISCARD ALL;")
    with pytest.raises(SQLMigrateError, match="DISCARD ALL would release the migration lock"):
        engine.up(path=migrations.path)
    assert schema.tables() == set()


def test_a_session_without_standard_strings_is_refused(
    schema: Schema, migrations: Migrations
) -> None:
    """The server would lex backslashes in '' strings unlike the parser that split the file."""
    migrations.pair(1, "a", "SELECT 'a\\';\nCREATE TABLE a (id int);")
    url = schema.url.replace("?options=", "?options=-cstandard_conforming_strings%3Doff%20")
    done = run_manage("sqlmigrate_up", "--path", str(migrations.path), url=url)
    assert done.returncode == 1
    assert "standard_conforming_strings = off" in done.stderr
    assert "Traceback" not in done.stderr
    assert schema.tables() == set()
