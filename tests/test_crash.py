"""A ``sqlmigrate_up`` that dies part-way: what the version table may say afterwards.

Each test runs ``python manage.py sqlmigrate_up`` as a child, waits until
PostgreSQL shows it at a given phase of migration 2, and then either kills
the process (SIGKILL: the server only notices when it next talks to the
socket) or ends its session with ``pg_terminate_backend``. Whatever the
phase, the database must then say one of two things: the previous version,
clean, with nothing of the file left; or golang-migrate's dirty target
version, which the next run refuses until someone forces it. It must never
say "clean" at a version whose file did not finish. The lock goes with the
session, so the next run proceeds.

After SIGKILL the orphaned session carries on with the message it already
received: a sleep finishes, a lock wait is granted, and a message that ends
in COMMIT (an atomic file's last statement with its version update, or the
clean-version write of the dirty protocol) commits. Then "2 clean" is true,
because the file did finish. Ctrl-C (SIGINT) is tested too: psycopg cancels
the statement on the server.

The child's backend is found by an ``application_name`` added to its URL.
Its slow statement sleeps for ``crashtest.sleep`` seconds, a setting only
the child's URL carries: the next run, with the same file, does not sleep.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from django.db import connection

from sqlmigrate import engine
from sqlmigrate.backends.postgresql import advisory_lock_id

from .conftest import Migrations, Schema, run_manage, spawn_manage

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 20.0
SLEEP_SECONDS = 2
HISTORY = "schema_migrations_history"
SLOW = "SELECT pg_sleep(coalesce(current_setting('crashtest.sleep', true), '0')::float8);"
ATOMIC = f"CREATE TABLE x (id int);\nINSERT INTO x VALUES (1);\n{SLOW}\n"
# The last statement leaves a witness that the whole file ran.
NON_ATOMIC = f"CREATE INDEX CONCURRENTLY base_id ON base (id);\n{SLOW}\nCREATE TABLE done ();\n"
KILL, TERMINATE = "kill -9", "pg_terminate_backend"

PREVIOUS_CLEAN, TARGET_DIRTY, TARGET_CLEAN = "1 clean", "2 dirty", "2 clean"


@dataclass
class Child:
    process: subprocess.Popen[str]
    application: str
    out: str = ""
    err: str = ""

    def finish(self) -> int:
        self.out, self.err = self.process.communicate(timeout=WAIT)
        return self.process.returncode


@dataclass
class Crash:
    """Starts the child and ends it; at teardown nothing of it is left running."""

    schema: Schema
    started: list[Child] = field(default_factory=list)

    def start_up(self, path: str) -> Child:
        application = f"crashtest_{uuid.uuid4().hex[:8]}"
        url = (
            f"{self.schema.url}%20-ccrashtest.sleep%3D{SLEEP_SECONDS}"
            f"&application_name={application}"
        )
        child = Child(spawn_manage("sqlmigrate_up", "--path", path, url=url), application)
        self.started.append(child)
        return child

    def backend(self, child: Child, condition: str = "true") -> int:
        """The child's backend pid, once pg_stat_activity shows it matching ``condition``."""
        sql = (
            f"SELECT pid FROM pg_stat_activity WHERE application_name = '{child.application}' "
            f"AND datname = current_database() AND ({condition})"
        )
        rows = wait_for(lambda: self.schema.query(sql), f"{child.application}: {condition}", child)
        return int(rows[0][0])

    def end(self, how: str, child: Child, pid: int, terminator: psycopg.Connection[Any]) -> None:
        if how == KILL:
            child.process.kill()
            child.process.wait(timeout=WAIT)
        else:
            terminator.execute(f"SELECT pg_terminate_backend({pid})")
            assert child.finish() == 1

    def cleanup(self) -> None:
        for child in self.started:
            if child.process.poll() is None:
                child.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired, ValueError):
                child.process.communicate(timeout=10)
        names = ", ".join(f"'{c.application}'" for c in self.started)
        if names:
            # A killed client's backend can linger (asleep or waiting on a lock).
            self.schema.query(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE application_name IN ({names})"
            )
            for child in self.started:
                gone(self.schema, child)


@pytest.fixture
def crash(schema: Schema) -> Iterator[Crash]:
    started = Crash(schema)
    try:
        yield started
    finally:
        started.cleanup()


