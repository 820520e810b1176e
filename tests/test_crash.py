"""A ``sqlmigrate_up`` that dies part-way: what the version table may say afterwards, on
every vendor.

Each test runs ``python manage.py sqlmigrate_up`` as a child, waits until the
database shows it at a given phase of migration 2, and then either kills the
process (SIGKILL: a server only notices when it next talks to the socket) or
ends its session on the server (``pg_terminate_backend`` on PostgreSQL,
``KILL <connection id>`` on MySQL; SQLite has no server, so only the process
can die). Whatever the phase, the database must then say one of two things:
the previous version, clean, with nothing of the file left; or
golang-migrate's dirty target version, which the next run refuses until
someone forces it. It must never say "clean" at a version whose file did not
finish. The lock goes with the session (with the process, for SQLite's lock
file), so the next run proceeds.

After SIGKILL an orphaned server session carries on with the message it
already received: a sleep finishes, a lock wait is granted, and a message
that ends in COMMIT (an atomic file's last statement with its version
update, or the clean-version write of the dirty protocol) may commit. Then
"2 clean" is true, because the file did finish. Ctrl-C (SIGINT) is tested on
PostgreSQL: psycopg cancels the statement on the server.

Migration 2's slow statement runs for as long as the table ``crash_control``
says (the test's own table, not a migration's): the killed child's run is
slow, the next run, with the same file, is not.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dj_database_url
import psycopg
import pytest
from django.db import connection

from sqlmigrate import engine
from sqlmigrate.backends.mysql import lock_name
from sqlmigrate.backends.postgresql import advisory_lock_id
from sqlmigrate.backends.sqlite.backend import LOCK_SUFFIX

from .conftest import Migrations, run_manage, spawn_manage
from .vendors import Vendor

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 20.0
SLEEP_SECONDS = 2
#: rows of SQLite's counting query per second of "sleep" (it has no sleep function)
SQLITE_ROWS_PER_SECOND = 3_000_000
HISTORY = "schema_migrations_history"
SLOW = {
    "postgresql": "SELECT pg_sleep((SELECT seconds FROM crash_control));",
    "mysql": "SELECT SLEEP((SELECT seconds FROM crash_control));",
    "sqlite": (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < "
        f"(SELECT seconds FROM crash_control) * {SQLITE_ROWS_PER_SECOND}) SELECT count(*) FROM c;"
    ),
}
#: a statement that cannot run in a transaction, so its file takes the dirty protocol
ALONE = {
    "postgresql": "CREATE INDEX CONCURRENTLY base_id ON base (id);",
    "mysql": "CREATE TABLE extra (id int);",
    "sqlite": "VACUUM;",
}
FIRST, LAST = "INSERT INTO base VALUES (1);", "INSERT INTO base VALUES (2);"
KILL, END_SESSION = "kill -9", "end the session"

PREVIOUS_CLEAN, TARGET_DIRTY, TARGET_CLEAN = "1 clean", "2 dirty", "2 clean"
#: how each vendor's child says it lost its session (and so the lock)
LOST = {
    "postgresql": "error: lost the database session (and with it the migration lock): ",
    "mysql": "error: lost the database session (and the migration lock): ",
}
ONE_TRANSACTION = "it ran in one transaction, so it either committed whole or left nothing."
MARKED_DIRTY = "it is marked dirty: finish or undo it by hand, then sqlmigrate_force."


def atomic_file(vendor: str) -> str:
    """Only DML (MySQL commits around anything else): one transaction with its version."""
    return f"{FIRST}\n{SLOW[vendor]}\n{LAST}\n"


def non_atomic_file(vendor: str) -> str:
    """The slow statement last and alone: on SQLite nothing of the file holds the write
    lock while it runs, so a test can take it there and hold the clean write back."""
    return f"{FIRST}\n{LAST}\n{ALONE[vendor]}\n{SLOW[vendor]}\n"


@dataclass
class Child:
    process: subprocess.Popen[str]
    out: str = ""
    err: str = ""

    def finish(self) -> int:
        self.out, self.err = self.process.communicate(timeout=WAIT)
        return self.process.returncode


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


# -- each vendor's view of the child: its session, its waits, its lock -------------------


class Server:
    """How a test sees the child's session on one vendor. ``Session``: the PostgreSQL
    backend pid, the MySQL connection id, the child's pid on SQLite."""

    def __init__(self, vendor: Vendor) -> None:
        self.vendor = vendor

    def child_url(self) -> str:
        return self.vendor.url

    def waiting_for_lock(self, child: Child) -> int:
        raise NotImplementedError

    def inside_slow(self, child: Child) -> int:
        raise NotImplementedError

    def hold_lock(self) -> contextlib.AbstractContextManager[Any]:
        """Another session holding the migration lock."""
        raise NotImplementedError

    def hold_version_table(self) -> contextlib.AbstractContextManager[Any]:
        """Another session holding back every write to the version table."""
        raise NotImplementedError

    def waiting_on_version_table(self, child: Child) -> None:
        raise NotImplementedError

    def version_row_through(self, holder: Any) -> list[tuple[int, bool]]:
        return self.vendor.version_row()

    def end_session(self, session: int) -> None:
        raise NotImplementedError

    def wait_gone(self, session: int, child: Child) -> None:
        """Until the child's session has ended on the server (a killed client's can linger)."""

    def lock_free(self, session: int) -> bool:
        raise NotImplementedError

    def cleanup(self, children: list[Child]) -> None:
        """End what a killed child left running on the server."""


