"""Many ``python manage.py sqlmigrate_*`` processes at once on one schema.

Each test starts real child processes against the real test database. To
make the race real rather than staggered by Python's start-up time, the test
session first holds the migration lock itself, waits until every child is
waiting for it (polling, in ``pg_stat_activity``), and only then lets go. Every migration writes
``(version, pg_backend_pid())`` to an audit table, so "ran exactly once" and
"ran in the process that held the lock" are read back from the database.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from django.db import connection

from sqlmigrate import engine
from sqlmigrate.backends.postgresql import advisory_lock_id

from .conftest import Migrations, Schema, spawn_manage

pytestmark = pytest.mark.django_db(transaction=True)

PROCESSES = 8
#: every wait in this file gives up after this long (nothing here should take half of it)
WAIT = 30.0
HISTORY = "schema_migrations_history"
OK_LINE = re.compile(r"OK   (\d+)_\S+\.(up|down)\.sql \(\d+\.\d+ m?s\)")


@dataclass
class Child:
    args: tuple[str, ...]
    process: subprocess.Popen[str]
    out: str = ""
    err: str = ""
    code: int | None = None

    def finish(self, timeout: float) -> Child:
        self.out, self.err = self.process.communicate(timeout=timeout)
        self.code = self.process.returncode
        return self

    def describe(self) -> str:
        return f"{' '.join(self.args)} -> {self.code}\nstdout: {self.out}\nstderr: {self.err}"


@dataclass
class Children:
    """Child ``manage.py`` processes on one schema; nothing of them outlives the test."""

    schema: Schema
    #: the children's application_name, to find their sessions on the server
    application: str = field(default_factory=lambda: f"race_{uuid.uuid4().hex[:8]}")
    started: list[Child] = field(default_factory=list)

    def start(self, *args: str) -> Child:
        url = f"{self.schema.url}&application_name={self.application}"
        child = Child(args, spawn_manage(*args, url=url))
        self.started.append(child)
        return child

    def finish_all(self) -> list[Child]:
        deadline = time.monotonic() + WAIT
        return [c.finish(max(0.1, deadline - time.monotonic())) for c in self.started]

    def kill_all(self) -> None:
        for child in self.started:
            if child.process.poll() is None:
                child.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired, ValueError):
                child.process.communicate(timeout=10)
        # A killed child's session can linger on the server (waiting for a lock, say).
        sessions = f"FROM pg_stat_activity WHERE application_name = '{self.application}'"
        self.schema.query(f"SELECT pg_terminate_backend(pid) {sessions}")
        deadline = time.monotonic() + WAIT
        while self.schema.query(f"SELECT count(*) {sessions}") != [(0,)]:
            assert time.monotonic() < deadline, "sessions of killed children did not end"
            time.sleep(0.02)


@pytest.fixture
def children(schema: Schema) -> Iterator[Children]:
    started = Children(schema)
    try:
        yield started
    finally:
        started.kill_all()


def wait_for(condition: Callable[[], bool], what: str, children: Children) -> None:
    """Poll ``condition`` until it holds; fail (showing the children) after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        early = [c for c in children.started if c.process.poll() is not None]
        if early or time.monotonic() > deadline:
            details = "\n".join(c.finish(5).describe() for c in early)
            pytest.fail(f"gave up waiting for {what}\n{details}")
        time.sleep(0.02)


def finished(children: Children) -> int:
    return sum(child.process.poll() is not None for child in children.started)


def migration_key(schema: Schema) -> int:
    """The key sqlmigrate takes first: golang-migrate's CLI key for this URL."""
    return advisory_lock_id(
        "/" + connection.settings_dict["NAME"], schema.name, "schema_migrations"
    )


def queued(schema: Schema, children: Children) -> int:
    """Children polling for the lock (sqlmigrate waits with pg_try_advisory_lock)."""
    rows = schema.query(
        "SELECT count(*) FROM pg_stat_activity "
        f"WHERE application_name = '{children.application}' "
        "AND query LIKE 'SELECT pg_catalog.pg_try_advisory_lock(%' AND datname = current_database()"
    )
    return int(rows[0][0])


