"""SQLMIGRATE_LOCK_STRATEGY = "table": golang-migrate pgx's table lock, directly and through
a real PgBouncer in transaction pooling; and the advisory lock refused there."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from sqlmigrate import engine
from sqlmigrate.backends.postgresql import advisory_lock_id
from sqlmigrate.exceptions import LockTimeoutError, MigrationFailedError

from .conftest import Migrations, Schema, run_command, run_manage, spawn_manage
from .pgbouncer import PgBouncer

pytestmark = pytest.mark.django_db(transaction=True)

TABLE = override_settings(SQLMIGRATE_LOCK_STRATEGY="table")


def pgx_ids(name: str | None = None) -> list[int]:
    """pgx's lock_id: GenerateAdvisoryLockId(dbname), as the CLI ("/name") and the library."""
    name = name or str(connection.settings_dict["NAME"])
    return sorted([advisory_lock_id("/" + name), advisory_lock_id(name)])


def ids() -> list[int]:
    """Our lock rows' ids, in the order sqlmigrate names them (the CLI's first)."""
    name = str(connection.settings_dict["NAME"])
    return list(dict.fromkeys([advisory_lock_id("/" + name), advisory_lock_id(name)]))


def lock_rows(schema: Schema) -> list[int]:
    return [int(r[0]) for r in schema.query("SELECT lock_id FROM schema_lock ORDER BY 1")]


def seen_rows(migrations: Migrations) -> None:
    """Migrations that record, while they run, which lock rows exist."""
    migrations.pair(1, "seen", "CREATE TABLE seen AS SELECT lock_id FROM schema_lock;")
    migrations.pair(2, "more", "INSERT INTO seen SELECT lock_id FROM schema_lock;")


# -- directly ------------------------------------------------------------------------------


@TABLE
def test_the_lock_is_pgx_rows_held_while_it_runs(schema: Schema, migrations: Migrations) -> None:
    seen_rows(migrations)
    engine.up(path=migrations.path)
    assert sorted(int(r[0]) for r in schema.query("SELECT lock_id FROM seen")) == sorted(
        pgx_ids() * 2
    )
    assert lock_rows(schema) == []  # released
    [(definition,)] = schema.query(
        "SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable, ', ') "
        f"FROM information_schema.columns WHERE table_schema = '{schema.name}' "
        "AND table_name = 'schema_lock'"
    )
    assert definition == "lock_id bigint NO"
    # No session advisory lock was taken.
    assert schema.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == [(0,)]


