"""The same flows on every vendor: up, down, goto, force, version, failures, bad input,
concurrent runners; exact version rows, tables and messages. A runner killed at each
phase of a run, on every vendor: test_crash.py."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings

from sqlmigrate import engine
from sqlmigrate.exceptions import (
    DirtyError,
    LockTimeoutError,
    MigrationFailedError,
    SqlParseError,
)

from .conftest import Migrations, run_command, spawn_manage
from .vendors import Vendor

pytestmark = pytest.mark.django_db(transaction=True)

#: a statement no vendor can run in a transaction, so its file takes the dirty protocol
NON_ATOMIC = {
    "postgresql": "CREATE INDEX CONCURRENTLY t1_id ON t1 (id);",
    "sqlite": "VACUUM;",
    "mysql": "CREATE TABLE t1x (id int);",
}

#: the column of "nosuch" in "INSERT INTO nosuch ...": PostgreSQL names it; SQLite gives
#: no position, so the failing statement's start is reported
FAILED_AT = {"postgresql": 13, "sqlite": 1, "mysql": 1}


def three(migrations: Migrations) -> None:
    migrations.pair(1, "create_t1", "CREATE TABLE t1 (id int);", "DROP TABLE t1;")
    migrations.pair(2, "create_t2", "CREATE TABLE t2 (id int);", "DROP TABLE t2;")
    migrations.pair(3, "create_t3", "CREATE TABLE t3 (id int);", "DROP TABLE t3;")


def up(vendor: Vendor, migrations: Migrations, steps: int | None = None) -> engine.RunResult:
    return engine.up(steps, using=vendor.alias, path=migrations.path)


class TestFlows:
    def test_up_version_down_up(self, vendor: Vendor, migrations: Migrations) -> None:
        three(migrations)
        assert up(vendor, migrations).version_after == 3
        assert vendor.version_row() == [(3, False)]
        assert {"t1", "t2", "t3"} <= vendor.tables()
        assert engine.version(using=vendor.alias) == engine.VersionState(3, False)
        engine.down(1, using=vendor.alias, path=migrations.path)
        assert vendor.version_row() == [(2, False)]
        assert "t3" not in vendor.tables()
        assert not up(vendor, migrations, 0).changed
        assert up(vendor, migrations).version_after == 3

    def test_goto_force_and_down_all(self, vendor: Vendor, migrations: Migrations) -> None:
        three(migrations)
        engine.goto(2, using=vendor.alias, path=migrations.path)
        assert vendor.version_row() == [(2, False)]
        engine.goto(1, using=vendor.alias, path=migrations.path)
        assert vendor.version_row() == [(1, False)]
        engine.force(3, using=vendor.alias, path=migrations.path)
        assert vendor.version_row() == [(3, False)]
        assert "t1" in vendor.tables()
        assert "t2" not in vendor.tables()
        engine.force(-1, using=vendor.alias, path=migrations.path)
        assert vendor.version_row() == []
        engine.force(1, using=vendor.alias, path=migrations.path)
        engine.down(None, using=vendor.alias, path=migrations.path)
        assert vendor.version_row() == []
        assert not {"t1", "t2", "t3"} & vendor.tables()

    def test_commands_print_as_on_postgresql(self, vendor: Vendor, migrations: Migrations) -> None:
        three(migrations)
        done = run_command("sqlmigrate_up", "--path", str(migrations.path), *vendor.options())
        assert done.code == 0, done.err
        lines = done.out.splitlines()
        assert [re.sub(r" \(.*\)$", "", line) for line in lines] == [
            "OK   1_create_t1.up.sql",
            "OK   2_create_t2.up.sql",
            "OK   3_create_t3.up.sql",
        ]
        version = run_command("sqlmigrate_version", *vendor.options())
        assert (version.out, version.code) == ("3\n", 0)

    def test_own_begin_commit_runs_atomically(self, vendor: Vendor, migrations: Migrations) -> None:
        migrations.pair(
            1, "wrapped", "BEGIN;\nCREATE TABLE w (id int);\nINSERT INTO w VALUES (1);\nCOMMIT;\n"
        )
        result = up(vendor, migrations)
        # MySQL commits around the CREATE TABLE: the file runs under the dirty protocol.
        assert [a.atomic for a in result.applied] == [vendor.name != "mysql"]
        assert vendor.query("SELECT id FROM w") == [(1,)]
        assert vendor.version_row() == [(1, False)]

    def test_empty_file_moves_the_version(self, vendor: Vendor, migrations: Migrations) -> None:
        migrations.pair(1, "empty", "")
        assert up(vendor, migrations).version_after == 1
        assert vendor.version_row() == [(1, False)]


class TestFailures:
    def test_failing_file_leaves_nothing_and_the_previous_version_clean(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        migrations.pair(1, "create_t1", "CREATE TABLE t1 (id int);")
        migrations.pair(2, "bad", "INSERT INTO t1 VALUES (1);\nINSERT INTO nosuch VALUES (1);\n")
        with pytest.raises(MigrationFailedError) as failed:
            up(vendor, migrations)
        assert failed.value.location.endswith(f"2_bad.up.sql:2:{FAILED_AT[vendor.name]}")
        assert "nosuch" in failed.value.reason
        assert vendor.version_row() == [(1, False)]
        assert vendor.query("SELECT id FROM t1") == []

    def test_non_atomic_failure_is_dirty_until_forced(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        migrations.pair(1, "create_t1", "CREATE TABLE t1 (id int);")
        text = f"INSERT INTO t1 VALUES (1);\n{NON_ATOMIC[vendor.name]}\nINSERT INTO nosuch VALUES (1);\n"
        migrations.pair(2, "maintenance", text)
        with pytest.raises(MigrationFailedError) as failed:
            up(vendor, migrations)
        assert failed.value.location.endswith(f"2_maintenance.up.sql:3:{FAILED_AT[vendor.name]}")
        assert "(dirty)" in failed.value.state
        assert vendor.version_row() == [(2, True)]
        assert vendor.query("SELECT id FROM t1") == [(1,)]  # committed before the failure
        with pytest.raises(DirtyError) as dirty:
            up(vendor, migrations)
        assert dirty.value.version == 2
        engine.force(2, using=vendor.alias, path=migrations.path)
        assert vendor.version_row() == [(2, False)]

    def test_nul_byte_is_refused_before_anything_runs(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        migrations.pair(1, "nul", "CREATE TABLE n (id int);\nSELECT 'a\x00b';\n")
        with pytest.raises(SqlParseError) as refused:
            up(vendor, migrations)
        assert re.search(r"/1_nul\.up\.sql:2:10: a NUL byte \(0x00\): ", str(refused.value))
        assert str(refused.value).endswith("; nothing was run")
        assert "schema_migrations" not in vendor.tables()

    def test_lock_held_elsewhere_times_out_cleanly(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        three(migrations)
        holder = spawn_manage("shell", "-c", HOLD_LOCK, url=vendor.url)
        try:
            assert holder.stdout is not None
            lines = iter(holder.stdout.readline, "")
            assert "held" in (line.strip() for line in lines)
            with pytest.raises(LockTimeoutError) as timeout:
                engine.up(using=vendor.alias, path=migrations.path, lock_timeout=0.5)
            assert str(timeout.value).startswith(
                "timeout: can't acquire database lock: waited 0.5 s"
            )
        finally:
            holder.kill()
            holder.communicate()
        assert "schema_migrations" not in vendor.tables()


#: a child process that takes the migration lock the way sqlmigrate does, then sleeps
HOLD_LOCK = (
    "from sqlmigrate.backends import backend_for; from django.db import connection; "
    "import time; b = backend_for(connection, 'schema_migrations'); b.open(); b.lock(5); "
    "print('held', flush=True); time.sleep(60)"
)

PROCESSES = 8
STATUS_URL = "/admin/sqlmigrate/migrationstatus/"


def test_eight_runners_apply_each_migration_exactly_once(
    vendor: Vendor, migrations: Migrations
) -> None:
    migrations.pair(1, "audit", "CREATE TABLE audit (version int);\nINSERT INTO audit VALUES (1);")
    for version in range(2, 9):
        migrations.pair(version, f"step{version}", f"INSERT INTO audit VALUES ({version});")
    children = [
        spawn_manage(
            "sqlmigrate_up", "--path", str(migrations.path), "--lock-timeout", "60", url=vendor.url
        )
        for _ in range(PROCESSES)
    ]
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        results.append((child.returncode, out, err))
    assert [code for code, _, _ in results] == [0] * PROCESSES, results
    applied = sorted(
        line.split()[1]
        for _, out, _ in results
        for line in out.splitlines()
        if line.startswith("OK")
    )
    assert applied == sorted(
        f"{v}_{n}.up.sql" for v, n in [(1, "audit"), *[(v, f"step{v}") for v in range(2, 9)]]
    )
    assert sorted(row[0] for row in vendor.query("SELECT version FROM audit")) == list(range(1, 9))
    assert vendor.version_row() == [(8, False)]
    history = vendor.query(
        "SELECT version, outcome FROM schema_migrations_history WHERE direction = 'up' ORDER BY id"
    )
    assert history == [(v, "applied") for v in range(1, 9)]


def test_status_command_reads_history(vendor: Vendor, migrations: Migrations) -> None:
    three(migrations)
    up(vendor, migrations, 2)
    done = run_command("sqlmigrate_status", "--path", str(migrations.path), *vendor.options())
    assert done.code == 0, done.err
    assert "1_create_t1" in done.out
    assert "3_create_t3" in done.out


def test_admin_page_and_checks_read_every_vendor(
    vendor: Vendor, migrations: Migrations, request: pytest.FixtureRequest
) -> None:
    if vendor.schema is not None:  # the admin's own tables are in public
        vendor.query(f'SET search_path TO "{vendor.schema.name}", public')
    admin_client: Client = request.getfixturevalue("admin_client")
    three(migrations)
    up(vendor, migrations, 2)
    with override_settings(SQLMIGRATE_DIR=migrations.path):
        response = admin_client.get(f"{STATUS_URL}?database={vendor.alias}")
        checked = run_command("check", "--database", vendor.alias)
    assert response.status_code == 200
    facts = {fact.label: fact.value for fact in response.context["facts"]}
    assert facts["Database"] == vendor.alias
    rows = response.context["status"].rows
    assert [(row.version, row.state) for row in rows] == [
        (1, "applied"),
        (2, "current"),
        (3, "pending"),
    ]
    assert checked.code == 0, checked.err
    assert f"(sqlmigrate.W001) Database '{vendor.alias}' has 1 unapplied SQL migration" in (
        checked.err
    )
