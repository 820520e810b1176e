"""System checks (ids, levels, messages) and the runserver notice."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import Error, Tags, Warning, run_checks
from django.db import connections
from django.test import override_settings

from sqlmigrate import checks, engine
from sqlmigrate.management.commands.runserver import Command as Runserver

from .conftest import REPO, Migrations, Schema, run_command
from .test_testing_hook import drop_database, extra_alias

W001_HINT = "Run 'python manage.py sqlmigrate_up' to apply them."
W002_HINT = "The other sqlmigrate checks of this database were skipped."


def make(migrations: Migrations, *versions: int) -> None:
    for version in versions:
        migrations.pair(
            version, f"t{version}", f"CREATE TABLE t{version} (id int);", f"DROP TABLE t{version};"
        )


def set_version(schema: Schema, version: int, dirty: bool) -> None:
    schema.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version bigint not null primary key, dirty boolean not null)"
    )
    schema.query(
        f"DELETE FROM schema_migrations; INSERT INTO schema_migrations VALUES ({version}, {dirty})"
    )


def database_checks(alias: str = "default") -> list[Any]:
    return checks.check_databases(databases=[alias])


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


@pytest.fixture
def folder(migrations: Migrations) -> Iterator[Migrations]:
    """The tmp migrations folder, as SQLMIGRATE_DIR."""
    with override_settings(SQLMIGRATE_DIR=migrations.path):
        yield migrations


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- settings and folder: always run ---------------------------------------------------


class TestSettings:
    def test_realstaging_settings_pass(self) -> None:
        assert checks.check_settings() == []
        assert checks.check_migrations_folder() == []
        assert [m for m in run_checks() if m.id.startswith("sqlmigrate.")] == []

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (
                "a.b",
                "SQLMIGRATE_TABLE 'a.b' must be a plain table name: the table lives in "
                "current_schema(), as golang-migrate's does; to put it in another schema, set "
                "search_path on the connection (OPTIONS or ?options=-csearch_path%3Dname in "
                "DATABASE_URL).",
            ),
            ("", "SQLMIGRATE_TABLE '' is empty."),
            (
                "x" * 64,
                f"SQLMIGRATE_TABLE '{'x' * 64}' is longer than PostgreSQL's 63-byte "
                "identifier limit.",
            ),
            (None, "SQLMIGRATE_TABLE must be a string, not None."),
        ],
    )
    def test_e002_table(self, value: object, message: str) -> None:
        with override_settings(SQLMIGRATE_TABLE=value):
            assert checks.check_settings() == [Error(message, id="sqlmigrate.E002")]

    def test_e002_history_table(self) -> None:
        with override_settings(SQLMIGRATE_HISTORY_TABLE="a\tb"):
            assert checks.check_settings() == [
                Error(
                    "SQLMIGRATE_HISTORY_TABLE 'a\\tb' contains a control character.",
                    id="sqlmigrate.E002",
                )
            ]
        with override_settings(SQLMIGRATE_HISTORY_TABLE="schema_migrations"):
            assert checks.check_settings() == [
                Error(
                    "SQLMIGRATE_HISTORY_TABLE and SQLMIGRATE_TABLE are both "
                    "'schema_migrations'; the history needs a table of its own.",
                    id="sqlmigrate.E002",
                )
            ]
        with override_settings(SQLMIGRATE_HISTORY_TABLE=None):
            assert checks.check_settings() == []

    @pytest.mark.parametrize(
        "value", [0, -1, "soon", None, True, float("inf"), float("nan"), 10**400]
    )
    def test_e003_lock_timeout(self, value: object) -> None:
        with override_settings(SQLMIGRATE_LOCK_TIMEOUT=value):
            assert checks.check_settings() == [
                Error(
                    f"SQLMIGRATE_LOCK_TIMEOUT must be a positive number of seconds, not {value!r}.",
                    id="sqlmigrate.E003",
                )
            ]

    @pytest.mark.parametrize("value", [15, 0.5, "2.5"])
    def test_lock_timeout_ok(self, value: object) -> None:
        with override_settings(SQLMIGRATE_LOCK_TIMEOUT=value):
            assert checks.check_settings() == []

    def test_e004_unknown_alias(self) -> None:
        with override_settings(SQLMIGRATE_TEST_DATABASES=["default", "replica", "other"]):
            assert checks.check_settings() == [
                Error(
                    f"SQLMIGRATE_TEST_DATABASES names {alias!r}, which is not in DATABASES "
                    f"(known aliases: default).",
                    id="sqlmigrate.E004",
                )
                for alias in ("other", "replica")
            ]

    @pytest.mark.parametrize("value", ["default", 1, [None], {"default": 1}])
    def test_e004_not_a_list(self, value: object) -> None:
        with override_settings(SQLMIGRATE_TEST_DATABASES=value):
            assert checks.check_settings() == [
                Error(
                    f"SQLMIGRATE_TEST_DATABASES must be a list of DATABASES aliases, or True "
                    f"for all of them, not {value!r}.",
                    id="sqlmigrate.E004",
                )
            ]

    @pytest.mark.parametrize("value", [True, False, None, [], ("default",), {"default"}])
    def test_test_databases_ok(self, value: object) -> None:
        with override_settings(SQLMIGRATE_TEST_DATABASES=value):
            assert checks.check_settings() == []


class TestFolder:
    def test_e005_missing(self, tmp_path: Path) -> None:
        missing = tmp_path / "nope"
        with override_settings(SQLMIGRATE_DIR=missing):
            assert checks.check_migrations_folder() == [
                Error(
                    f"migrations folder {missing} does not exist (set SQLMIGRATE_DIR or pass "
                    f"--path)",
                    id="sqlmigrate.E005",
                )
            ]

    def test_e005_a_file(self, tmp_path: Path) -> None:
        file = tmp_path / "migrations.sql"
        file.write_text("")
        with override_settings(SQLMIGRATE_DIR=file):
            assert ids(checks.check_migrations_folder()) == ["sqlmigrate.E005"]
            assert "is a file, not a folder" in checks.check_migrations_folder()[0].msg

    def test_e005_not_a_path(self) -> None:
        with override_settings(SQLMIGRATE_DIR=5):
            assert checks.check_migrations_folder() == [
                Error("SQLMIGRATE_DIR must be a path, not 5.", id="sqlmigrate.E005")
            ]

    def test_e005_relative_to_base_dir(self) -> None:
        with override_settings(SQLMIGRATE_DIR="infra/nowhere"):
            (message,) = checks.check_migrations_folder()
        assert message.msg.startswith(f"migrations folder {REPO / 'infra/nowhere'} does not")

    def test_e006_duplicate(self, folder: Migrations) -> None:
        folder.write("1_a.up.sql", "")
        folder.write("1_b.up.sql", "")
        assert checks.check_migrations_folder() == [
            Error(
                f"duplicate migration file: 1_b.up.sql (same version and direction as "
                f"1_a.up.sql, in {folder.path}); rename one of them to a new version",
                id="sqlmigrate.E006",
            )
        ]

    def test_e006_version_too_large(self, folder: Migrations) -> None:
        path = folder.write("9223372036854775808_big.up.sql", "")
        assert checks.check_migrations_folder() == [
            Error(
                f"{path}: version 9223372036854775808 is larger than 9223372036854775807, the "
                f"largest the bigint version column holds; renumber the file",
                id="sqlmigrate.E006",
            )
        ]

    def test_e006_a_folder_named_like_a_migration(self, folder: Migrations) -> None:
        (folder.path / "2_x.up.sql").mkdir()
        (message,) = checks.check_migrations_folder()
        assert message.id == "sqlmigrate.E006"
        assert message.msg.endswith(
            "2_x.up.sql: named like a migration but a folder; rename or remove it"
        )

    def test_empty_folder_is_fine(self, folder: Migrations) -> None:
        assert checks.check_migrations_folder() == []


# -- database checks: only with --database -------------------------------------------


@pytest.mark.django_db(transaction=True)
class TestDatabase:
    def test_w001_pending(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1, 2, 3)
        engine.up(1)
        assert database_checks() == [
            Warning(
                f"Database 'default' has 2 unapplied SQL migration(s) (it is at 1; "
                f"{folder.path} goes up to 3).",
                hint=W001_HINT,
                id="sqlmigrate.W001",
            )
        ]

    def test_w001_no_table_yet(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1, 2)
        (message,) = database_checks()
        assert message.msg == (
            f"Database 'default' has 2 unapplied SQL migration(s) (it has no version; "
            f"{folder.path} goes up to 2)."
        )

    def test_up_to_date(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1, 2)
        engine.up()
        assert database_checks() == []

    def test_e001_dirty(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1, 2, 3)
        set_version(schema, 2, dirty=True)
        assert database_checks() == [
            Error(
                f"Database 'default' is dirty at SQL migration version 2 "
                f"({schema.name}.schema_migrations): a migration failed part-way.",
                hint=(
                    "Check the database by hand, undo or finish what the failed file did, then "
                    "run 'python manage.py sqlmigrate_force 2' if the database now matches "
                    "version 2, or 'python manage.py sqlmigrate_force 1' if you undid it."
                ),
                id="sqlmigrate.E001",
            )
        ]

    def test_e001_dirty_first_version(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1, 2)
        set_version(schema, 1, dirty=True)
        (message,) = database_checks()
        assert message.hint.endswith(
            "'python manage.py sqlmigrate_force 1' if the database now matches version 1, or "
            "'python manage.py sqlmigrate_force -1' if you undid it."
        )

    def test_e007_gap(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1, 2, 4)
        set_version(schema, 3, dirty=False)
        assert database_checks() == [
            Error(
                f"Database 'default' is at SQL migration version 3, which has no file in "
                f"{folder.path}; sqlmigrate_up fails until it has.",
                hint=(
                    "Restore the 3_*.up.sql and .down.sql files, or run 'python manage.py "
                    "sqlmigrate_force V' with the version the database really matches."
                ),
                id="sqlmigrate.E007",
            )
        ]

    def test_w003_ahead_and_e007_when_strict(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1, 2)
        set_version(schema, 5, dirty=False)
        assert database_checks() == [
            Warning(
                f"Database 'default' is at SQL migration version 5, ahead of the files in "
                f"{folder.path} (they end at 2).",
                hint=(
                    "Is an older release of the code deployed? sqlmigrate_up does nothing "
                    "until the files catch up (it fails if SQLMIGRATE_STRICT is on, or if the "
                    "history table never saw that version applied)."
                ),
                id="sqlmigrate.W003",
            )
        ]
        with override_settings(SQLMIGRATE_STRICT=True):
            assert ids(database_checks()) == ["sqlmigrate.E007"]

    def test_e008_drift(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1, 2)
        engine.up()
        folder.write("1_t1.up.sql", "CREATE TABLE t1 (id bigint);")
        (message,) = database_checks()
        assert message.id == "sqlmigrate.E008"
        assert re.fullmatch(
            rf"Database 'default': drift: {re.escape(str(folder.path))}/1_t1\.up\.sql changed "
            r"after it was applied \(applied .* UTC by sqlmigrate; recorded sha256 \w+, file "
            r"now \w+\)\. The SQL itself changed\.",
            message.msg,
        )
        assert message.hint == (
            "Applied migrations must not be edited: restore the file and put the change in a "
            "new migration (python manage.py sqlmigrate_create NAME), or set "
            "SQLMIGRATE_ALLOW_DRIFT = True."
        )
        with override_settings(SQLMIGRATE_ALLOW_DRIFT=True):
            assert database_checks() == []

    def test_e009_out_of_order(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1, 3)
        engine.up()
        make(folder, 2)
        assert database_checks() == [
            Error(
                "Database 'default' never applied 2_t2.up.sql (version 2), but is already at "
                "version 3; golang-migrate would skip it silently.",
                hint=(
                    "Renumber it to come after 3, or set SQLMIGRATE_ALLOW_OUT_OF_ORDER = True "
                    "to apply it where it is."
                ),
                id="sqlmigrate.E009",
            )
        ]
        with override_settings(SQLMIGRATE_ALLOW_OUT_OF_ORDER=True):
            assert ids(database_checks()) == ["sqlmigrate.W001"]

    def test_folder_errors_leave_the_database_checks_to_e005(
        self, schema: Schema, tmp_path: Path
    ) -> None:
        with override_settings(SQLMIGRATE_DIR=tmp_path / "nope"):
            assert database_checks() == []

    def test_bad_table_setting_leaves_it_to_e002(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1)
        with override_settings(SQLMIGRATE_TABLE="a.b"):
            assert database_checks() == []

    def test_without_databases_nothing_is_read(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1)
        assert checks.check_databases() == []
        assert checks.check_databases(databases=None) == []

    def test_run_checks_only_with_databases(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1)
        assert "sqlmigrate.W001" not in ids(run_checks())
        assert "sqlmigrate.W001" in ids(run_checks(databases=["default"]))
        assert ids(run_checks(tags=[Tags.database], databases=["default"])) == ["sqlmigrate.W001"]


@pytest.mark.django_db(transaction=True)
class TestCheckCommand:
    def test_warning_is_shown_and_passes(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1, 2)
        result = run_command("check", "--database", "default")
        assert result.code == 0
        assert result.err == (
            "System check identified some issues:\n\n"
            "WARNINGS:\n"
            f"?: (sqlmigrate.W001) Database 'default' has 2 unapplied SQL migration(s) (it has "
            f"no version; {folder.path} goes up to 2).\n"
            f"\tHINT: {W001_HINT}\n\n"
            "System check identified 1 issue (0 silenced).\n"
        )

    def test_without_database_no_warning(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1, 2)
        result = run_command("check")
        assert (result.code, result.err) == (0, "")
        assert result.out == "System check identified no issues (0 silenced).\n"

    def test_dirty_fails_the_command(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1)
        set_version(schema, 1, dirty=True)
        result = run_command("check", "--database", "default")
        assert result.code == 1
        assert (
            "ERRORS:\n?: (sqlmigrate.E001) Database 'default' is dirty at SQL migration version 1"
            in result.err
        )

    def test_settings_error_fails_without_database(self) -> None:
        with override_settings(SQLMIGRATE_LOCK_TIMEOUT=0):
            result = run_command("check")
        assert result.code == 1
        assert (
            "?: (sqlmigrate.E003) SQLMIGRATE_LOCK_TIMEOUT must be a positive number" in result.err
        )


# -- unreachable or foreign databases: W002, never an exception ----------------------


def test_w001_other_alias_names_it_in_the_command(
    django_db_blocker: Any, folder: Migrations
) -> None:
    make(folder, 1)
    name = f"checks_{uuid.uuid4().hex[:10]}"
    with django_db_blocker.unblock(), extra_alias("second", NAME=name) as second:
        with second._nodb_cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        try:
            messages = database_checks("second")
        finally:
            drop_database(second, name)
    assert messages == [
        Warning(
            f"Database 'second' has 1 unapplied SQL migration(s) (it has no version; "
            f"{folder.path} goes up to 1).",
            hint="Run 'python manage.py sqlmigrate_up --database second' to apply them.",
            id="sqlmigrate.W001",
        )
    ]


class TestUnreachable:
    def test_w002_closed_port(self, django_db_blocker: Any) -> None:
        port = free_port()
        with (
            django_db_blocker.unblock(),
            extra_alias(
                "dead", HOST="127.0.0.1", PORT=port, NAME="gone", OPTIONS={"connect_timeout": 2}
            ),
        ):
            messages = database_checks("dead")
        assert ids(messages) == ["sqlmigrate.W002"]
        assert messages[0].msg.startswith(
            "Cannot read the SQL migration state of database 'dead': cannot connect to database "
            "alias 'dead' (127.0.0.1, database 'gone'): "
        )
        assert messages[0].hint == W002_HINT

    def test_w002_through_check_command(self, django_db_blocker: Any) -> None:
        with (
            django_db_blocker.unblock(),
            extra_alias("dead", HOST="127.0.0.1", PORT=free_port(), NAME="gone"),
        ):
            result = run_command("check", "--database", "dead")
        assert result.code == 0
        assert (
            "?: (sqlmigrate.W002) Cannot read the SQL migration state of database 'dead'"
            in result.err
        )

    def test_unknown_alias(self) -> None:
        assert checks.check_databases(databases=["nope"]) == [
            Warning(
                "Cannot read the SQL migration state of database 'nope': database alias 'nope' "
                "is not in DATABASES",
                hint=W002_HINT,
                id="sqlmigrate.W002",
            )
        ]

    def test_unsupported_vendor_is_skipped(self) -> None:
        # SQLite and MySQL are supported now; Django's dummy backend (vendor "unknown") is not.
        with extra_alias("lite", ENGINE="django.db.backends.dummy", NAME=""):
            assert database_checks("lite") == []
            assert not checks.supported("lite")
        assert checks.supported("default")


# -- runserver ---------------------------------------------------------------------


def runserver_notice() -> str:
    out = io.StringIO()
    Runserver(stdout=out, no_color=True).check_sql_migrations()
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
class TestRunserver:
    def test_extends_staticfiles_runserver(self) -> None:
        from django.contrib.staticfiles.management.commands import runserver

        assert issubclass(Runserver, runserver.Command)

    def test_pending(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1, 2, 3)
        assert runserver_notice() == (
            "\nYou have 3 unapplied SQL migration(s). Run 'python manage.py sqlmigrate_up' to "
            "apply them.\n"
        )

    def test_check_migrations_adds_the_line_after_djangos(
        self, schema: Schema, folder: Migrations
    ) -> None:
        make(folder, 1)
        out = io.StringIO()
        Runserver(stdout=out, no_color=True).check_migrations()
        assert out.getvalue().endswith(
            "\nYou have 1 unapplied SQL migration(s). Run 'python manage.py sqlmigrate_up' to "
            "apply them.\n"
        )

    def test_nothing_when_up_to_date(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1)
        engine.up()
        assert runserver_notice() == ""

    def test_dirty(self, schema: Schema, folder: Migrations) -> None:
        make(folder, 1, 2)
        set_version(schema, 2, dirty=True)
        assert runserver_notice() == (
            f"\nDatabase 'default' is dirty at SQL migration version 2 "
            f"({schema.name}.schema_migrations): a migration failed part-way.\n"
            "Check the database by hand, undo or finish what the failed file did, then run "
            "'python manage.py sqlmigrate_force 2' if the database now matches version 2, or "
            "'python manage.py sqlmigrate_force 1' if you undid it.\n"
        )


def test_runserver_unreachable_database_prints_and_returns(django_db_blocker: Any) -> None:
    default = connections["default"]
    saved = dict(default.settings_dict)
    with django_db_blocker.unblock():
        default.close()
        default.settings_dict.update(HOST="127.0.0.1", PORT=free_port())
        try:
            text = runserver_notice()
        finally:
            default.close()
            default.settings_dict.clear()
            default.settings_dict.update(saved)
    assert text.startswith(
        "\nCannot read the SQL migration state of database 'default': cannot connect to "
        "database alias 'default' (127.0.0.1, database "
    )
    assert "\nThe other sqlmigrate checks" not in text


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_runserver_start_line(schema: Schema, migrations: Migrations, tmp_path: Path) -> None:
    """A real ``runserver``, with sqlmigrate listed before staticfiles."""
    make(migrations, 1, 2)
    (tmp_path / "runserver_settings.py").write_text(
        "from realstaging.settings import *  # noqa: F403\n"
        "INSTALLED_APPS = ['sqlmigrate', *[a for a in INSTALLED_APPS if a != 'sqlmigrate']]\n"
        f"SQLMIGRATE_DIR = {str(migrations.path)!r}\n"
    )
    environment = {
        **os.environ,
        "DATABASE_URL": schema.url,
        "DJANGO_SETTINGS_MODULE": "runserver_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]),
        "PYTHONUNBUFFERED": "1",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "manage.py"),
            "runserver",
            "--noreload",
            f"127.0.0.1:{free_port()}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
        cwd=REPO,
    )
    watchdog = threading.Timer(60, server.kill)
    watchdog.start()
    lines = []
    try:
        assert server.stdout is not None
        for line in server.stdout:
            lines.append(line)
            if line.startswith("Quit the server with"):
                break
    finally:
        watchdog.cancel()
        server.terminate()
        server.wait(timeout=30)
    output = "".join(lines)
    assert "Quit the server with" in output, output
    assert (
        "\nYou have 2 unapplied SQL migration(s). Run 'python manage.py sqlmigrate_up' to "
        "apply them.\n"
    ) in output
