"""An applied file that can no longer be read: runs refuse cleanly, read-only views degrade.

``spoil`` (conftest) makes one file unreadable in each of the ways a listed
file can fail to read (permission denied, I/O error, removed after the
listing); folder-level breakage (a folder or a broken link in a file's place)
is refused by the listing itself, tested at the end.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.checks import Error
from django.test import override_settings

from sqlmigrate import checks, engine
from sqlmigrate.exceptions import FileReadError
from sqlmigrate.management.commands.runserver import Command as Runserver
from sqlmigrate.status import read_status

from .conftest import (
    Migrations,
    Schema,
    Spoil,
    deny_reading,
    io_error_reading,
    run_command,
    run_manage,
)

pytestmark = pytest.mark.django_db(transaction=True)

HISTORY = "schema_migrations_history"


def make(migrations: Migrations, *versions: int) -> None:
    for version in versions:
        migrations.pair(
            version, f"t{version}", f"CREATE TABLE t{version} (id int);", f"DROP TABLE t{version};"
        )


def history(schema: Schema) -> list[tuple[object, ...]]:
    return schema.query(f"SELECT version, direction, outcome FROM {HISTORY} ORDER BY id")


def cli_sets_version(schema: Schema, version: int, *tables: int) -> None:
    """What the Go CLI leaves behind: its tables, and the version."""
    for table in tables:
        schema.query(f"CREATE TABLE t{table} (id int)")
    schema.query(
        f"TRUNCATE schema_migrations; INSERT INTO schema_migrations VALUES ({version}, false)"
    )


def refusal(path: Path, reason: str, version: int) -> str:
    return (
        f"{path}: {reason}\n"
        f"Nothing was changed: the database is still at version {version}. sqlmigrate compares "
        f"every applied up file with the checksum it recorded before it runs or records "
        f"anything. Make the file readable again (restore it from version control, e.g. git "
        f"checkout -- {path}), then run the command again."
    )


@pytest.fixture
def folder(schema: Schema, migrations: Migrations) -> Iterator[Migrations]:
    """Three files, the first two applied by sqlmigrate (so history has their checksums)."""
    make(migrations, 1, 2, 3)
    with override_settings(SQLMIGRATE_DIR=migrations.path):
        engine.up(2)
        yield migrations


def first(folder: Migrations) -> Path:
    return folder.path / "1_t1.up.sql"


# -- runs refuse, and change nothing ------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "args"),
    [("sqlmigrate_up", ()), ("sqlmigrate_down", ("1",)), ("sqlmigrate_goto", ("3",))],
)
def test_runs_refuse_and_change_nothing(
    schema: Schema, folder: Migrations, spoil: Spoil, command: str, args: tuple[str, ...]
) -> None:
    before = history(schema)
    reason = spoil(first(folder))
    result = run_command(command, *args)
    assert (result.code, result.out, result.err) == (1, "", refusal(first(folder), reason, 2))
    assert schema.version_row() == [(2, False)]
    assert history(schema) == before
    assert schema.tables() == {"schema_migrations", HISTORY, "t1", "t2"}


def test_the_engine_raises_file_read_error(
    schema: Schema, folder: Migrations, spoil: Spoil
) -> None:
    reason = spoil(first(folder))
    with pytest.raises(FileReadError) as caught:
        engine.up()
    assert (caught.value.path, caught.value.reason) == (str(first(folder)), reason)


def test_every_unreadable_file_is_named(schema: Schema, folder: Migrations) -> None:
    denied = deny_reading(first(folder))
    failing = io_error_reading(folder.path / "2_t2.up.sql")
    result = run_command("sqlmigrate_up")
    assert result.code == 1
    assert result.err.splitlines()[:2] == [
        f"{first(folder)}: {denied}",
        f"{folder.path / '2_t2.up.sql'}: {failing}",
    ]


def test_a_dry_run_refuses_too(schema: Schema, folder: Migrations, spoil: Spoil) -> None:
    reason = spoil(first(folder))
    result = run_command("sqlmigrate_up", dry_run=True)
    assert (result.code, result.err) == (1, refusal(first(folder), reason, 2))


def test_a_file_applied_by_the_go_cli_is_not_recorded_unread(
    schema: Schema, migrations: Migrations, spoil: Spoil
) -> None:
    """The Go CLI applied 2; the next run records it (with its checksum), and cannot."""
    make(migrations, 1, 2, 3)
    engine.up(1, path=migrations.path)
    cli_sets_version(schema, 2, 2)
    path = migrations.path / "2_t2.up.sql"
    reason = spoil(path)
    result = run_command("sqlmigrate_up", path=migrations.path)
    assert (result.code, result.err) == (1, refusal(path, reason, 2))
    assert history(schema) == [(1, "up", "applied")]
    assert schema.version_row() == [(2, False)]
    assert "t3" not in schema.tables()


def test_backfill_refuses_and_records_nothing(
    schema: Schema, migrations: Migrations, spoil: Spoil
) -> None:
    make(migrations, 1, 2)
    engine.force(-1, path=migrations.path)
    cli_sets_version(schema, 2, 1, 2)
    before = history(schema)
    reason = spoil(migrations.path / "1_t1.up.sql")
    result = run_command("sqlmigrate_backfill", path=migrations.path)
    assert (result.code, result.out) == (1, "")
    assert result.err == refusal(migrations.path / "1_t1.up.sql", reason, 2)
    assert history(schema) == before


@pytest.mark.parametrize("spoil_file", [deny_reading, io_error_reading], ids=["permission", "io"])
def test_from_the_shell_no_traceback(schema: Schema, folder: Migrations, spoil_file: Spoil) -> None:
    reason = spoil_file(first(folder))
    child = run_manage("sqlmigrate_up", "--path", str(folder.path), url=schema.url)
    assert (child.returncode, child.stdout) == (1, "")
    assert child.stderr == f"error: {refusal(first(folder), reason, 2)}\n"
    assert schema.version_row() == [(2, False)]


# -- read-only views degrade ---------------------------------------------------------


def test_read_status_marks_the_row(schema: Schema, folder: Migrations, spoil: Spoil) -> None:
    reason = spoil(first(folder))
    status = read_status()
    assert [(row.version, row.state, row.unreadable) for row in status.rows] == [
        (1, "applied", reason),
        (2, "current", None),
        (3, "pending", None),
    ]
    assert [row.version for row in status.unreadable] == [1]
    assert (status.database_error, status.source_error, status.ok) == (None, None, False)


def test_status_command_lines(schema: Schema, folder: Migrations, spoil: Spoil) -> None:
    reason = spoil(first(folder))
    result = run_command("sqlmigrate_status")
    lines = result.out.splitlines()
    assert result.code == 0
    assert re.fullmatch(
        rf"\[X\] 1_t1  \S+ \S+ UTC  [0-9.]+ m?s  UNREADABLE \({re.escape(reason)}\): drift not "
        r"checked, sqlmigrate_up refuses",
        lines[1],
    )
    assert lines[2].endswith("(current)")
    assert lines[3:] == ["[ ] 3_t3", "2 applied, 1 pending, 1 unreadable"]
    checked = run_command("sqlmigrate_status", check=True)
    assert (checked.code, checked.err) == (
        1,
        "--check: default is not up to date (1 pending, 1 unreadable)",
    )


def test_status_json(schema: Schema, folder: Migrations, spoil: Spoil) -> None:
    reason = spoil(first(folder))
    result = run_command("sqlmigrate_status", json=True)
    data = json.loads(result.out)
    assert (result.code, data["ok"], data["errors"]) == (0, False, [])
    assert [m["unreadable"] for m in data["migrations"]] == [reason, None, None]


def test_check_e010(schema: Schema, folder: Migrations, spoil: Spoil) -> None:
    reason = spoil(first(folder))
    assert checks.check_databases(databases=["default"]) == [
        Error(
            f"{first(folder)}: {reason}. Database 'default' applied it (version 1); it cannot "
            f"be compared with the checksum recorded when it ran, so sqlmigrate_up, down and "
            f"goto refuse to run.",
            hint="Make the file readable again (restore it from version control).",
            id="sqlmigrate.E010",
        )
    ]


def test_runserver_says_so_and_goes_on(schema: Schema, folder: Migrations, spoil: Spoil) -> None:
    reason = spoil(first(folder))
    out = io.StringIO()
    Runserver(stdout=out, no_color=True).check_migrations()
    assert out.getvalue().endswith(
        f"\n{first(folder)}: {reason}. Database 'default' applied it (version 1); it cannot be "
        f"compared with the checksum recorded when it ran, so sqlmigrate_up, down and goto "
        f"refuse to run.\nMake the file readable again (restore it from version control).\n"
    )


# -- a folder or a broken link in a file's place: the listing refuses it ---------------------


def _folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _dangling(path: Path) -> None:
    path.unlink()
    path.symlink_to(path.with_name("gone.sql"))


def _loop(path: Path) -> None:
    path.unlink()
    path.symlink_to(path)


NOT_A_FILE = "named like a migration but not a readable file (a broken or looping link?)"


@pytest.mark.parametrize(
    ("break_file", "what"),
    [
        (_folder, "named like a migration but a folder; rename or remove it"),
        (_dangling, f"{NOT_A_FILE}; rename or remove it"),
        (_loop, "cannot read: Too many levels of symbolic links"),
    ],
    ids=["folder", "dangling link", "link loop"],
)
def test_listing_refuses_what_is_not_a_file(
    schema: Schema, folder: Migrations, break_file: Spoil, what: str
) -> None:
    break_file(first(folder))
    message = f"{first(folder)}: {what}"
    up = run_command("sqlmigrate_up")
    assert (up.code, up.err) == (1, message)
    status = run_command("sqlmigrate_status")
    assert (status.code, status.out.splitlines()[1:]) == (
        0,
        [f"error: {message}", "0 applied, 0 pending"],
    )
    out = io.StringIO()
    Runserver(stdout=out, no_color=True).check_sql_migrations()
    assert out.getvalue() == ""  # E006, from the folder check, says it
    assert [m.id for m in checks.check_migrations_folder()] == ["sqlmigrate.E006"]
    assert schema.version_row() == [(2, False)]
