"""What a Django user expects of the commands: colour, --version, help, errors, -v 3,
golang-migrate's spellings, and a live line on a terminal."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class
from django.test import override_settings

from sqlmigrate import __version__

from .conftest import REPO, Migrations, Schema, manage_environment, run_command, run_manage

pytestmark = pytest.mark.django_db(transaction=True)

# Django's default palette: SUCCESS green bold, WARNING yellow bold, ERROR red bold.
GREEN, YELLOW, RED, RESET = "\x1b[32;1m", "\x1b[33;1m", "\x1b[31;1m", "\x1b[0m"
COMMANDS = sorted(name for name in get_commands() if name.startswith("sqlmigrate_"))


def one_table(migrations: Migrations) -> None:
    migrations.pair(1, "one", "CREATE TABLE one (id int);", "DROP TABLE one;")


# -- colour ----------------------------------------------------------------------


def test_ok_lines_are_success_with_force_color(schema: Schema, migrations: Migrations) -> None:
    one_table(migrations)
    result = run_command("sqlmigrate_up", path=migrations.path, force_color=True)
    assert result.code == 0
    assert re.fullmatch(
        rf"{re.escape(GREEN)}OK   1_one\.up\.sql \(\d+\.\d ms\){re.escape(RESET)}\n", result.out
    )


def test_no_color_and_pipes_are_plain(schema: Schema, migrations: Migrations) -> None:
    one_table(migrations)
    migrations.pair(2, "two", "CREATE TABLE two (id int);")
    assert "\x1b" not in run_command("sqlmigrate_up", "1", path=migrations.path, no_color=True).out
    done = run_manage("sqlmigrate_up", "--path", str(migrations.path), url=schema.url)
    assert (done.returncode, "\x1b" in done.stdout + done.stderr) == (0, False)


def test_errors_and_warnings_have_their_colour(schema: Schema, migrations: Migrations) -> None:
    migrations.write("1_gap.down.sql", "SELECT 1;")  # no up file: a warning when it is stepped over
    migrations.pair(2, "two", "CREATE TABLE two (id int);")
    done = run_manage(
        "sqlmigrate_up", "--force-color", "--path", str(migrations.path), url=schema.url
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(f"{YELLOW}warning: version 1 has no up file")
    done = run_manage(
        "sqlmigrate_goto", "9", "--force-color", "--path", str(migrations.path), url=schema.url
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"{RED}error: no migration found for version 9")
    assert done.stderr.endswith(f"{RESET}\n")


# -- --version, help, exit status 2 ---------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_version_is_sqlmigrates(command: str) -> None:
    done = run_manage(command, "--version", url="postgresql:///unused")
    assert (done.returncode, done.stdout) == (0, f"{__version__}\n")


#: the options each command has, beyond Django's own (-v, --settings, ...)
OPTIONS = {
    "sqlmigrate_up": {"--path", "--database", "--lock-timeout", "--dry-run", "--wait"},
    "sqlmigrate_down": {
        "--path",
        "--database",
        "--lock-timeout",
        "--dry-run",
        "--noinput",
        "--all",
    },
    "sqlmigrate_goto": {"--path", "--database", "--lock-timeout", "--dry-run"},
    "sqlmigrate_force": {"--path", "--database", "--lock-timeout"},
    "sqlmigrate_backfill": {"--path", "--database", "--lock-timeout"},
    "sqlmigrate_version": {"--database", "--lock-timeout"},
    "sqlmigrate_status": {"--path", "--database", "--check", "--json"},
    "sqlmigrate_validate": {"--path", "--database", "--strict"},
    "sqlmigrate_create": {"--path", "--dir", "--seq", "--ext", "--digits", "--format", "--tz"},
    "sqlmigrate_drop": {"--database", "--lock-timeout", "--noinput", "--force"},
    "sqlmigrate_unlock": {"--database", "--noinput", "--yes"},
}
CHECKED = {"--path", "--database", "--lock-timeout", "--dry-run", "--noinput", "--wait", "--all"}


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_offers_only_the_options_it_uses(command: str) -> None:
    parser = load_command_class("sqlmigrate", command).create_parser("manage.py", command)
    offered = {s for action in parser._actions for s in action.option_strings if s.startswith("--")}
    assert OPTIONS[command] <= offered
    assert offered & CHECKED == OPTIONS[command] & CHECKED
    helps = " ".join(str(action.help) for action in parser._actions)
    mentioned = set(re.findall(r"--[a-z][a-z-]+", helps + str(parser.description)))
    assert mentioned <= offered, f"help mentions options {command} does not take"


def test_usage_errors_exit_2() -> None:
    done = run_manage("sqlmigrate_version", "--dry-run", url="postgresql:///unused")
    assert done.returncode == 2
    assert "manage.py sqlmigrate_version: error: unrecognized arguments: --dry-run" in done.stderr


# -- one error: format ------------------------------------------------------------------


def test_status_check_is_an_error_line(schema: Schema, migrations: Migrations) -> None:
    one_table(migrations)
    done = run_manage(
        "sqlmigrate_status", "--check", "--path", str(migrations.path), url=schema.url
    )
    assert done.returncode == 1
    assert done.stderr == "error: --check: default is not up to date (1 pending)\n"
    assert "[ ] 1_one" in done.stdout


def test_validate_errors_are_error_lines(migrations: Migrations) -> None:
    migrations.write("1_a.up.sql", "SELEC 1;")
    migrations.write("2_b.up.sql", "\\set x 1\n")
    done = run_manage(
        "sqlmigrate_validate", "--path", str(migrations.path), url="postgresql:///unused"
    )
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert [line.split(":")[0] for line in lines if not line.startswith("warning")][:2] == [
        "error",
        "error",
    ]
    assert "CommandError" not in done.stderr
    assert lines[-1] == f"error: 2 problem(s) in {migrations.path}"


# -- force and -v 3 ------------------------------------------------------------------------


def test_v3_shows_each_statement_before_its_ok_line(schema: Schema, migrations: Migrations) -> None:
    migrations.pair(
        1, "two_statements", "CREATE TABLE a (id int);\nCREATE TABLE b (\n  id int\n);\n"
    )
    result = run_command("sqlmigrate_up", path=migrations.path, verbosity=3)
    lines = result.out.splitlines()
    # each statement as the parser cut it (without its semicolon), indented under the file
    assert lines[:4] == [
        "     CREATE TABLE a (id int)",
        "     CREATE TABLE b (",
        "       id int",
        "     )",
    ]
    assert lines[4].startswith("OK   1_two_statements.up.sql (")
    assert lines[5] == "     now at 1 (one transaction)"
    assert (
        "CREATE" not in run_command("sqlmigrate_down", "1", path=migrations.path, verbosity=2).out
    )


# -- golang-migrate's spellings -------------------------------------------------------------


def test_create_as_the_seed_document_types_it(tmp_path: Path) -> None:
    (tmp_path / "infra" / "migrations").mkdir(parents=True)
    (tmp_path / "infra" / "migrations" / "0011_seed_plans_table.up.sql").write_text("")
    done = subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "sqlmigrate_create", "-ext", "sql", "-dir",
         "infra/migrations", "-seq", "add_user_avatar"],
        capture_output=True, text=True, cwd=tmp_path, env=manage_environment("postgresql:///unused"),
        timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "infra/migrations/0012_add_user_avatar.up.sql\n"
        "infra/migrations/0012_add_user_avatar.down.sql\n"
    )


@pytest.mark.parametrize(
    ("args", "made"),
    [
        (("-digits", "3", "-dir", "m", "x"), "m/001_x.up.sql"),
        (("-ext=txt", "-dir=m", "-seq", "x"), "m/000001_x.up.txt"),
        (("-format", "unix", "-tz", "UTC", "-dir", "m", "x"), None),
    ],
)
def test_create_single_dash_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], made: str | None
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_command("sqlmigrate_create", *args)
    assert result.code == 0
    up = result.out.splitlines()[0]
    if made is None:
        assert re.fullmatch(r"m/1\d{9}_x\.up\.sql", up)
    else:
        assert up == made


def test_down_all_single_dash(schema: Schema, migrations: Migrations) -> None:
    one_table(migrations)
    run_command("sqlmigrate_up", path=migrations.path)
    done = run_manage("sqlmigrate_down", "-all", "-path", str(migrations.path), url=schema.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK   1_one.down.sql")
    assert schema.version_row() == []


# -- SQLMIGRATE_DIR unset ---------------------------------------------------------------


def test_create_refuses_without_a_folder_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with override_settings(BASE_DIR=tmp_path):
        from django.conf import settings

        del settings.SQLMIGRATE_DIR
        result = run_command("sqlmigrate_create", "add_x")
        assert result.code == 1
        assert result.err.startswith("SQLMIGRATE_DIR is not set, so there is no migrations folder")
        assert result.err.endswith("or pass --dir DIR")
        assert list(tmp_path.iterdir()) == []
        # The fix it names works.
        assert run_command("sqlmigrate_create", "add_x", "--dir", "db/migrations").code == 0
        assert len(list((tmp_path / "db" / "migrations").iterdir())) == 2


# -- the live line ------------------------------------------------------------------------

SLOW = "SELECT pg_sleep(2);"


def read_all(fd: int, process: subprocess.Popen[bytes], limit: float) -> bytes:
    """Everything written to a pty master until the child exits (bounded by ``limit``)."""
    chunks, deadline = [], time.monotonic() + limit
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the child closed its end
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    return b"".join(chunks)


def test_a_terminal_sees_the_running_file_and_its_time(
    schema: Schema, migrations: Migrations
) -> None:
    migrations.pair(1, "slow", SLOW)
    migrations.pair(2, "fast", "CREATE TABLE fast (id int);")
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "sqlmigrate_up", "--path", str(migrations.path)],
        stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE, env=manage_environment(schema.url),
    )  # fmt: skip
    os.close(slave)
    try:
        output = read_all(master, process, limit=60).decode()
    finally:
        os.close(master)
        process.wait(timeout=60)
    assert process.returncode == 0
    ticks = re.findall(r"\r\x1b\[KRUN  1_slow\.up\.sql \((\d+\.\d) s\)", output)
    assert len(ticks) >= 2
    assert [float(t) for t in ticks] == sorted(float(t) for t in ticks)
    assert 0.5 <= float(ticks[0]) < float(ticks[-1]) < 2.5
    # The OK line replaces the live line; the fast file never shows one.
    assert re.search(r"\r\x1b\[K(\x1b\[[0-9;]*m)?OK   1_slow\.up\.sql \(2\.\d\d s\)", output)
    assert "RUN  2_fast" not in output
    assert (
        output.rstrip()
        .splitlines()[-1]
        .lstrip("\r")
        .startswith(("OK   2_fast", f"{GREEN}OK   2_fast"))
    )


def test_without_a_terminal_only_plain_lines(schema: Schema, migrations: Migrations) -> None:
    migrations.pair(1, "slow", SLOW)
    done = run_manage("sqlmigrate_up", "--path", str(migrations.path), url=schema.url)
    assert done.returncode == 0
    assert re.fullmatch(r"OK   1_slow\.up\.sql \(2\.\d\d s\)\n", done.stdout)


def test_the_checks_say_the_same(tmp_path: Path) -> None:
    from django.conf import settings

    from sqlmigrate.checks import check_migrations_folder

    with override_settings(BASE_DIR=tmp_path):
        del settings.SQLMIGRATE_DIR
        (message,) = check_migrations_folder()
    assert message.id == "sqlmigrate.E005"
    assert message.msg == (
        f"migrations folder {tmp_path}/infra/migrations does not exist "
        "(set SQLMIGRATE_DIR or pass --path)"
    )
