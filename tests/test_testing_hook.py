"""The test-database hook: create_test_db applies the SQL migrations when asked to.

Each test creates real test databases through an extra DATABASES alias on
the test server (``extra_alias``), with a migrations folder in tmp_path.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import django
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.creation import BaseDatabaseCreation
from django.test import override_settings

from sqlmigrate import testing
from sqlmigrate.exceptions import MigrationFailedError

from .conftest import REPO, Migrations

TEST_DEFAULTS = {"CHARSET": None, "COLLATION": None, "MIGRATE": True, "MIRROR": None, "NAME": None}


@contextmanager
def extra_alias(alias: str, **overrides: Any) -> Iterator[BaseDatabaseWrapper]:
    """A DATABASES alias like default's, with ``overrides``, for the length of the block.

    Added to the live settings dict the connection handler reads (override_settings
    would not reach it: the handler keeps the dict it first read).
    """
    config = copy.deepcopy(connections["default"].settings_dict)
    config.update(TEST=dict(TEST_DEFAULTS), **overrides)
    databases = [connections.settings, django_settings.DATABASES]
    for dictionary in databases:
        dictionary[alias] = config
    try:
        yield connections[alias]
    finally:
        connections[alias].close()
        del connections[alias]
        for dictionary in databases:
            dictionary.pop(alias, None)


def query(connection: BaseDatabaseWrapper, sql: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def drop_database(connection: BaseDatabaseWrapper, name: str) -> None:
    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def hook(django_db_blocker: Any) -> Iterator[BaseDatabaseWrapper]:
    """Alias ``hook`` on a database of its own; its test database is dropped after."""
    name = f"hook_{uuid.uuid4().hex[:10]}"
    with django_db_blocker.unblock(), extra_alias("hook", NAME=name) as connection:
        yield connection
        drop_database(connection, f"test_{name}")


def create(connection: BaseDatabaseWrapper, verbosity: int = 0, keepdb: bool = False) -> str:
    # Django 6 deprecates the serialize argument (serialize_test_db() replaces it).
    serialize = {"serialize": False} if django.VERSION < (6,) else {}
    return connection.creation.create_test_db(
        verbosity=verbosity, autoclobber=True, keepdb=keepdb, **serialize
    )


def version_row(connection: BaseDatabaseWrapper) -> list[tuple[Any, ...]]:
    return query(connection, "SELECT version, dirty FROM schema_migrations")


def has_version_table(connection: BaseDatabaseWrapper) -> bool:
    rows = query(connection, "SELECT to_regclass('schema_migrations') IS NOT NULL")
    return bool(rows[0][0])


def pairs(migrations: Migrations, count: int) -> None:
    for version in range(1, count + 1):
        migrations.pair(version, f"t{version}", f"CREATE TABLE t{version} (id int);")


def applied_lines(err: str) -> list[str]:
    return re.findall(r"^  OK   (\S+) \(\d+\.\d ms\)$", err, re.MULTILINE)


class TestApplies:
    def test_named_alias_gets_the_sql_after_djangos_migrations(
        self, hook: BaseDatabaseWrapper, migrations: Migrations
    ) -> None:
        pairs(migrations, 2)
        with override_settings(SQLMIGRATE_TEST_DATABASES=["hook"], SQLMIGRATE_DIR=migrations.path):
            name = create(hook)
        assert hook.settings_dict["NAME"] == name
        assert version_row(hook) == [(2, False)]
        tables = {row[0] for row in query(hook, "SELECT tablename FROM pg_tables")}
        assert {"t1", "t2", "django_migrations", "auth_user"} <= tables

    def test_true_means_every_alias(
        self, hook: BaseDatabaseWrapper, migrations: Migrations
    ) -> None:
        pairs(migrations, 1)
        with override_settings(SQLMIGRATE_TEST_DATABASES=True, SQLMIGRATE_DIR=migrations.path):
            create(hook)
        assert version_row(hook) == [(1, False)]

    @pytest.mark.parametrize("value", [None, (), [], False, ["default"]])
    def test_off_or_not_named(
        self, hook: BaseDatabaseWrapper, migrations: Migrations, value: Any
    ) -> None:
        pairs(migrations, 1)
        with override_settings(SQLMIGRATE_TEST_DATABASES=value, SQLMIGRATE_DIR=migrations.path):
            create(hook)
        assert not has_version_table(hook)

    def test_keepdb_applies_only_the_pending_files(
        self, hook: BaseDatabaseWrapper, migrations: Migrations, capsys: pytest.CaptureFixture[str]
    ) -> None:
        pairs(migrations, 2)
        original = hook.settings_dict["NAME"]
        with override_settings(SQLMIGRATE_TEST_DATABASES=["hook"], SQLMIGRATE_DIR=migrations.path):
            name = create(hook, verbosity=2, keepdb=True)
            assert applied_lines(capsys.readouterr().err) == ["1_t1.up.sql", "2_t2.up.sql"]
            hook.close()
            hook.settings_dict["NAME"] = original  # as the next run starts
            migrations.pair(3, "t3", "CREATE TABLE t3 (id int);")
            assert create(hook, verbosity=2, keepdb=True) == name
        assert applied_lines(capsys.readouterr().err) == ["3_t3.up.sql"]
        assert version_row(hook) == [(3, False)]

    def test_keepdb_on_an_older_branch_warns(
        self, hook: BaseDatabaseWrapper, migrations: Migrations, capsys: pytest.CaptureFixture[str]
    ) -> None:
        pairs(migrations, 2)
        original = hook.settings_dict["NAME"]
        with override_settings(SQLMIGRATE_TEST_DATABASES=["hook"], SQLMIGRATE_DIR=migrations.path):
            create(hook, keepdb=True)
            hook.close()
            hook.settings_dict["NAME"] = original
            for file in migrations.path.glob("2_*"):
                file.unlink()
            create(hook, verbosity=1, keepdb=True)
        assert capsys.readouterr().err == (
            "Using existing test database for alias 'hook'...\n"
            "warning: test database for alias 'hook': database is ahead of these files (at 2, "
            "files end at 1): nothing to do\n"
        )

    def test_shared_database_follows_a_named_alias(self, django_db_blocker: Any) -> None:
        """Django creates a database shared by two aliases once, for the first of them."""
        name = f"shared_{uuid.uuid4().hex[:10]}"
        with extra_alias("first", NAME=name) as first, extra_alias("second", NAME=name):
            with override_settings(SQLMIGRATE_TEST_DATABASES=["second"]):
                assert testing.migrates_test_database(first.creation)
            with override_settings(SQLMIGRATE_TEST_DATABASES=["default"]):
                assert not testing.migrates_test_database(first.creation)


class TestOutput:
    def test_verbosity_1_adds_nothing_to_djangos_line(
        self, hook: BaseDatabaseWrapper, migrations: Migrations, capsys: pytest.CaptureFixture[str]
    ) -> None:
        pairs(migrations, 2)
        with override_settings(SQLMIGRATE_TEST_DATABASES=["hook"], SQLMIGRATE_DIR=migrations.path):
            create(hook, verbosity=1)
        assert capsys.readouterr().err == "Creating test database for alias 'hook'...\n"

    def test_verbosity_2_prints_one_line_per_file(
        self, hook: BaseDatabaseWrapper, migrations: Migrations, capsys: pytest.CaptureFixture[str]
    ) -> None:
        pairs(migrations, 2)
        with override_settings(SQLMIGRATE_TEST_DATABASES=["hook"], SQLMIGRATE_DIR=migrations.path):
            name = create(hook, verbosity=2)
        lines = capsys.readouterr().err.splitlines()
        assert lines[0] == f"Creating test database for alias 'hook' ('{name}')..."
        assert lines[1] == "Applying SQL migrations to test database for alias 'hook'..."
        assert [re.sub(r"\(.*\)", "(…)", line) for line in lines[2:]] == [
            "  OK   1_t1.up.sql (…)",
            "  OK   2_t2.up.sql (…)",
        ]


def database_exists(connection: BaseDatabaseWrapper, name: str) -> bool:
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name])
        return bool(cursor.fetchone()[0])


class TestFailure:
    def test_a_failing_file_stops_creation_and_drops_the_database(
        self, hook: BaseDatabaseWrapper, migrations: Migrations
    ) -> None:
        pairs(migrations, 1)
        bad = migrations.write(
            "2_bad.up.sql", "INSERT INTO t1 VALUES (1);\nSELECT id,\n       nope FROM t1;"
        )
        original = hook.settings_dict["NAME"]
        with (
            override_settings(SQLMIGRATE_TEST_DATABASES=["hook"], SQLMIGRATE_DIR=migrations.path),
            pytest.raises(testing.TestDatabaseMigrationError) as caught,
        ):
            create(hook)
        assert str(caught.value) == (
            f"SQL migrations failed on test database 'test_{original}' (alias 'hook'):\n"
            f'{bad}:3:8: column "nope" does not exist (42703)\n'
            "The test database was dropped: fix the file and run the tests again."
        )
        assert isinstance(caught.value.error, MigrationFailedError)
        assert caught.value.__cause__ is None
        assert caught.value.__suppress_context__
        assert caught.value.dropped is True
        assert hook.settings_dict["NAME"] == original
        assert not database_exists(hook, f"test_{original}")

    def test_keepdb_failure_keeps_the_database_and_says_how_to_start_over(
        self, hook: BaseDatabaseWrapper, migrations: Migrations
    ) -> None:
        bad = migrations.write("1_bad.up.sql", "SELECT 1/0;")
        with (
            override_settings(SQLMIGRATE_TEST_DATABASES=["hook"], SQLMIGRATE_DIR=migrations.path),
            pytest.raises(testing.TestDatabaseMigrationError) as caught,
        ):
            create(hook, keepdb=True)
        name = hook.settings_dict["NAME"]
        assert str(caught.value) == (
            f"SQL migrations failed on test database '{name}' (alias 'hook'):\n"
            f"{bad}:1:1: division by zero (22012)\n"
            "Nothing of 1_bad.up.sql was applied: its transaction was rolled back and the "
            "database is still at no version (clean).\n"
            "The test database is kept (--keepdb / --reuse-db) as the failure left it; run "
            "the tests once without --keepdb (pytest: --create-db) to start from a new one."
        )
        assert "sqlmigrate_" not in str(caught.value)
        assert database_exists(hook, name)

    def test_drift_under_keepdb_says_to_make_it_anew(
        self, hook: BaseDatabaseWrapper, migrations: Migrations
    ) -> None:
        pairs(migrations, 2)
        original = hook.settings_dict["NAME"]
        with override_settings(SQLMIGRATE_TEST_DATABASES=["hook"], SQLMIGRATE_DIR=migrations.path):
            create(hook, keepdb=True)
            hook.close()
            hook.settings_dict["NAME"] = original  # as the next run starts
            migrations.write("1_t1.up.sql", "CREATE TABLE t1 (id bigint);")  # edited meanwhile
            migrations.pair(3, "t3", "CREATE TABLE t3 (id int);")
            with pytest.raises(testing.TestDatabaseMigrationError) as caught:
                create(hook, keepdb=True)
        lines = str(caught.value).splitlines()
        assert lines[1].startswith(f"drift: {migrations.path / '1_t1.up.sql'} changed after it")
        assert lines[2:] == [
            "The test database is kept (--keepdb / --reuse-db) and ran an earlier version of the "
            "file: run the tests once without --keepdb (pytest: --create-db) to start from a new "
            "one, with the files as they are now."
        ]
        assert "--allow-drift" not in str(caught.value)

    @pytest.mark.slow
    @pytest.mark.parametrize("keepdb", [False, True], ids=["new", "keepdb"])
    def test_djangos_runner_prints_one_error_and_drops_the_database(
        self, migrations: Migrations, tmp_path: Path, django_db_blocker: Any, keepdb: bool
    ) -> None:
        migrations.write("1_ok.up.sql", "CREATE TABLE ok (id int);\n")
        bad = migrations.write("2_bad.up.sql", "SELECT 1;\nSELECT nope FROM ok;\n")
        result, database = run_django_tests(migrations, tmp_path, keepdb=keepdb)
        assert result.returncode == 1
        state = (
            "Nothing of 2_bad.up.sql was applied: its transaction was rolled back and the "
            "database is still at version 1 (clean).\n"
        )
        after = (
            f"{state}The test database is kept (--keepdb / --reuse-db) as the failure left it; "
            "run the tests once without --keepdb (pytest: --create-db) to start from a new one."
            if keepdb
            else "The test database was dropped: fix the file and run the tests again."
        )
        assert result.stderr.endswith(
            f"TestDatabaseMigrationError: SQL migrations failed on test database "
            f"'test_{database}' (alias 'default'):\n"
            f'{bad}:2:8: column "nope" does not exist (42703)\n{after}\n'
        )
        for absent in ("Traceback", "During handling of the above exception", "sqlmigrate_up"):
            assert absent not in result.stderr
        with django_db_blocker.unblock():
            assert database_exists(connections["default"], f"test_{database}") is keepdb
            drop_database(connections["default"], f"test_{database}")


def run_django_tests(
    migrations: Migrations, tmp_path: Path, *, keepdb: bool
) -> tuple[subprocess.CompletedProcess[str], str]:
    """``manage.py test`` of one test that needs the database, on a server database of its own."""
    (tmp_path / "hook_settings.py").write_text(
        "from realstaging.settings_test import *  # noqa: F403\n"
        f"SQLMIGRATE_DIR = {str(migrations.path)!r}\n"
    )
    (tmp_path / "hook_tests.py").write_text(
        "from django.test import TestCase\n\n\n"
        "class NeedsTheDatabase(TestCase):\n"
        "    def test_nothing(self):\n"
        "        pass\n"
    )
    database = f"runner_{uuid.uuid4().hex[:10]}"
    url = urlsplit(os.environ["TEST_DATABASE_URL"])._replace(path=f"/{database}").geturl()
    environment = {
        **os.environ,
        "TEST_DATABASE_URL": url,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]),
    }
    command = [sys.executable, str(REPO / "manage.py"), "test", "hook_tests"]
    result = subprocess.run(
        [*command, "--settings=hook_settings", "--noinput", *(["--keepdb"] if keepdb else [])],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    return result, database


class TestNotAHook:
    def test_plain_migrate_does_not_apply_sql(
        self, hook: BaseDatabaseWrapper, migrations: Migrations
    ) -> None:
        """Only test-database creation applies the SQL; ``migrate`` on a database does not."""
        pairs(migrations, 1)
        with hook._nodb_cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "test_{hook.settings_dict["NAME"]}"')
        hook.settings_dict["NAME"] = f"test_{hook.settings_dict['NAME']}"
        with override_settings(SQLMIGRATE_TEST_DATABASES=["hook"], SQLMIGRATE_DIR=migrations.path):
            call_command("migrate", database="hook", verbosity=0)
        assert not has_version_table(hook)
        assert query(hook, "SELECT count(*) FROM django_migrations")[0][0] > 0

    def test_install_wraps_once(self) -> None:
        wrapped = BaseDatabaseCreation.create_test_db
        testing.install()
        assert BaseDatabaseCreation.create_test_db is wrapped
        assert getattr(wrapped, "_sqlmigrate_hook", False)
        assert not getattr(wrapped.__wrapped__, "_sqlmigrate_hook", False)  # type: ignore[attr-defined]
        clone = BaseDatabaseCreation.clone_test_db
        assert getattr(clone, "_sqlmigrate_clone_hook", False)
        assert not getattr(clone.__wrapped__, "_sqlmigrate_clone_hook", False)  # type: ignore[attr-defined]