def wait_for(probe: Callable[[], Any], what: str, child: Child | None = None) -> Any:
    deadline = time.monotonic() + WAIT
    while not (found := probe()):
        if child is not None and child.process.poll() is not None:
            child.finish()
            pytest.fail(f"the child exited before {what}:\n{child.out}\n{child.err}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)
    return found


def gone(schema: Schema, child: Child) -> None:
    """Wait until the child's session has ended on the server (a killed client's can linger)."""
    sql = f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{child.application}'"
    wait_for(lambda: schema.query(sql) == [(0,)], f"the session of {child.application} to end")


def migration_keys(schema: Schema) -> list[int]:
    database = connection.settings_dict["NAME"]
    return [
        advisory_lock_id("/" + database, schema.name, "schema_migrations"),
        advisory_lock_id(database, schema.name, "schema_migrations"),
    ]


def advisory_locks(schema: Schema, pid: int) -> list[tuple[Any, ...]]:
    keys = ", ".join(str(key) for key in migration_keys(schema))
    return schema.query(
        f"SELECT pid, objid FROM pg_locks WHERE locktype = 'advisory' "
        f"AND (pid = {pid} OR objid::bigint IN ({keys}))"
    )


def prepare(migrations: Migrations, up: str) -> None:
    """Version 1 applied (table ``base``); ``up`` pending as version 2."""
    migrations.pair(1, "base", "CREATE TABLE base (id int);", "DROP TABLE base;")
    engine.up(path=migrations.path)
    migrations.pair(2, "crash", up, "DROP TABLE IF EXISTS x; DROP INDEX IF EXISTS base_id;")


def state(schema: Schema, reader: psycopg.Connection[Any] | None = None) -> str:
    """Which of the allowed states the database is in; fails on anything else.

    ``reader``: a session that holds a lock on the version table, to read it through.
    """
    if reader is not None:
        rows = reader.execute(f'SELECT version, dirty FROM "{schema.name}".schema_migrations')
        version_row = list(rows.fetchall())
    else:
        version_row = schema.version_row()
    outcomes = schema.query(f"SELECT outcome FROM {HISTORY} WHERE version = 2 ORDER BY id")
    history = [row[0] for row in outcomes]
    left = {
        name
        for (name,) in schema.query(
            f"SELECT relname::text FROM pg_class WHERE relnamespace = '{schema.name}'::regnamespace "
            "AND relname IN ('x', 'base_id', 'done')"
        )
    }
    # Atomic: x and its row; non-atomic: "done", created by the file's last statement.
    finished = "done" in left or ("x" in left and schema.query("SELECT count(*) FROM x") == [(1,)])
    seen = (version_row, history, sorted(left))
    if version_row == [(1, False)]:
        assert (history, left) == ([], set()), f"nothing of the file may stay: {seen}"
        return PREVIOUS_CLEAN
    if version_row == [(2, True)]:
        assert history == ["running"], seen
        return TARGET_DIRTY
    assert version_row == [(2, False)], f"a state sqlmigrate must never leave: {seen}"
    assert finished, f"clean at a version whose file did not finish: {seen}"
    assert history == ["applied"], seen
    return TARGET_CLEAN


def next_run(schema: Schema, migrations: Migrations, seen: str) -> None:
    """The next run: takes the lock at once, and refuses a dirty database."""
    done = run_manage(
        "sqlmigrate_up", "--path", str(migrations.path), "--lock-timeout", "5", url=schema.url
    )
    if seen == TARGET_DIRTY:
        assert done.returncode == 1, done.stderr
        assert done.stderr.startswith("error: Dirty database version 2. Fix and force version.\n")
        assert "`python manage.py sqlmigrate_force 2` if the database now matches it" in done.stderr
        assert "`python manage.py sqlmigrate_force 1` if you undid the file" in done.stderr
        assert schema.version_row() == [(2, True)]
        return
    assert done.returncode == 0, done.stderr
    expected = "no change" if seen == TARGET_CLEAN else "OK   2_crash.up.sql"
    assert done.stdout.startswith(expected), done.stdout
    assert schema.version_row() == [(2, False)]


def after_session_ended(
    schema: Schema, migrations: Migrations, child: Child, pid: int, allowed: set[str]
) -> None:
    gone(schema, child)
    assert advisory_locks(schema, pid) == []
    seen = state(schema)
    assert seen in allowed
    next_run(schema, migrations, seen)


def lost_session_message(child: Child, when: str) -> None:
    assert child.out == ""
    assert child.err.startswith(
        "error: lost the database session (and with it the migration lock): "
    ), child.err
    assert f"This happened while running 2_crash.up.sql; {when}" in child.err
    assert "Run `python manage.py sqlmigrate_version` to see where the database is." in child.err


@pytest.mark.parametrize("how", [KILL, TERMINATE])
def test_a_while_waiting_for_the_lock(
    schema: Schema, migrations: Migrations, crash: Crash, how: str
) -> None:
    prepare(migrations, "CREATE TABLE x (id int);\nINSERT INTO x VALUES (1);")
    key = migration_keys(schema)[0]
    with schema.connect() as holder:
        holder.execute(f"SELECT pg_advisory_lock({key})")
        child = crash.start_up(str(migrations.path))
        pid = crash.backend(child, "query LIKE 'SELECT pg_catalog.pg_try_advisory_lock(%'")
        crash.end(how, child, pid, holder)
        assert state(schema) == PREVIOUS_CLEAN
    if how == TERMINATE:
        assert child.out == ""
        assert child.err.startswith(
            "error: lost the database session (and with it the migration lock): "
        ), child.err
    # kill -9: the session was between two polls, holding nothing; it ends with its client.
    after_session_ended(schema, migrations, child, pid, {PREVIOUS_CLEAN})


@pytest.mark.parametrize("how", [KILL, TERMINATE])
def test_b_inside_an_atomic_file(
    schema: Schema, migrations: Migrations, crash: Crash, how: str
) -> None:
    prepare(migrations, ATOMIC)
    child = crash.start_up(str(migrations.path))
    pid = crash.backend(child, "wait_event = 'PgSleep'")
    with schema.connect() as terminator:
        crash.end(how, child, pid, terminator)
    # Its transaction is open or gone: from outside, nothing of the file yet.
    assert state(schema) == PREVIOUS_CLEAN
    if how == TERMINATE:
        lost_session_message(
            child, "it ran in one transaction, so it either committed whole or left nothing."
        )
        after_session_ended(schema, migrations, child, pid, {PREVIOUS_CLEAN})
    else:
        # The server already holds the message that ends in COMMIT: it may still commit it whole.
        after_session_ended(schema, migrations, child, pid, {PREVIOUS_CLEAN, TARGET_CLEAN})


@pytest.mark.parametrize("how", [KILL, TERMINATE])
def test_c_inside_a_non_atomic_file(
    schema: Schema, migrations: Migrations, crash: Crash, how: str
) -> None:
    prepare(migrations, NON_ATOMIC)
    child = crash.start_up(str(migrations.path))
    pid = crash.backend(child, "wait_event = 'PgSleep'")
    with schema.connect() as terminator:
        crash.end(how, child, pid, terminator)
    assert state(schema) == TARGET_DIRTY
    if how == TERMINATE:
        lost_session_message(
            child, "it is marked dirty: finish or undo it by hand, then sqlmigrate_force."
        )
    after_session_ended(schema, migrations, child, pid, {TARGET_DIRTY})


@pytest.mark.parametrize("how", [KILL, TERMINATE])
@pytest.mark.parametrize("atomic", [False, True], ids=["non-atomic", "atomic"])
def test_d_between_the_file_and_the_clean_write(
    schema: Schema, migrations: Migrations, crash: Crash, how: str, atomic: bool
) -> None:
    """Our ACCESS EXCLUSIVE lock on the version table holds the child's final write back."""
    prepare(migrations, ATOMIC if atomic else NON_ATOMIC)
    child = crash.start_up(str(migrations.path))
    pid = crash.backend(child, "wait_event = 'PgSleep'")
    with schema.connect() as holder, holder.transaction():
        holder.execute(f'LOCK TABLE "{schema.name}".schema_migrations IN ACCESS EXCLUSIVE MODE')
        crash.backend(child, "wait_event_type = 'Lock'")
        crash.end(how, child, pid, holder)
        assert state(schema, holder) == (PREVIOUS_CLEAN if atomic else TARGET_DIRTY)
        # Lock released. After kill -9, the orphaned session's final message (already
        # received) may now commit: the file did finish, so "2 clean" is true then.
    if how == TERMINATE:
        lost_session_message(
            child,
            "it ran in one transaction, so it either committed whole or left nothing."
            if atomic
            else "it is marked dirty: finish or undo it by hand, then sqlmigrate_force.",
        )
        allowed = {PREVIOUS_CLEAN if atomic else TARGET_DIRTY}
    else:
        allowed = {PREVIOUS_CLEAN if atomic else TARGET_DIRTY, TARGET_CLEAN}
    after_session_ended(schema, migrations, child, pid, allowed)


@pytest.mark.parametrize("atomic", [False, True], ids=["non-atomic", "atomic"])
def test_ctrl_c_inside_a_file(
    schema: Schema, migrations: Migrations, crash: Crash, atomic: bool
) -> None:
    """SIGINT. Today psycopg cancels the statement on the server; golang-migrate instead
    finishes the running migration and stops ("2 clean"). Either keeps the invariant."""
    prepare(migrations, ATOMIC if atomic else NON_ATOMIC)
    child = crash.start_up(str(migrations.path))
    pid = crash.backend(child, "wait_event = 'PgSleep'")
    child.process.send_signal(signal.SIGINT)
    child.finish()
    allowed = {PREVIOUS_CLEAN if atomic else TARGET_DIRTY, TARGET_CLEAN}
    after_session_ended(schema, migrations, child, pid, allowed)


def test_ctrl_c_stops_cleanly_or_says_what_state_it_left(
    schema: Schema, migrations: Migrations, crash: Crash
) -> None:
    prepare(migrations, NON_ATOMIC)
    migrations.pair(3, "next", "CREATE TABLE next_one (id int);")
    child = crash.start_up(str(migrations.path))
    crash.backend(child, "wait_event = 'PgSleep'")
    child.process.send_signal(signal.SIGINT)
    child.finish()
    assert "Traceback" not in child.err
    assert "next_one" not in schema.tables()
    if state(schema) == TARGET_DIRTY:
        assert child.err.startswith("error: ")
        assert "2_crash.up.sql" in child.err
        assert "python manage.py sqlmigrate_force 2" in child.err
    else:
        assert state(schema) == TARGET_CLEAN  # stopped after the running file, as golang-migrate
