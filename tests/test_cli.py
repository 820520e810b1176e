"""``python -m sqlmigrate``: golang-migrate's command line, output and exit codes.

Every case runs the real ``python -m sqlmigrate`` child against the test
PostgreSQL, with no DJANGO_SETTINGS_MODULE (the URL is all it gets), and
checks stdout (always empty, as the Go CLI's), stderr and the exit status
against the rows of golang-migrate-compat.md / golang-migrate-vendors.md.
"""

from __future__ import annotations

import gc
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection

from sqlmigrate.backends.postgresql import advisory_lock_id
from sqlmigrate.cli.text import go_duration, redact_url

from .conftest import Migrations, Schema, database_url
from .vendors import Vendor

pytestmark = pytest.mark.django_db(transaction=True)

#: a Go duration, as time.Duration.String() writes it
DURATION = r"\((\d+(\.\d+)?(ns|µs|ms|s)|\d+m[\d.]+s)\)"


@dataclass
class Run:
    out: str
    err: str
    code: int

    @property
    def lines(self) -> list[str]:
        return self.err.splitlines()


def migrate(*args: str, cwd: Path, stdin: str = "") -> Run:
    """``python -m sqlmigrate ARGS`` in ``cwd``, without any project settings."""
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run(
        [sys.executable, "-m", "sqlmigrate", *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=cwd,
        env=env,
        timeout=60,
        check=False,
    )
    return Run(done.stdout, done.stderr, done.returncode)


def go_url(vendor: Vendor) -> str:
    """The golang-migrate URL of the test's database (``vendor.url`` is Django's)."""
    if vendor.name == "sqlite":
        return f"sqlite3://{vendor.path}"
    if vendor.name == "mysql":
        parts = urlsplit(vendor.url)
        credentials = parts.netloc.rpartition("@")[0]
        host = f"{parts.hostname}:{parts.port or 3306}"
        return f"mysql://{credentials}@tcp({host}){parts.path}"
    return vendor.url


def with_option(url: str, option: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{option}"


#: a test of PostgreSQL's URL, lock or messages: not run on the other vendors
ON_POSTGRESQL = pytest.mark.parametrize("vendor", ["postgresql"], indirect=True)


@dataclass
class Cli:
    vendor: Vendor
    migrations: Migrations

    @property
    def url(self) -> str:
        return go_url(self.vendor)

    def __call__(self, *args: str, stdin: str = "", url: str | None = None) -> Run:
        url = self.url if url is None else url
        path = str(self.migrations.path)
        return migrate("-path", path, "-database", url, *args, cwd=self.migrations.path.parent,
                       stdin=stdin)  # fmt: skip


def three(migrations: Migrations) -> None:
    for version in (1, 2, 3):
        migrations.pair(
            version, f"create_t{version}", f"CREATE TABLE t{version} (id int);",
            f"DROP TABLE t{version};",
        )  # fmt: skip


@pytest.fixture
def cli(vendor: Vendor, migrations: Migrations) -> Cli:
    """``python -m sqlmigrate`` on each vendor's test database, three migrations."""
    three(migrations)
    return Cli(vendor, migrations)


def applied(run: Run) -> list[str]:
    """The ``V/u name`` part of each migration line; fails on any other line shape."""
    names = []
    for line in run.lines:
        match = re.fullmatch(rf"(\d+/[ud] \S+) {DURATION}", line)
        if match:
            names.append(match.group(1))
    return names


class TestUp:
    def test_one_line_per_migration_on_stderr(self, cli: Cli) -> None:
        run = cli("up")
        assert (run.out, run.code) == ("", 0)
        assert applied(run) == ["1/u create_t1", "2/u create_t2", "3/u create_t3"]
        assert len(run.lines) == 3
        assert cli.vendor.version_row() == [(3, False)]

    @pytest.mark.parametrize("args", [("up",), ("up", "0"), ("goto", "3")])
    def test_no_change(self, cli: Cli, args: tuple[str, ...]) -> None:
        cli("up")
        run = cli(*args)
        assert (run.out, run.err, run.code) == ("", "no change\n", 0)

    def test_up_one_at_the_top(self, cli: Cli) -> None:
        cli("up")
        run = cli("up", "1")
        assert (run.lines[0], run.code) == ("error: file does not exist", 1)

    def test_up_n_short(self, cli: Cli) -> None:
        cli("up", "1")
        run = cli("up", "5")
        assert applied(run) == ["2/u create_t2", "3/u create_t3"]
        assert run.lines[2:] == [
            "error: limit 3 short",
            "applied 2 migration(s), then ran out of files",
        ]
        assert run.code == 1
        assert cli.vendor.version_row() == [(3, False)]

    @pytest.mark.parametrize("bad", ["x", "-", "1.5", "+1", "18446744073709551616"])
    def test_bad_limit(self, cli: Cli, bad: str) -> None:
        run = cli("up", bad)
        assert (run.err, run.code) == ("error: can't read limit argument N\n", 1)

    def test_dirty(self, cli: Cli) -> None:
        cli("up", "2")
        cli.vendor.query("UPDATE schema_migrations SET dirty = true")
        run = cli("up")
        assert run.lines[0] == "error: Dirty database version 2. Fix and force version."
        assert run.code == 1
        assert "python -m sqlmigrate -path" in run.err
        assert "manage.py" not in run.err

    def test_failure_names_this_command_line(self, cli: Cli) -> None:
        cli.migrations.pair(4, "bad", "SELECT nope;")
        run = cli("up")
        assert applied(run) == ["1/u create_t1", "2/u create_t2", "3/u create_t3"]
        column = 8 if cli.vendor.name == "postgresql" else 1  # the others name no column
        where = f"error: {cli.migrations.path.name}/4_bad.up.sql:1:{column}:"
        assert run.lines[3].startswith(where)
        assert run.lines[-1] == (
            f"Fix the file, then run: python -m sqlmigrate -path {cli.migrations.path} "
            f"-database {shlex.quote(cli.url)} up"
        )
        assert (run.code, cli.vendor.version_row()) == (1, [(3, False)])

    def test_empty_folder(self, vendor: Vendor, migrations: Migrations) -> None:
        run = Cli(vendor, migrations)("up")
        assert (run.lines[0], run.code) == ("error: first .: file does not exist", 1)

    def test_missing_folder(self, schema: Schema, tmp_path: Path) -> None:
        run = migrate("-path", "nosuchdir", "-database", schema.url, "up", cwd=tmp_path)
        assert run.err == 'error: failed to open source, "file://nosuchdir": open .: no such ' \
            "file or directory\n"  # fmt: skip
        assert run.code == 1


class TestDown:
    def test_down_n_short(self, cli: Cli) -> None:
        cli("up")
        run = cli("down", "5")
        assert applied(run) == ["3/d create_t3", "2/d create_t2", "1/d create_t1"]
        assert run.lines[3:] == [
            "error: limit 2 short",
            "applied 3 migration(s), then ran out of files",
        ]
        assert run.code == 1
        assert cli.vendor.version_row() == []

    def test_down_at_no_version(self, cli: Cli) -> None:
        run = cli("down", "1")
        assert (run.err, run.code) == (
            "error: file does not exist\nthe database has no version to undo\n",
            1,
        )

    @pytest.mark.parametrize("answer", ["", "n\n", "yes\n", "\n"])
    def test_all_needs_a_yes(self, cli: Cli, answer: str) -> None:
        cli("up")
        run = cli("down", stdin=answer)
        assert run.lines == [
            "Are you sure you want to apply all down migrations? [y/N]",
            "Not applying all down migrations",
        ]
        assert (run.out, run.code, cli.vendor.version_row()) == ("", 1, [(3, False)])

    @pytest.mark.parametrize("answer", ["y\n", "Y\n", " y \n"])
    def test_all_answered_yes(self, cli: Cli, answer: str) -> None:
        cli("up")
        run = cli("down", stdin=answer)
        assert run.lines[:2] == [
            "Are you sure you want to apply all down migrations? [y/N]",
            "Applying all down migrations",
        ]
        assert applied(run) == ["3/d create_t3", "2/d create_t2", "1/d create_t1"]
        assert (len(run.lines), run.code, cli.vendor.version_row()) == (5, 0, [])

    def test_all_flag(self, cli: Cli) -> None:
        cli("up")
        run = cli("down", "-all")
        assert (applied(run), run.code) == (["3/d create_t3", "2/d create_t2", "1/d create_t1"], 0)
        assert (cli("down", "-all").err, cli("down", "-all").code) == ("no change\n", 0)

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("2", "3"), "error: too many arguments"),
            (("-all", "2"), "error: -all cannot be used with other arguments"),
            (("x",), "error: can't read limit argument N"),
        ],
    )
    def test_bad_arguments(self, cli: Cli, args: tuple[str, ...], message: str) -> None:
        assert (cli("down", *args).err, cli("down", *args).code) == (message + "\n", 1)

    def test_no_down_file_is_an_empty_step(self, cli: Cli) -> None:
        (cli.migrations.path / "3_create_t3.down.sql").unlink()
        cli("up")
        run = cli("down", "1")
        assert applied(run) == ["3/d <empty>"]
        assert (run.code, cli.vendor.version_row()) == (0, [(2, False)])