def race(schema: Schema, children: Children, commands: list[tuple[str, ...]]) -> list[Child]:
    """Start every command while holding the lock; let go once all of them queue on it."""
    key = migration_key(schema)
    with schema.connect() as holder:
        holder.execute(f"SELECT pg_advisory_lock({key})")
        for args in commands:
            children.start(*args)
        wait_for(
            lambda: queued(schema, children) == len(commands),
            f"{len(commands)} processes waiting for advisory lock {key}",
            children,
        )
        holder.execute(f"SELECT pg_advisory_unlock({key})")
    return children.finish_all()


def audited(migrations: Migrations, count: int, special: dict[int, str] | None = None) -> None:
    """Migration 1 creates the audit table; 2..count each add their row.

    Every tenth file sleeps a little before its INSERT (a multi-statement
    atomic file); ``special`` replaces what runs before the INSERT.
    """
    migrations.pair(
        1, "audit", "CREATE TABLE audit (version int NOT NULL, pid int NOT NULL);", None
    )
    for version in range(2, count + 1):
        before = (special or {}).get(version)
        if before is None and version % 10 == 0:
            before = "SELECT pg_sleep(0.05);"
        insert = f"INSERT INTO audit VALUES ({version}, pg_backend_pid());"
        text = f"{before}\n{insert}" if before else insert
        migrations.pair(version, f"step_{version}", text, None)


def audit_rows(schema: Schema) -> list[tuple[int, int]]:
    rows = schema.query("SELECT version, count(*) FROM audit GROUP BY version ORDER BY version")
    return [(int(v), int(n)) for v, n in rows]


def history(schema: Schema) -> list[tuple[int, str, str, int]]:
    rows = schema.query(
        f"SELECT version, direction, outcome, resulting_version FROM {HISTORY} ORDER BY id"
    )
    return [(int(v), d, o, int(r)) for v, d, o, r in rows]


def test_eight_processes_apply_each_migration_exactly_once(
    schema: Schema, migrations: Migrations, children: Children
) -> None:
    audited(migrations, 50)
    up = ("sqlmigrate_up", "--path", str(migrations.path))
    done = race(schema, children, [up] * PROCESSES)

    assert [c.code for c in done] == [0] * PROCESSES, "\n".join(c.describe() for c in done)
    assert all(c.err == "" for c in done), "\n".join(c.describe() for c in done)
    # The first to get the lock applies all 50; the others find nothing to do.
    winners = [c for c in done if c.out != "no change\n"]
    assert len(winners) == 1, "\n".join(c.describe() for c in done)
    lines = winners[0].out.splitlines()
    matches = [OK_LINE.fullmatch(line) for line in lines]
    assert [(m[1], m[2]) if m else line for m, line in zip(matches, lines, strict=True)] == [
        (str(version), "up") for version in range(1, 51)
    ]

    assert schema.version_row() == [(50, False)]
    assert audit_rows(schema) == [(version, 1) for version in range(2, 51)]
    assert len(schema.query("SELECT DISTINCT pid FROM audit")) == 1
    assert history(schema) == [(version, "up", "applied", version) for version in range(1, 51)]


def test_short_lock_timeout_gives_up_cleanly_and_repeats_nothing(
    schema: Schema, migrations: Migrations, children: Children
) -> None:
    """The winner is held inside migration 2 until every other process has given up."""
    gate = advisory_lock_id("gate", schema.name)
    audited(migrations, 20, {2: f"SELECT pg_advisory_xact_lock_shared({gate});"})
    # The gate holds migration 2 on purpose, longer than a DDL lock timeout: no limit.
    up = ("sqlmigrate_up", "--path", str(migrations.path), "--lock-timeout", "0.2")
    up += ("--ddl-lock-timeout", "0")
    with schema.connect() as holder:
        holder.execute(f"SELECT pg_advisory_lock({gate})")
        for _ in range(PROCESSES):
            children.start(*up)
        deadline = time.monotonic() + WAIT
        while finished(children) < PROCESSES - 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        # Before letting the winner on: it is still inside migration 2, version 1.
        assert finished(children) == PROCESSES - 1
        assert schema.version_row() == [(1, False)]
    done = children.finish_all()

    winner_pid = schema.query("SELECT DISTINCT pid FROM audit")
    assert len(winner_pid) == 1
    losers = [c for c in done if c.code != 0]
    assert len(losers) == PROCESSES - 1, "\n".join(c.describe() for c in done)
    key = migration_key(schema)
    for loser in losers:
        assert loser.code == 1
        assert loser.out == ""
        assert loser.err.startswith(
            "error: timeout: can't acquire database lock: waited 0.2 s for PostgreSQL advisory "
            f"lock {key} ({schema.name}.schema_migrations), held by pid {winner_pid[0][0]} "
            f"(application {children.application}, active, for "
        ), loser.err
        assert loser.err.count("\n") == 1
    [winner] = [c for c in done if c.code == 0]
    assert len(winner.out.splitlines()) == 20
    assert schema.version_row() == [(20, False)]
    assert audit_rows(schema) == [(version, 1) for version in range(2, 21)]
    assert history(schema) == [(version, "up", "applied", version) for version in range(1, 21)]