class PostgreSQLServer(Server):
    """The child's backend is found by an ``application_name`` added to its URL."""

    def __init__(self, vendor: Vendor) -> None:
        super().__init__(vendor)
        assert vendor.schema is not None
        self.schema = vendor.schema
        self.application = f"crashtest_{os.urandom(4).hex()}"

    def child_url(self) -> str:
        return f"{self.schema.url}&application_name={self.application}"

    def backend(self, child: Child, condition: str) -> int:
        sql = (
            f"SELECT pid FROM pg_stat_activity WHERE application_name = '{self.application}' "
            f"AND datname = current_database() AND ({condition})"
        )
        rows = wait_for(lambda: self.schema.query(sql), condition, child)
        return int(rows[0][0])

    def waiting_for_lock(self, child: Child) -> int:
        return self.backend(child, "query LIKE 'SELECT pg_catalog.pg_try_advisory_lock(%'")

    def inside_slow(self, child: Child) -> int:
        return self.backend(child, "wait_event = 'PgSleep'")

    def keys(self) -> list[int]:
        database = connection.settings_dict["NAME"]
        return [
            advisory_lock_id("/" + database, self.schema.name, "schema_migrations"),
            advisory_lock_id(database, self.schema.name, "schema_migrations"),
        ]

    @contextlib.contextmanager
    def hold_lock(self) -> Iterator[psycopg.Connection[Any]]:
        key = self.keys()[0]
        with self.schema.connect() as holder:
            holder.execute(f"SELECT pg_advisory_lock({key})")
            yield holder
            # Now, not when the server gets round to ending the session after close.
            holder.execute(f"SELECT pg_advisory_unlock({key})")

    @contextlib.contextmanager
    def hold_version_table(self) -> Iterator[psycopg.Connection[Any]]:
        """Our ACCESS EXCLUSIVE lock holds the child's final write back."""
        with self.schema.connect() as holder, holder.transaction():
            holder.execute(
                f'LOCK TABLE "{self.schema.name}".schema_migrations IN ACCESS EXCLUSIVE MODE'
            )
            yield holder

    def waiting_on_version_table(self, child: Child) -> None:
        self.backend(child, "wait_event_type = 'Lock'")

    def version_row_through(self, holder: Any) -> list[tuple[int, bool]]:
        rows = holder.execute(f'SELECT version, dirty FROM "{self.schema.name}".schema_migrations')
        return list(rows.fetchall())

    def end_session(self, session: int) -> None:
        with self.schema.connect() as terminator:
            terminator.execute(f"SELECT pg_terminate_backend({session})")

    def wait_gone(self, session: int, child: Child) -> None:
        sql = f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{self.application}'"
        wait_for(
            lambda: self.schema.query(sql) == [(0,)], f"the session of {self.application} to end"
        )

    def lock_free(self, session: int) -> bool:
        keys = ", ".join(str(key) for key in self.keys())
        return not self.schema.query(
            f"SELECT pid, objid FROM pg_locks WHERE locktype = 'advisory' "
            f"AND (pid = {session} OR objid::bigint IN ({keys}))"
        )

    def cleanup(self, children: list[Child]) -> None:
        # A killed client's backend can linger (asleep or waiting on a lock).
        self.schema.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE application_name = '{self.application}'"
        )
        if children:
            self.wait_gone(0, children[0])