class TestGotoForceVersion:
    def test_goto(self, cli: Cli) -> None:
        assert applied(cli("goto", "2")) == ["1/u create_t1", "2/u create_t2"]
        assert applied(cli("goto", "1")) == ["2/d create_t2"]
        assert cli.vendor.version_row() == [(1, False)]

    def test_goto_unknown_version(self, cli: Cli) -> None:
        run = cli("goto", "9")
        assert (run.lines[0], run.code) == ("error: no migration found for version 9", 1)

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            ((), "error: please specify version argument V"),
            (("x",), "error: can't read version argument V"),
            (("-1",), None),  # a flag to Go: see test_force_minus_one_needs_dashes
        ],
    )
    def test_goto_bad_version(self, cli: Cli, args: tuple[str, ...], message: str | None) -> None:
        run = cli("goto", *args)
        if message is None:
            assert (run.lines[0], run.code) == ("flag provided but not defined: -1", 2)
        else:
            assert (run.err, run.code) == (message + "\n", 1)

    @pytest.mark.parametrize(("version", "row"), [("2", [(2, False)]), ("7", [(7, False)])])
    def test_force_is_silent(self, cli: Cli, version: str, row: list) -> None:
        cli("up", "1")
        cli.vendor.query("UPDATE schema_migrations SET dirty = true")
        run = cli("force", version)
        assert run.out == ""
        assert run.code == 0
        if version == "2":
            assert run.err == ""
        else:  # sqlmigrate warns that no file has that version
            assert run.err.startswith("warning: ")
        assert cli.vendor.version_row() == row

    def test_force_minus_one(self, cli: Cli) -> None:
        cli("up")
        assert (cli("force", "--", "-1").err, cli("force", "--", "-1").code) == ("", 0)
        assert cli.vendor.version_row() == []
        assert (cli("version").err, cli("version").code) == ("error: no migration\n", 1)

    def test_force_minus_one_needs_dashes(self, cli: Cli) -> None:
        run = cli("force", "-1")
        assert run.err == (
            "flag provided but not defined: -1\nUsage of force:\n  -help\n    \tPrint help "
            "information\n"
        )
        assert run.code == 2

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("--", "-2"), "error: argument V must be >= -1"),
            (("abc",), "error: can't read version argument V"),
            ((), "error: please specify version argument V"),
        ],
    )
    def test_force_bad_version(self, cli: Cli, args: tuple[str, ...], message: str) -> None:
        run = cli("force", *args)
        assert (run.out, run.err, run.code) == ("", message + "\n", 1)

    def test_version(self, cli: Cli) -> None:
        assert (cli("version").err, cli("version").code) == ("error: no migration\n", 1)
        cli("up")
        assert (cli("version").out, cli("version").err, cli("version").code) == ("", "3\n", 0)
        cli.vendor.query("UPDATE schema_migrations SET version = 2, dirty = true")
        assert (cli("version").err, cli("version").code) == ("2 (dirty)\n", 0)
        cli.vendor.query("UPDATE schema_migrations SET version = -1")
        assert (cli("version").err, cli("version").code) == ("error: no migration\n", 1)
        run = cli("up")
        assert run.lines[0] == "error: Dirty database version -1. Fix and force version."
        # the fix commands in Go's spelling: a bare -1 would be an unknown flag to it
        assert " force -- -1` if the database now matches it or `python -m sqlmigrate " in run.err
        assert " force 1` if you undid the file" in run.err
        assert cli("force", "--", "-1").code == 0
        assert (cli("version").err, cli("version").code) == ("error: no migration\n", 1)