def test_ups_and_downs_racing_leave_a_consistent_state(
    schema: Schema, migrations: Migrations, children: Children
) -> None:
    """4 ``up`` and 4 ``down 1`` in any order: the history replays to the final version."""
    migrations.pair(
        1,
        "audit",
        "CREATE TABLE audit (version int NOT NULL, pid int NOT NULL);",
        "DROP TABLE audit;",
    )
    for version in range(2, 11):
        migrations.pair(
            version,
            f"table_{version}",
            f"CREATE TABLE t{version} (id int);\n"
            f"INSERT INTO audit VALUES ({version}, pg_backend_pid());",
            f"DROP TABLE t{version};\nDELETE FROM audit WHERE version = {version};",
        )
    engine.up(5, path=migrations.path)
    prepared = len(history(schema))
    path = ("--path", str(migrations.path))
    commands = [("sqlmigrate_up", *path), ("sqlmigrate_down", "1", *path)] * (PROCESSES // 2)
    done = race(schema, children, commands)

    assert [c.code for c in done] == [0] * PROCESSES, "\n".join(c.describe() for c in done)
    for child in done:
        if child.args[0] == "sqlmigrate_down":
            assert OK_LINE.fullmatch(child.out.strip()) is not None, child.describe()
    [(final, dirty)] = schema.version_row()
    assert dirty is False
    assert 1 <= final <= 10
    tables = schema.tables()
    for version in range(2, 11):
        assert (f"t{version}" in tables) == (version <= final), (version, final)
    assert audit_rows(schema) == [(version, 1) for version in range(2, final + 1)]

    rows = history(schema)
    assert all(outcome == "applied" for _, _, outcome, _ in rows), rows
    raced = rows[prepared:]
    assert sum(d == "down" for _, d, _, _ in raced) == PROCESSES // 2
    assert sum(d == "up" for _, d, _, _ in raced) == final - 5 + PROCESSES // 2
    # Replaying every row in commit order walks one step at a time to the final version.
    current = 0
    for version, direction, _, resulting in rows:
        if direction == "up":
            assert (version, resulting) == (current + 1, current + 1), rows
        else:
            assert (version, resulting) == (current, current - 1 if current > 1 else -1), rows
        current = max(resulting, 0)
    assert current == final


@pytest.mark.parametrize(
    "before", ["", "SELECT pg_sleep(1.2);"], ids=["waiters-aborted", "migration-aborted"]
)
def test_waiting_processes_do_not_deadlock_a_concurrent_index_build(
    schema: Schema, migrations: Migrations, children: Children, before: str
) -> None:
    """Several deploys at once while a pending file builds an index concurrently."""
    audited(
        migrations,
        12,
        {5: before, 6: "CREATE INDEX CONCURRENTLY audit_version ON audit (version);"},
    )
    up = ("sqlmigrate_up", "--path", str(migrations.path))
    done = race(schema, children, [up] * PROCESSES)

    details = "\n".join(c.describe() for c in done) + f"\nversion: {schema.version_row()}"
    assert [c.code for c in done] == [0] * PROCESSES, details
    assert schema.version_row() == [(12, False)]
    assert audit_rows(schema) == [(version, 1) for version in range(2, 13)]