class MySQLServer(Server):
    """The child's connection is the one on the test's database that is not ours."""

    def __init__(self, vendor: Vendor) -> None:
        super().__init__(vendor)
        self.database = str(vendor.query("SELECT DATABASE()")[0][0])
        self.lock = lock_name(self.database, "schema_migrations")
        self.ours = {int(vendor.query("SELECT CONNECTION_ID()")[0][0])}

    def connect(self) -> Any:
        import MySQLdb  # PyMySQL where mysqlclient is missing (vendors.py installed it)

        settings = dj_database_url.parse(self.vendor.url)
        session = MySQLdb.connect(
            host=settings["HOST"],
            port=int(settings["PORT"] or 3306),
            user=settings["USER"],
            password=settings["PASSWORD"] or "",
            database=settings["NAME"],
            autocommit=True,
        )
        with session.cursor() as cursor:
            cursor.execute("SELECT CONNECTION_ID()")
            self.ours.add(int(cursor.fetchone()[0]))
        return session

    def child_session(self, child: Child, condition: str) -> int:
        ours = ", ".join(str(i) for i in self.ours)
        sql = (
            "SELECT id FROM information_schema.processlist WHERE db = DATABASE() "
            f"AND id NOT IN ({ours}) AND ({condition})"
        )
        rows = wait_for(lambda: self.vendor.query(sql), condition, child)
        return int(rows[0][0])

    def waiting_for_lock(self, child: Child) -> int:
        """Found, then seen asking for the lock at the pace of its polls.

        ``GET_LOCK(name, 0)`` returns at once, so the child's session shows no
        wait: only its last query's id changes with each poll. Before the lock
        its queries come in bursts (a pause between them while it parses the
        files); three of them each 0.12 s after the last are the polls, which
        back off to a pause of 0.25 s."""
        session = self.child_session(child, "true")
        sql = f"SELECT query_id FROM information_schema.processlist WHERE id = {session}"
        changes: list[tuple[float, Any]] = []

        def polling() -> bool:
            rows = self.vendor.query(sql)
            if rows and (not changes or changes[-1][1] != rows[0][0]):
                changes.append((time.monotonic(), rows[0][0]))
            times = [when for when, _ in changes[-3:]]
            return len(times) == 3 and min(b - a for a, b in itertools.pairwise(times)) >= 0.12

        wait_for(polling, "the child to poll GET_LOCK", child)
        return session

    def inside_slow(self, child: Child) -> int:
        return self.child_session(child, "state = 'User sleep'")

    @contextlib.contextmanager
    def hold_lock(self) -> Iterator[Any]:
        holder = self.connect()
        try:
            with holder.cursor() as cursor:
                cursor.execute(f"SELECT GET_LOCK('{self.lock}', 0)")
                assert cursor.fetchone()[0] == 1
            yield holder
            # Now, not when the server gets round to ending the session after close.
            with holder.cursor() as cursor:
                cursor.execute(f"SELECT RELEASE_LOCK('{self.lock}')")
        finally:
            holder.close()

    @contextlib.contextmanager
    def hold_version_table(self) -> Iterator[Any]:
        holder = self.connect()
        try:
            with holder.cursor() as cursor:
                cursor.execute("LOCK TABLES schema_migrations WRITE")
            yield holder
            with holder.cursor() as cursor:
                cursor.execute("UNLOCK TABLES")
        finally:
            holder.close()

    def waiting_on_version_table(self, child: Child) -> None:
        self.child_session(child, "state = 'Waiting for table metadata lock'")

    def version_row_through(self, holder: Any) -> list[tuple[int, bool]]:
        with holder.cursor() as cursor:
            cursor.execute("SELECT version, dirty FROM schema_migrations")
            return [(version, bool(dirty)) for version, dirty in cursor.fetchall()]

    def end_session(self, session: int) -> None:
        self.vendor.query(f"KILL {session}")

    def wait_gone(self, session: int, child: Child) -> None:
        sql = f"SELECT count(*) FROM information_schema.processlist WHERE id = {session}"
        wait_for(lambda: self.vendor.query(sql) == [(0,)], f"connection {session} to end")

    def lock_free(self, session: int) -> bool:
        return self.vendor.query(f"SELECT IS_USED_LOCK('{self.lock}')") == [(None,)]

    def cleanup(self, children: list[Child]) -> None:
        ours = ", ".join(str(i) for i in self.ours)
        for (session,) in self.vendor.query(
            f"SELECT id FROM information_schema.processlist WHERE db = DATABASE() "
            f"AND id NOT IN ({ours})"
        ):
            with contextlib.suppress(Exception):
                self.vendor.query(f"KILL {session}")