@ON_POSTGRESQL
class TestDatabaseUrl:
    def test_search_path_parameter(self, cli: Cli, schema: Schema) -> None:
        url = database_url() + f"?search_path={schema.name}&sslmode=disable"
        assert cli("up", "1", url=url).code == 0
        assert cli.vendor.version_row() == [(1, False)]

    def test_statement_timeout_option(self, cli: Cli, schema: Schema) -> None:
        cli.migrations.pair(4, "slow", "SELECT pg_sleep(2);")
        cli("up", "3")
        run = cli("up", url=schema.url + "&x-statement-timeout=100")
        assert "canceling statement due to statement timeout" in run.err
        assert (run.code, cli.vendor.version_row()) == (1, [(3, False)])

    @pytest.mark.parametrize(
        ("url", "first_line"),
        [
            ("", "error: failed to parse scheme from database URL: URL cannot be empty"),
            ("nourl", "error: failed to parse scheme from database URL: no scheme"),
            (
                "sqlserver://sa@127.0.0.1:1433?database=db",
                "error: failed to open database: database driver: unknown driver sqlserver "
                "(forgotten import?)",
            ),
        ],
    )
    def test_unusable_url(self, cli: Cli, url: str, first_line: str) -> None:
        run = cli("up", url=url)
        assert (run.lines[0], run.code) == (first_line, 1)
        assert "Traceback" not in run.err

    def test_unknown_option_is_refused(self, cli: Cli, schema: Schema) -> None:
        run = cli("up", url=schema.url + "&x-no-lock=true")
        assert run.lines[0].startswith("error: failed to open database: the URL option x-no-lock")
        assert run.code == 1

    def test_no_password_in_output(self, cli: Cli) -> None:
        run = cli("up", url="postgres://someone:s3cret-pw@127.0.0.1:1/db?connect_timeout=2")
        assert run.lines[0].startswith("error: failed to open database: ")
        assert "s3cret-pw" not in run.err
        assert run.code == 1

    def test_lock_timeout(self, cli: Cli, schema: Schema) -> None:
        key = advisory_lock_id("/" + connection.settings_dict["NAME"], schema.name,
                               "schema_migrations")  # fmt: skip
        with schema.connect() as other:
            other.execute(f"SELECT pg_advisory_lock({key})")
            run = cli("-lock-timeout", "1", "up")
        assert (run.lines[0], run.code) == ("error: timeout: can't acquire database lock", 1)


