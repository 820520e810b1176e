"""Bounded lock waits for a migration's DDL, and retries, against a real blocking session.

The blocker is another session with an open transaction holding ACCESS SHARE
on the table (what any long SELECT holds); the migration wants ACCESS
EXCLUSIVE. Without a lock timeout the migration queues behind the blocker
and every later query on the table (the "site") queues behind the migration.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from sqlmigrate import engine
from sqlmigrate.exceptions import MigrationFailedError, SqlParseError

from .conftest import Migrations, Schema, run_command, spawn_manage

pytestmark = pytest.mark.django_db(transaction=True)

HISTORY = "schema_migrations_history"
ALTER = "-- add a column\nALTER TABLE jobs ADD COLUMN priority int;\n"
WAITING = re.compile(
    r"2_alter\.up\.sql waiting for a lock on jobs held by pid (\d+) "
    r"\(idle in transaction, query started \d+ s ago\): retry (\d)/(\d) in ([0-9.]+) s"
)


@pytest.fixture
def jobs(schema: Schema, migrations: Migrations) -> Schema:
    migrations.pair(1, "jobs", "CREATE TABLE jobs (id int);", "DROP TABLE jobs;")
    engine.up(path=migrations.path)
    return schema


@pytest.fixture
def blocker(jobs: Schema) -> Iterator[psycopg.Connection[Any]]:
    """A session in a transaction holding ACCESS SHARE on jobs (a long report, say)."""
    with jobs.connect() as session:
        session.execute("SET application_name = 'report'")
        session.execute("BEGIN")
        session.execute("LOCK TABLE jobs IN ACCESS SHARE MODE")
        yield session


def pid_of(session: psycopg.Connection[Any]) -> int:
    return int(session.info.backend_pid)


def columns(schema: Schema) -> list[str]:
    rows = schema.query(
        "SELECT column_name FROM information_schema.columns "
        f"WHERE table_schema = '{schema.name}' AND table_name = 'jobs' ORDER BY ordinal_position"
    )
    return [row[0] for row in rows]


def outcomes(schema: Schema) -> list[tuple[int, str]]:
    rows = schema.query(f"SELECT version, outcome FROM {HISTORY} ORDER BY id")
    return [(int(v), o) for v, o in rows]


def wait_until_queued(schema: Schema) -> None:
    """Until a session waits for a lock on jobs (the migration, behind the blocker)."""
    deadline = time.monotonic() + 30
    sql = (
        "SELECT count(*) FROM pg_locks WHERE NOT granted "
        f"AND relation = to_regclass('\"{schema.name}\".jobs')"
    )
    while schema.query(sql)[0][0] == 0:
        assert time.monotonic() < deadline, "the migration never queued for its lock"
        time.sleep(0.01)


# -- (a) the site is not queued behind the migration for longer than the timeout ------------


@pytest.mark.parametrize(
    ("timeout", "site_waits_at_most"),
    [pytest.param("0.5", 0.5 + 1.0, id="bounded"), pytest.param("0", None, id="off")],
)
def test_site_queries_wait_at_most_the_timeout(
    jobs: Schema,
    migrations: Migrations,
    blocker: psycopg.Connection[Any],
    timeout: str,
    site_waits_at_most: float | None,
) -> None:
    migrations.pair(2, "alter", ALTER)
    args = ("--ddl-lock-timeout", timeout, "--retries", "0")
    child = spawn_manage("sqlmigrate_up", "--path", str(migrations.path), *args, url=jobs.url)
    try:
        wait_until_queued(jobs)
        with jobs.connect() as site:
            # The site's own limit: without the migration's timeout it would wait for ever.
            site.execute("SET statement_timeout = '3s'")
            started = time.monotonic()
            try:
                site.execute("SELECT count(*) FROM jobs")
                waited: float | None = time.monotonic() - started
            except psycopg.errors.QueryCanceled:
                waited = None
        # The blocker still holds its lock: the site got through only because the
        # migration gave up its place in the queue.
        assert blocker.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    finally:
        blocker.rollback()
        _, err = child.communicate(timeout=60)
    if site_waits_at_most is None:
        assert waited is None  # queued behind the migration until its own timeout
        assert child.returncode == 0, err
    else:
        assert waited is not None
        assert waited < site_waits_at_most, waited
        assert child.returncode == 1
        assert "canceling statement due to lock timeout" in err
        assert jobs.version_row() == [(1, False)]


# -- (b) the retry succeeds when the blocker goes ------------------------------------------


def test_retry_succeeds_when_the_blocker_goes(
    jobs: Schema, migrations: Migrations, blocker: psycopg.Connection[Any]
) -> None:
    migrations.pair(2, "alter", ALTER)
    said: list[str] = []

    def warn(message: str) -> None:
        said.append(message)
        if len(said) == 2:
            blocker.rollback()  # the report ends during the second pause

    result = engine.up(path=migrations.path, ddl_lock_timeout=0.2, retries=5, warn=warn)

    assert [step.version for step in result.applied] == [2]
    matches = [WAITING.fullmatch(line) for line in said]
    assert all(matches), said
    assert [(m[1], m[2], m[3], m[4]) for m in matches if m] == [
        (str(pid_of(blocker)), "1", "5", "0.2"),
        (str(pid_of(blocker)), "2", "5", "0.4"),
    ]
    assert columns(jobs) == ["id", "priority"]
    assert jobs.version_row() == [(2, False)]
    assert outcomes(jobs) == [(1, "applied"), (2, "failed"), (2, "failed"), (2, "applied")]


# -- (c) the error is exact when it does not ---------------------------------------------


def test_the_error_names_the_blocker_when_it_stays(
    jobs: Schema, migrations: Migrations, blocker: psycopg.Connection[Any]
) -> None:
    migrations.pair(2, "alter", ALTER)
    path = str(migrations.path)
    pid = pid_of(blocker)
    [start] = jobs.query(
        "SELECT to_char(query_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') "
        f"FROM pg_stat_activity WHERE pid = {pid}"
    )
    args = ("--ddl-lock-timeout", "0.2", "--retries", "1")
    result = run_command("sqlmigrate_up", "--path", path, *args)

    assert result.code == 1
    lines = result.err.splitlines()
    assert re.fullmatch(
        rf"2_alter\.up\.sql waiting for a lock on jobs held by pid {pid} \(idle in "
        r"transaction, query started \d+ s ago\): retry 1/1 in 0\.2 s",
        lines[0],
    ), lines[0]
    assert re.fullmatch(
        rf"{re.escape(path)}/2_alter\.up\.sql:2:1: canceling statement due to lock timeout: "
        rf"waited 0\.2 s for a lock on jobs, held by pid {pid} \(application report, idle in "
        rf"transaction, holding AccessShareLock; its query started {start[0]} UTC, \d+ s "
        r"ago: LOCK TABLE jobs IN ACCESS SHARE MODE\) \(tried 2 times\) \(55P03\)",
        lines[1],
    ), lines[1]
    assert lines[2:] == [
        "Nothing of 2_alter.up.sql was applied: its transaction was rolled back and the "
        "database is still at version 1 (clean).",
        f"End that session's transaction (or cancel it: SELECT pg_terminate_backend(pid) for "
        f"pid {pid}), or run this at a quieter time; or raise --ddl-lock-timeout / --retries "
        f"(SQLMIGRATE_DDL_LOCK_TIMEOUT, SQLMIGRATE_DDL_RETRIES), then run: python manage.py "
        f"sqlmigrate_up",
    ]
    assert jobs.version_row() == [(1, False)]
    assert columns(jobs) == ["id"]
    assert outcomes(jobs) == [(1, "applied"), (2, "failed"), (2, "failed")]


# -- (d) a file opts out, or changes the limits, with a leading comment --------------------


def release_after(session: psycopg.Connection[Any], seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, session.rollback)
    timer.start()
    return timer


def test_a_file_opts_out_with_a_comment(
    jobs: Schema, migrations: Migrations, blocker: psycopg.Connection[Any]
) -> None:
    migrations.pair(2, "alter", "-- sqlmigrate: lock_timeout=0\n" + ALTER)
    said: list[str] = []
    started = time.monotonic()
    timer = release_after(blocker, 1.0)
    try:
        engine.up(path=migrations.path, ddl_lock_timeout=0.2, retries=0, warn=said.append)
    finally:
        timer.join()
    assert time.monotonic() - started >= 1.0  # it waited for the blocker, without limit
    assert said == []
    assert columns(jobs) == ["id", "priority"]
    assert outcomes(jobs) == [(1, "applied"), (2, "applied")]


def test_a_files_own_set_has_the_last_word(
    jobs: Schema, migrations: Migrations, blocker: psycopg.Connection[Any]
) -> None:
    migrations.pair(2, "alter", "SET LOCAL lock_timeout = 0;\n" + ALTER)
    timer = release_after(blocker, 1.0)
    try:
        engine.up(path=migrations.path, ddl_lock_timeout=0.2, retries=0)
    finally:
        timer.join()
    assert columns(jobs) == ["id", "priority"]


def test_the_comment_can_raise_the_retries(
    jobs: Schema, migrations: Migrations, blocker: psycopg.Connection[Any]
) -> None:
    migrations.pair(2, "alter", "-- sqlmigrate: lock_timeout=100ms, retries=2\n" + ALTER)
    said: list[str] = []
    with pytest.raises(MigrationFailedError) as raised:
        engine.up(path=migrations.path, ddl_lock_timeout=5, retries=0, warn=said.append)
    assert [m[2] + "/" + m[3] + " " + m[4] for m in map(WAITING.fullmatch, said) if m] == [
        "1/2 0.1",
        "2/2 0.2",
    ]
    assert "waited 0.1 s for a lock on jobs" in str(raised.value)
    assert "(tried 3 times)" in str(raised.value)


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("-- sqlmigrate: lock_tiemout=0\n", "1:16", "unknown key 'lock_tiemout'"),
        (
            "-- a comment\n--sqlmigrate: lock_timeout=soon\n",
            "2:15",
            "lock_timeout must be seconds (e.g. 5, 2.5, 500ms, 2min), not 'soon'",
        ),
        ("-- sqlmigrate: retries=-1\n", "1:16", "retries must be a whole number, not '-1'"),
        ("-- sqlmigrate: lock_timeout\n", "1:16", "cannot read 'lock_timeout'"),
        ("-- sqlmigrate:\n", "1:15", "an empty sqlmigrate: comment"),
        (
            "-- sqlmigrate: lock_timeout=1s statement_timeout=2x\n",
            "1:32",
            "statement_timeout must be seconds (e.g. 5, 2.5, 500ms, 2min), not '2x'",
        ),
    ],
)
def test_bad_comments_are_refused_before_anything_runs(
    jobs: Schema, migrations: Migrations, text: str, where: str, problem: str
) -> None:
    migrations.pair(2, "alter", text + ALTER)
    with pytest.raises(SqlParseError) as raised:
        engine.up(path=migrations.path)
    assert str(raised.value) == (
        f"{migrations.path}/2_alter.up.sql:{where}: {problem} in a `-- sqlmigrate:` comment: "
        f"it takes lock_timeout, statement_timeout, retries (e.g. `-- sqlmigrate: "
        f"lock_timeout=0`); nothing was run"
    )
    assert jobs.version_row() == [(1, False)]


def test_statement_timeout_applies_to_the_files_statements(
    jobs: Schema, migrations: Migrations
) -> None:
    migrations.pair(2, "slow", "-- sqlmigrate: statement_timeout=200ms\nSELECT pg_sleep(2);")
    with pytest.raises(MigrationFailedError) as raised:
        engine.up(path=migrations.path)
    assert raised.value.sqlstate == "57014"
    assert raised.value.location.endswith("2_slow.up.sql:2:1")
    assert jobs.version_row() == [(1, False)]
    # The session is put back: sqlmigrate's own statements ran without that limit.
    assert outcomes(jobs) == [(1, "applied"), (2, "failed")]


# -- (e) a dirty-protocol file is retried only before anything of it ran -------------------

INDEX_AFTER = "CREATE INDEX CONCURRENTLY jobs_priority ON jobs (priority);\n"


def test_dirty_protocol_file_retried_when_its_first_part_failed(
    jobs: Schema, migrations: Migrations, blocker: psycopg.Connection[Any]
) -> None:
    migrations.pair(2, "alter", ALTER + INDEX_AFTER)
    said: list[str] = []

    def warn(message: str) -> None:
        said.append(message)
        blocker.rollback()

    engine.up(path=migrations.path, ddl_lock_timeout=0.2, retries=3, warn=warn)
    assert len(said) == 1
    assert WAITING.fullmatch(said[0]), said
    assert columns(jobs) == ["id", "priority"]
    assert jobs.version_row() == [(2, False)]
    assert outcomes(jobs) == [(1, "applied"), (2, "failed"), (2, "applied")]


def test_dirty_protocol_file_put_back_clean_when_nothing_ran(
    jobs: Schema, migrations: Migrations, blocker: psycopg.Connection[Any]
) -> None:
    migrations.pair(2, "alter", ALTER + INDEX_AFTER)
    with pytest.raises(MigrationFailedError) as raised:
        engine.up(path=migrations.path, ddl_lock_timeout=0.2, retries=0)
    assert raised.value.state == (
        "Nothing of 2_alter.up.sql ran: its first statements could not get their lock and "
        "were rolled back, so the version was put back to version 1 (clean)."
    )
    assert f"held by pid {pid_of(blocker)} (application report" in raised.value.reason
    assert jobs.version_row() == [(1, False)]
    assert columns(jobs) == ["id"]


def test_dirty_protocol_file_not_retried_once_something_ran(
    jobs: Schema, migrations: Migrations, blocker: psycopg.Connection[Any]
) -> None:
    text = (
        "CREATE TABLE other (id int);\n"
        "CREATE INDEX CONCURRENTLY other_id ON other (id);\n"
        "ALTER TABLE jobs ADD COLUMN priority int;\n"
    )
    migrations.pair(2, "alter", text)
    said: list[str] = []
    with pytest.raises(MigrationFailedError) as raised:
        engine.up(path=migrations.path, ddl_lock_timeout=0.2, retries=3, warn=said.append)
    assert said == []
    assert raised.value.location.endswith("2_alter.up.sql:3:1")
    assert "(tried 1 time)" in raised.value.reason
    assert "marked version 2 (dirty)" in raised.value.state
    assert jobs.version_row() == [(2, True)]
    assert "other" in jobs.tables()


# -- what each statement runs with ------------------------------------------------------------

RECORD = (
    "INSERT INTO seen SELECT current_setting('lock_timeout'), "
    "current_setting('statement_timeout');\n"
)


@pytest.mark.parametrize("kind", ["atomic", "dirty"])
def test_the_files_statements_run_with_the_limits_and_its_own_set_wins(
    jobs: Schema, migrations: Migrations, kind: str
) -> None:
    jobs.query("CREATE TABLE seen (lock text, statement text)")
    middle = "CREATE INDEX CONCURRENTLY jobs_id ON jobs (id);\n" if kind == "dirty" else ""
    text = f"-- sqlmigrate: statement_timeout=1min\n{RECORD}{middle}SET lock_timeout = '7s';\n"
    migrations.pair(2, "seen", text + RECORD)
    engine.up(path=migrations.path, ddl_lock_timeout=2)
    assert jobs.query("SELECT * FROM seen") == [("2s", "1min"), ("7s", "1min")]
    # After the file the session is as it was: sqlmigrate's limits and the file's SET are gone.
    assert jobs.query(
        "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"
    ) == [("0", "0")]


def test_validate_checks_the_comments_offline(migrations: Migrations) -> None:
    migrations.pair(1, "ok", "-- sqlmigrate: lock_timeout=10s retries=1\nSELECT 1;", "SELECT 1;")
    migrations.pair(2, "bad", "-- sqlmigrate: timeout=1\nSELECT 1;", "SELECT 1;")
    result = run_command("sqlmigrate_validate", path=migrations.path)
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"error: {migrations.path}/2_bad.up.sql:1:16: unknown key 'timeout' in a "
        f"`-- sqlmigrate:` comment: it takes lock_timeout, statement_timeout, retries (e.g. "
        f"`-- sqlmigrate: lock_timeout=0`); nothing was run"
    )


def test_a_concurrent_index_build_waits_for_older_transactions_without_limit(
    jobs: Schema, migrations: Migrations
) -> None:
    """CREATE INDEX CONCURRENTLY waits for every older snapshot (a lock wait the lock
    timeout would cut, leaving an INVALID index); its lock does not queue the site."""
    migrations.pair(2, "index", "CREATE INDEX CONCURRENTLY jobs_id ON jobs (id);")
    with jobs.connect() as report:
        report.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        report.execute("SELECT count(*) FROM jobs")  # holds its snapshot
        started = time.monotonic()
        timer = release_after(report, 1.0)
        try:
            engine.up(path=migrations.path, ddl_lock_timeout=0.2, retries=0)
        finally:
            timer.join()
    assert time.monotonic() - started >= 1.0
    assert jobs.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'jobs_id'::regclass") == [
        (True,)
    ]


@pytest.mark.parametrize(
    "isolation",
    [
        "BEGIN ISOLATION LEVEL SERIALIZABLE;\n",
        "BEGIN;\nSET TRANSACTION ISOLATION LEVEL REPEATABLE READ;\n",
    ],
)
def test_a_part_that_sets_its_isolation_level_runs_as_written(
    jobs: Schema, migrations: Migrations, isolation: str
) -> None:
    """Nothing may come before its isolation level, so it gets no limits of ours."""
    jobs.query("CREATE TABLE seen (lock text, isolation text)")
    record = (
        "INSERT INTO seen SELECT current_setting('lock_timeout'), "
        "current_setting('transaction_isolation');\n"
    )
    index = "CREATE INDEX CONCURRENTLY jobs_id ON jobs (id);\n"
    migrations.pair(2, "iso", f"{index}{isolation}{record}COMMIT;\n")
    engine.up(path=migrations.path, ddl_lock_timeout=2)
    [(lock, level)] = jobs.query("SELECT * FROM seen")
    assert (lock, level) == ("0", "serializable" if "SERIAL" in isolation else "repeatable read")