class SQLiteServer(Server):
    """No server: the child is its process, seen through /proc; the lock is a flock."""

    def __init__(self, vendor: Vendor) -> None:
        super().__init__(vendor)
        assert vendor.path is not None
        self.path = vendor.path
        self.lock_path = Path(str(vendor.path) + LOCK_SUFFIX)

    def connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, isolation_level=None, timeout=0)

    def waiting_for_lock(self, child: Child) -> int:
        """The child has the lock file open: it is in its polling loop (we hold the lock)."""
        pid = child.process.pid

        def has_lock_file_open() -> bool:
            with contextlib.suppress(OSError):
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    with contextlib.suppress(OSError):
                        if fd.readlink() == self.lock_path:
                            return True
            return False

        wait_for(has_lock_file_open, "the child to poll the lock file", child)
        return pid

    def inside_slow(self, child: Child) -> int:
        """The child holds the lock, is inside migration 2 (its write lock taken, or the
        dirty version committed), and keeps computing: the counting query."""
        pid = child.process.pid

        def counting() -> bool:
            if self.lock_free(pid) or not (self.writing() or self.dirty()):
                return False
            return self.sustained(pid, "R")

        wait_for(counting, "the child's slow statement", child)
        return pid

    def writing(self) -> bool:
        probe = self.connect()
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
        return False

    def dirty(self) -> bool:
        probe = self.connect()
        try:
            return probe.execute("SELECT version, dirty FROM schema_migrations").fetchall() == [
                (2, 1)
            ]
        except sqlite3.OperationalError:
            return False
        finally:
            probe.close()

    @staticmethod
    def sustained(pid: int, wanted: str) -> bool:
        """The process is in ``wanted`` state (R: running, S: asleep) for 0.2 s."""
        for _ in range(10):
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{pid}/stat").read_text()
                if stat.rsplit(")", 1)[1].split()[0] != wanted:
                    return False
            time.sleep(0.02)
        return True

    @contextlib.contextmanager
    def hold_lock(self) -> Iterator[int]:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def hold_version_table(self) -> Iterator[sqlite3.Connection]:
        """SQLite locks the whole database: our write lock holds back every write."""
        holder = self.connect()
        try:
            holder.execute("BEGIN IMMEDIATE")
            yield holder
        finally:
            holder.close()

    def waiting_on_version_table(self, child: Child) -> None:
        # SQLite's busy handler sleeps between its tries.
        wait_for(lambda: self.sustained(child.process.pid, "S"), "the child to wait", child)

    def version_row_through(self, holder: Any) -> list[tuple[int, bool]]:
        rows = holder.execute("SELECT version, dirty FROM schema_migrations").fetchall()
        return [(version, bool(dirty)) for version, dirty in rows]

    def lock_free(self, session: int) -> bool:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            os.close(fd)
        return True


SERVERS: dict[str, Callable[[Vendor], Server]] = {
    "postgresql": PostgreSQLServer,
    "mysql": MySQLServer,
    "sqlite": SQLiteServer,
}


@dataclass
class Crash:
    """Starts the child and ends it; at teardown nothing of it is left running."""

    vendor: Vendor
    server: Server
    migrations: Migrations
    started: list[Child] = field(default_factory=list)

    def prepare(self, up: str) -> None:
        """Version 1 applied (table ``base``); ``up`` pending as version 2, slow."""
        self.vendor.query("CREATE TABLE crash_control (seconds int)")
        self.vendor.query(f"INSERT INTO crash_control VALUES ({SLEEP_SECONDS})")
        self.migrations.pair(1, "base", "CREATE TABLE base (id int);", "DROP TABLE base;")
        engine.up(using=self.vendor.alias, path=self.migrations.path)
        self.migrations.pair(2, "crash", up, "DELETE FROM base;")

    def start_up(self) -> Child:
        path = str(self.migrations.path)
        child = Child(spawn_manage("sqlmigrate_up", "--path", path, url=self.server.child_url()))
        self.started.append(child)
        return child

    def end(self, how: str, child: Child, session: int) -> None:
        if how == KILL:
            child.process.kill()
            child.process.wait(timeout=WAIT)
        else:
            self.server.end_session(session)
            assert child.finish() == 1

    def cleanup(self) -> None:
        for child in self.started:
            if child.process.poll() is None:
                child.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired, ValueError):
                child.process.communicate(timeout=10)
        self.server.cleanup(self.started)