class TestFlagsAndUsage:
    @pytest.mark.parametrize(
        ("args", "code"), [((), 2), (("bogus",), 2), (("-help",), 0), (("-h",), 0)]
    )
    def test_usage(self, tmp_path: Path, args: tuple[str, ...], code: int) -> None:
        run = migrate(*args, cwd=tmp_path)
        assert run.err.startswith("Usage: migrate OPTIONS COMMAND [arg...]\n")
        assert run.err.endswith(
            "Source drivers: file\nDatabase drivers: sqlite3, mysql, postgres, postgresql\n"
        )
        assert (run.out, run.code) == ("", code)

    def test_version_flag(self, tmp_path: Path) -> None:
        from sqlmigrate import __version__

        assert (migrate("-version", cwd=tmp_path).err, migrate("-version", cwd=tmp_path).code) == (
            f"{__version__}\n",
            0,
        )

    @pytest.mark.parametrize(
        ("args", "first_line"),
        [
            (("-bogus", "up"), "flag provided but not defined: -bogus"),
            (("-lock-timeout", "x", "up"), 'invalid value "x" for flag -lock-timeout: parse error'),
            (("-verbose=maybe", "up"), 'invalid boolean value "maybe" for -verbose: parse error'),
            (("-path",), "flag needs an argument: -path"),
        ],
    )
    def test_bad_main_flags(self, tmp_path: Path, args: tuple[str, ...], first_line: str) -> None:
        run = migrate(*args, cwd=tmp_path)
        assert run.lines[0] == first_line
        assert run.lines[1] == "Usage: migrate OPTIONS COMMAND [arg...]"
        assert run.code == 2

    def test_bad_command_flag(self, cli: Cli) -> None:
        run = cli("down", "-x")
        assert run.err == (
            "flag provided but not defined: -x\nUsage of down:\n  -all\n    \tApply all down "
            "migrations\n  -help\n    \tPrint help information\n"
        )
        assert run.code == 2

    def test_command_help(self, tmp_path: Path) -> None:
        run = migrate("up", "-help", cwd=tmp_path)
        assert run.err == (
            "up [N]       Apply all or N up migrations\n  -help\n    \tPrint help information\n"
        )
        assert run.code == 0

    def test_double_dash_flags_and_source(self, cli: Cli) -> None:
        run = migrate("--source", f"file://{cli.migrations.path}", "--database=" + cli.url,
                      "up", "1", cwd=cli.migrations.path)  # fmt: skip
        assert (applied(run), run.code) == (["1/u create_t1"], 0)

    def test_verbose(self, cli: Cli) -> None:
        run = cli("-verbose", "up", "1")
        stamp = r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d "
        assert re.fullmatch(rf"{stamp}1/u create_t1 {DURATION}", run.lines[0])
        assert re.fullmatch(rf"{stamp}Finished after \S+", run.lines[1])
        assert run.code == 0

    def test_drop_f_is_silent_and_drops_everything(self, cli: Cli) -> None:
        assert cli("up").code == 0
        run = cli("drop", "-f")
        assert (run.lines, run.out, run.code) == ([], "", 0)
        assert cli.vendor.tables() == set()  # the version table too, as the Go CLI does

    def test_drop_asks_and_aborts_on_empty_stdin(self, cli: Cli) -> None:
        assert cli("up").code == 0
        run = cli("drop")
        assert run.lines == [
            "Are you sure you want to drop the entire database schema? [y/N]",
            "Aborted dropping the entire database schema",
        ]
        assert run.code == 1
        assert {"t1", "t2", "t3", "schema_migrations"} <= cli.vendor.tables()

    def test_drop_answered_y(self, cli: Cli) -> None:
        assert cli("up").code == 0
        run = cli("drop", stdin="y\n")
        assert run.lines == [
            "Are you sure you want to drop the entire database schema? [y/N]",
            "Dropping the entire database schema",
        ]
        assert run.code == 0
        assert cli.vendor.tables() == set()