@TABLE
def test_a_pgx_runners_row_excludes_us_and_unlock_clears_it(
    schema: Schema, migrations: Migrations, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations.pair(1, "a", "CREATE TABLE a (id int);")
    schema.query("CREATE TABLE schema_lock (lock_id BIGINT NOT NULL PRIMARY KEY)")  # as pgx
    cli_id = advisory_lock_id("/" + str(connection.settings_dict["NAME"]))
    schema.query(f"INSERT INTO schema_lock (lock_id) VALUES ({cli_id})")  # a crashed pgx CLI

    with pytest.raises(LockTimeoutError) as raised:
        engine.up(path=migrations.path, lock_timeout=0.3)
    [(xid, age)] = schema.query("SELECT xmin::text, age(xmin) FROM schema_lock")
    assert str(raised.value) == (
        f"timeout: can't acquire database lock: waited 0.3 s for the lock row in "
        f"{schema.name}.schema_lock (lock_id {cli_id}, inserted by transaction {xid}, {age} "
        f'transactions ago; SQLMIGRATE_LOCK_STRATEGY = "table", pgx\'s x-lock-strategy=table). '
        f"Another migration is running: wait for it, or raise --lock-timeout / "
        f"SQLMIGRATE_LOCK_TIMEOUT. If none is running, a runner that crashed left its row: "
        f"see and clear it with `python manage.py sqlmigrate_unlock`"
    )
    assert "a" not in schema.tables()

    shown = f"{schema.name}.schema_lock: lock row lock_id {cli_id} (inserted by transaction {xid}"
    refused = run_command("sqlmigrate_unlock", "--noinput")
    assert refused.code == 1
    assert refused.out.startswith(shown)
    assert refused.err == (
        "sqlmigrate_unlock would remove the lock row: run it without --noinput to be asked, "
        "or pass --yes to mean it"
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert run_command("sqlmigrate_unlock").code == 1
    assert lock_rows(schema) == [cli_id]

    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    cleared = run_command("sqlmigrate_unlock")
    assert cleared.code == 0
    assert cleared.out.splitlines()[1:] == [f"removed 1 lock row(s) from {schema.name}.schema_lock"]
    assert lock_rows(schema) == []
    assert run_command("sqlmigrate_unlock").out == f"{schema.name}.schema_lock: not locked\n"
    engine.up(path=migrations.path)
    assert "a" in schema.tables()


@TABLE
def test_a_version_write_after_the_row_was_removed_is_refused(
    schema: Schema, migrations: Migrations
) -> None:
    migrations.pair(1, "a", "CREATE TABLE a (id int);")
    migrations.pair(2, "b", "CREATE TABLE b (id int);\nDELETE FROM schema_lock;")
    with pytest.raises(MigrationFailedError) as raised:
        engine.up(path=migrations.path)
    assert raised.value.reason == (
        f"2_b.up.sql ran, but sqlmigrate could not record it: this run's lock row (lock_id "
        f"{', '.join(map(str, ids()))} in {schema.name}.schema_lock) is gone: it was removed "
        f"(sqlmigrate_unlock, or a DELETE), so another runner may be migrating now. Nothing "
        f"more was written"
    )
    # The atomic file went with its version write: nothing of 2 stayed.
    assert schema.version_row() == [(1, False)]
    assert "b" not in schema.tables()


def test_unlock_with_the_advisory_strategy_names_the_holder(schema: Schema) -> None:
    result = run_command("sqlmigrate_unlock", "--noinput")
    assert (result.code, result.out) == (
        0,
        f"{schema.name}.schema_migrations (advisory): not locked\n",
    )


# -- through PgBouncer in transaction pooling --------------------------------------------


def bounced(migrations: Migrations) -> None:
    migrations.pair(1, "jobs", "CREATE TABLE jobs (id int);", "DROP TABLE jobs;")
    migrations.pair(
        2,
        "index",
        "-- sqlmigrate: lock_timeout=2s\nALTER TABLE jobs ADD COLUMN p int;\n"
        "CREATE INDEX CONCURRENTLY jobs_p ON jobs (p);\n",
        "DROP INDEX CONCURRENTLY jobs_p;\nALTER TABLE jobs DROP COLUMN p;\n",
    )
    migrations.pair(3, "wrapped", "BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\n", "DROP TABLE t;")


def test_up_and_down_through_pgbouncer(
    pgbouncer: PgBouncer, schema: Schema, migrations: Migrations
) -> None:
    bounced(migrations)
    url = pgbouncer.url_for_schema(schema.name)
    path = str(migrations.path)
    up = run_manage("sqlmigrate_up", "--path", path, url=url, SQLMIGRATE_LOCK_STRATEGY="table")
    assert (up.returncode, up.stderr) == (0, "")
    assert [line.split(" (")[0] for line in up.stdout.splitlines()] == [
        "OK   1_jobs.up.sql",
        "OK   2_index.up.sql",
        "OK   3_wrapped.up.sql",
    ]
    assert schema.version_row() == [(3, False)]
    assert schema.query(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'jobs_p'::regclass"
    ) == [(True,)]
    down = run_manage(
        "sqlmigrate_down", "2", "--path", path, url=url, SQLMIGRATE_LOCK_STRATEGY="table"
    )
    assert (down.returncode, down.stderr) == (0, "")
    assert schema.version_row() == [(1, False)]
    assert schema.tables() == {
        "jobs",
        "schema_lock",
        "schema_migrations",
        "schema_migrations_history",
    }
    assert lock_rows(schema) == []


def test_two_runners_through_pgbouncer_exclude_each_other(
    pgbouncer: PgBouncer, schema: Schema, migrations: Migrations
) -> None:
    """The first runner is held inside its migration (by a gate the test holds) until the
    second has given up on the lock."""
    gate = advisory_lock_id("gate", schema.name)
    gated = f"-- sqlmigrate: lock_timeout=0\nSELECT pg_advisory_xact_lock_shared({gate});\n"
    migrations.pair(1, "slow", gated + "CREATE TABLE slow (id int);")
    url = pgbouncer.url_for_schema(schema.name)
    env = {"SQLMIGRATE_LOCK_STRATEGY": "table"}
    path = str(migrations.path)
    with schema.connect() as holder:
        holder.execute(f"SELECT pg_advisory_lock({gate})")
        first = spawn_manage("sqlmigrate_up", "--path", path, url=url, **env)
        try:
            deadline = time.monotonic() + 30
            while not gate_waiters(schema, gate):
                assert first.poll() is None, first.communicate()
                assert time.monotonic() < deadline, "the first runner never reached its gate"
                time.sleep(0.02)
            assert len(lock_rows(schema)) == len(ids())  # it holds the lock
            second = run_manage(
                "sqlmigrate_up", "--path", path, "--lock-timeout", "0.5", url=url, **env
            )
        finally:
            holder.execute(f"SELECT pg_advisory_unlock({gate})")
            out, err = first.communicate(timeout=60)
    assert (first.returncode, err) == (0, ""), err
    assert out.startswith("OK   1_slow.up.sql")
    assert second.returncode == 1
    assert second.stdout == ""
    assert second.stderr.startswith(
        f"error: timeout: can't acquire database lock: waited 0.5 s for the lock row in "
        f"{schema.name}.schema_lock (lock_id "
    ), second.stderr
    assert schema.version_row() == [(1, False)]
    assert lock_rows(schema) == []


def gate_waiters(schema: Schema, gate: int) -> int:
    rows = schema.query(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        f"AND objid = '{gate % 2**32}'::oid"
    )
    return int(rows[0][0])


def test_the_advisory_lock_is_refused_through_transaction_pooling(
    pgbouncer: PgBouncer, schema: Schema, migrations: Migrations
) -> None:
    migrations.pair(1, "a", "CREATE TABLE a (id int);")
    url = pgbouncer.url_for_schema(schema.name)
    result = run_manage("sqlmigrate_up", "--path", str(migrations.path), url=url)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: the connection goes through a pooler in transaction pooling mode (PgBouncer "
        "pool_mode = transaction): its server session (pid "
    ), result.stderr
    assert result.stderr.endswith(
        ") is lent to other clients between transactions, so a session advisory lock would "
        "not hold and two runners could migrate at once. "
        'Set SQLMIGRATE_LOCK_STRATEGY = "table" (golang-migrate pgx\'s x-lock-strategy=table), '
        "or run migrations on a direct or session-pooled connection. Nothing was run\n"
    )
    assert schema.tables() == set()  # refused before anything was written
    assert schema.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == [(0,)]


def test_the_advisory_lock_works_directly(schema: Schema, migrations: Migrations) -> None:
    """The control: the same run on a direct connection is not refused."""
    migrations.pair(1, "a", "CREATE TABLE a (id int);")
    result = run_manage("sqlmigrate_up", "--path", str(migrations.path), url=schema.url)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert Path(migrations.path).is_dir()


def test_limits_reach_each_part_through_pgbouncer(
    pgbouncer: PgBouncer, schema: Schema, migrations: Migrations
) -> None:
    """Session settings do not last through transaction pooling: a dirty-protocol file gets
    its limits in each part's own message instead."""
    record = "INSERT INTO seen SELECT current_setting('lock_timeout');\n"
    schema.query("CREATE TABLE seen (lock text); CREATE TABLE jobs (id int)")
    index = "CREATE INDEX CONCURRENTLY jobs_id ON jobs (id);\n"
    migrations.pair(1, "seen", f"-- sqlmigrate: lock_timeout=3s\n{record}{index}{record}")
    url = pgbouncer.url_for_schema(schema.name)
    result = run_manage(
        "sqlmigrate_up", "--path", str(migrations.path), url=url, SQLMIGRATE_LOCK_STRATEGY="table"
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert schema.query("SELECT * FROM seen") == [("3s",), ("3s",)]