@pytest.fixture
def crash(vendor: Vendor, migrations: Migrations) -> Iterator[Crash]:
    started = Crash(vendor, SERVERS[vendor.name](vendor), migrations)
    try:
        yield started
    finally:
        started.cleanup()


def ways_to_end(vendor: str) -> list[str]:
    return [KILL] if vendor == "sqlite" else [KILL, END_SESSION]


#: (vendor, how): the child's process killed on every vendor, its server session ended
#: where there is a server
ENDINGS = [
    pytest.param(name, how, id=f"{name}-{how}")
    for name in ("postgresql", "sqlite", "mysql")
    for how in ways_to_end(name)
]
per_ending = pytest.mark.parametrize(("vendor", "how"), ENDINGS, indirect=["vendor"])


def state(crash: Crash, holder: Any = None) -> str:
    """Which of the allowed states the database is in; fails on anything else.

    ``holder``: a session that holds the version table, to read it through."""
    vendor = crash.vendor
    if holder is not None:
        version_row = crash.server.version_row_through(holder)
    else:
        version_row = vendor.version_row()
    outcomes = vendor.query(f"SELECT outcome FROM {HISTORY} WHERE version = 2 ORDER BY id")
    history = [row[0] for row in outcomes]
    left = sorted(row[0] for row in vendor.query("SELECT id FROM base"))
    seen = (version_row, history, left)
    if version_row == [(1, False)]:
        assert (history, left) == ([], []), f"nothing of the file may stay: {seen}"
        return PREVIOUS_CLEAN
    if version_row == [(2, True)]:
        assert history == ["running"], seen
        return TARGET_DIRTY
    assert version_row == [(2, False)], f"a state sqlmigrate must never leave: {seen}"
    assert left == [1, 2], f"clean at a version whose file did not finish: {seen}"
    assert history == ["applied"], seen
    return TARGET_CLEAN


def next_run(crash: Crash, seen: str) -> None:
    """The next run: takes the lock at once, and refuses a dirty database."""
    vendor = crash.vendor
    vendor.query("UPDATE crash_control SET seconds = 0")
    path = str(crash.migrations.path)
    done = run_manage("sqlmigrate_up", "--path", path, "--lock-timeout", "5", url=vendor.url)
    if seen == TARGET_DIRTY:
        assert done.returncode == 1, done.stderr
        assert done.stderr.startswith("error: Dirty database version 2. Fix and force version.\n")
        assert "`python manage.py sqlmigrate_force 2` if the database now matches it" in done.stderr
        assert "`python manage.py sqlmigrate_force 1` if you undid the file" in done.stderr
        assert vendor.version_row() == [(2, True)]
        return
    assert done.returncode == 0, done.stderr
    expected = "no change" if seen == TARGET_CLEAN else "OK   2_crash.up.sql"
    assert done.stdout.startswith(expected), done.stdout
    assert vendor.version_row() == [(2, False)]
    # Nothing applied twice: the file's two rows, once.
    assert sorted(row[0] for row in vendor.query("SELECT id FROM base")) == [1, 2]


def after_session_ended(crash: Crash, child: Child, session: int, allowed: set[str]) -> None:
    crash.server.wait_gone(session, child)
    assert crash.server.lock_free(session)
    seen = state(crash)
    assert seen in allowed
    next_run(crash, seen)


def lost_session_message(crash: Crash, child: Child, when: str) -> None:
    assert child.out == ""
    assert child.err.startswith(LOST[crash.vendor.name]), child.err
    assert f"This happened while running 2_crash.up.sql; {when}" in child.err
    assert "Run `python manage.py sqlmigrate_version` to see where the database is." in child.err


@per_ending
def test_a_while_waiting_for_the_lock(crash: Crash, how: str) -> None:
    crash.prepare(atomic_file(crash.vendor.name))
    with crash.server.hold_lock():
        child = crash.start_up()
        session = crash.server.waiting_for_lock(child)
        crash.end(how, child, session)
        assert state(crash) == PREVIOUS_CLEAN
    if how == END_SESSION:
        assert child.out == ""
        assert child.err.startswith(LOST[crash.vendor.name]), child.err
    # kill -9: the session was between two polls, holding nothing; it ends with its client.
    after_session_ended(crash, child, session, {PREVIOUS_CLEAN})