class TestCreate:
    def test_seq_with_digits(self, tmp_path: Path) -> None:
        (tmp_path / "0001_a.up.sql").touch()
        run = migrate("create", "-ext", "sql", "-dir", ".", "-seq", "-digits", "4", "add x",
                      cwd=tmp_path)  # fmt: skip
        assert run.lines == [str(tmp_path / "0002_add x.up.sql"),
                             str(tmp_path / "0002_add x.down.sql")]  # fmt: skip
        assert (run.out, run.code) == ("", 0)

    def test_timestamp_by_default(self, tmp_path: Path) -> None:
        (tmp_path / "0001_a.up.sql").touch()  # numbered folder: the Go CLI still uses time
        run = migrate("create", "-ext", ".sql", "ts", cwd=tmp_path)
        assert re.fullmatch(rf"{re.escape(str(tmp_path))}/\d{{14}}_ts\.up\.sql", run.lines[0])
        assert run.code == 0

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("-ext", "sql"), "error: please specify name"),
            (("x",), "error: -ext flag must be specified"),
            (("-ext", "sql", "-seq", "-format", "unix", "x"),
             "error: the seq and format options are mutually exclusive"),
        ],
    )  # fmt: skip
    def test_bad_create(self, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
        run = migrate("create", *args, cwd=tmp_path)
        assert (run.err, run.code) == (message + "\n", 1)
        assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.000_000_5, "500ns"),
        (0.000_85, "850µs"),
        (0.007_889_692, "7.889692ms"),
        (0.011_49, "11.49ms"),
        (1.5, "1.5s"),
        (60, "1m0s"),
        (3723.25, "1h2m3.25s"),
    ],
)
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgres://u:pw@h/db", "postgres://u:***@h/db"),
        ("postgres://u@h/db?password=pw&sslmode=disable", "postgres://u@h/db?password=***&sslmode=disable"),
        ("postgres://h/db", "postgres://h/db"),
        ("sqlite3:///tmp/db.sqlite3", "sqlite3:///tmp/db.sqlite3"),
        ("mysql://u:p@ss/w:rd@tcp(h:3306)/db?tls=x", "mysql://u:***@tcp(h:3306)/db?tls=x"),
        ("mysql://u@tcp(h:3306)/db", "mysql://u@tcp(h:3306)/db"),
    ],
)  # fmt: skip
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@ON_POSTGRESQL
def test_lean_imports(cli: Cli) -> None:
    """No project settings, no django.setup() (it imports django.urls and django.http),
    no pglast and no checks for a command that parses nothing. (django.db.models,
    forms and templates still load: Django's PostgreSQL backend imports them.)"""
    cli("up", "1")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "sqlmigrate", "-path",
         str(cli.migrations.path), "-database", cli.url, "version"],
        capture_output=True, text=True, cwd=cli.migrations.path, timeout=60, check=False,
    )  # fmt: skip
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert (done.stderr.splitlines()[-1], done.returncode) == ("1", 0)
    assert "sqlmigrate.engine" in imported
    assert not imported & {"django.urls", "django.http", "realstaging", "sqlmigrate.cli.mysql_url",
                           "sqlmigrate.cli.sqlite_url", "MySQLdb", "pymysql"}  # fmt: skip
    assert not any(name.startswith(("pglast", "sqlmigrate.checks")) for name in imported)


def test_frozen_heap() -> None:
    from sqlmigrate.process import frozen_heap

    gc.unfreeze()
    try:
        with frozen_heap():
            assert gc.get_freeze_count() > 0  # start-up objects: out of the collector's sight
            made = [[] for _ in range(1000)]  # lists: tracked by the collector
            before = gc.get_freeze_count()
        # and the run's, for the exit (a few start-up objects may have died meanwhile)
        assert gc.get_freeze_count() > before + len(made) - 50
    finally:
        gc.unfreeze()