@per_ending
def test_b_inside_an_atomic_file(crash: Crash, how: str) -> None:
    crash.prepare(atomic_file(crash.vendor.name))
    child = crash.start_up()
    session = crash.server.inside_slow(child)
    crash.end(how, child, session)
    # Its transaction is open or gone: from outside, nothing of the file yet.
    assert state(crash) == PREVIOUS_CLEAN
    if how == END_SESSION:
        lost_session_message(crash, child, ONE_TRANSACTION)
        allowed = {PREVIOUS_CLEAN}
    else:
        # A server may already hold the message that ends in COMMIT: it may commit it whole.
        allowed = {PREVIOUS_CLEAN, TARGET_CLEAN}
    after_session_ended(crash, child, session, allowed)


@per_ending
def test_c_inside_a_non_atomic_file(crash: Crash, how: str) -> None:
    crash.prepare(non_atomic_file(crash.vendor.name))
    child = crash.start_up()
    session = crash.server.inside_slow(child)
    crash.end(how, child, session)
    assert state(crash) == TARGET_DIRTY
    if how == END_SESSION:
        lost_session_message(crash, child, MARKED_DIRTY)
    after_session_ended(crash, child, session, {TARGET_DIRTY})


@per_ending
@pytest.mark.parametrize("atomic", [False, True], ids=["non-atomic", "atomic"])
def test_d_between_the_file_and_the_clean_write(crash: Crash, how: str, atomic: bool) -> None:
    """Another session's lock holds the child's final write back."""
    name = crash.vendor.name
    if atomic and name == "sqlite":
        pytest.skip(
            "no such phase on SQLite: an atomic file's transaction holds the write lock "
            "from its BEGIN IMMEDIATE to the COMMIT that carries the version"
        )
    crash.prepare(atomic_file(name) if atomic else non_atomic_file(name))
    child = crash.start_up()
    session = crash.server.inside_slow(child)
    with crash.server.hold_version_table() as holder:
        crash.server.waiting_on_version_table(child)
        crash.end(how, child, session)
        assert state(crash, holder) == (PREVIOUS_CLEAN if atomic else TARGET_DIRTY)
        # Lock released. After kill -9, the orphaned session's final message (already
        # received) may now commit: the file did finish, so "2 clean" is true then.
    if how == END_SESSION:
        lost_session_message(crash, child, ONE_TRANSACTION if atomic else MARKED_DIRTY)
        allowed = {PREVIOUS_CLEAN if atomic else TARGET_DIRTY}
    else:
        allowed = {PREVIOUS_CLEAN if atomic else TARGET_DIRTY, TARGET_CLEAN}
    after_session_ended(crash, child, session, allowed)


only_postgresql = pytest.mark.parametrize("vendor", ["postgresql"], indirect=True)


@only_postgresql
@pytest.mark.parametrize("atomic", [False, True], ids=["non-atomic", "atomic"])
def test_ctrl_c_inside_a_file(crash: Crash, atomic: bool) -> None:
    """SIGINT. Today psycopg cancels the statement on the server; golang-migrate instead
    finishes the running migration and stops ("2 clean"). Either keeps the invariant."""
    name = crash.vendor.name
    crash.prepare(atomic_file(name) if atomic else non_atomic_file(name))
    child = crash.start_up()
    session = crash.server.inside_slow(child)
    child.process.send_signal(signal.SIGINT)
    child.finish()
    allowed = {PREVIOUS_CLEAN if atomic else TARGET_DIRTY, TARGET_CLEAN}
    after_session_ended(crash, child, session, allowed)


@only_postgresql
def test_ctrl_c_stops_cleanly_or_says_what_state_it_left(crash: Crash) -> None:
    crash.prepare(non_atomic_file(crash.vendor.name))
    crash.migrations.pair(3, "next", "CREATE TABLE next_one (id int);")
    child = crash.start_up()
    crash.server.inside_slow(child)
    child.process.send_signal(signal.SIGINT)
    child.finish()
    assert "Traceback" not in child.err
    assert "next_one" not in crash.vendor.tables()
    if state(crash) == TARGET_DIRTY:
        assert child.err.startswith("error: ")
        assert "2_crash.up.sql" in child.err
        assert "python manage.py sqlmigrate_force 2" in child.err
    else:
        assert state(crash) == TARGET_CLEAN  # stopped after the running file, as golang-migrate
