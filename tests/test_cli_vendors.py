"""``python -m sqlmigrate`` with golang-migrate's ``mysql://`` and ``sqlite3://`` URLs.

The flows (up, down, goto, force, version, drop) run on every vendor in
test_cli.py; here: each URL form and option, the CLI's messages for URLs it
cannot use (golang-migrate-vendors.md), the drop of what the CLI leaves, and
the real CLI's output beside ours where it is installed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import Migrations, run_command
from .golang_migrate import require_cli
from .test_cli import DURATION, Cli, Run, cli, go_url, three, with_option
from .vendors import Vendor

__all__ = ["cli"]  # the fixture, used by name

pytestmark = pytest.mark.django_db(transaction=True)

ON_MYSQL = pytest.mark.parametrize("vendor", ["mysql"], indirect=True)
ON_SQLITE = pytest.mark.parametrize("vendor", ["sqlite"], indirect=True)
OPEN = "error: failed to open database: "


def applied_versions(run: Run) -> list[str]:
    return [
        line.split("/")[0] for line in run.lines if re.fullmatch(rf"\d+/[ud] \S+ {DURATION}", line)
    ]


def server(vendor: Vendor) -> str:
    """``mysql://root@tcp(host:port)`` of the test's server: a URL without its database."""
    return go_url(vendor).rpartition("/")[0]


def test_migrations_table_option(cli: Cli) -> None:
    assert cli("up", "1", url=with_option(cli.url, "x-migrations-table=my_versions")).code == 0
    rows = cli.vendor.query("SELECT version, dirty FROM my_versions")
    assert [(version, bool(dirty)) for version, dirty in rows] == [(1, False)]
    assert "schema_migrations" not in cli.vendor.tables()


@ON_MYSQL
class TestMySQLUrl:
    @pytest.mark.parametrize(
        ("tail", "message"),
        [
            ("", "invalid DSN: missing the slash separating the database name"),
            ("/", "no database name"),
            ("/orc_nonexistent", "Error 1049: Unknown database 'orc_nonexistent'"),
            ("/db?x-no-lock=yes", 'could not parse x-no-lock as bool: strconv.ParseBool: '
                                  'parsing "yes": invalid syntax'),
            ("/db?x-statement-timeout=abc", 'could not parse x-statement-timeout as float: '
                                            'strconv.Atoi: parsing "abc": invalid syntax'),
        ],
    )  # fmt: skip
    def test_the_clis_messages(self, cli: Cli, tail: str, message: str) -> None:
        run = cli("version", url=server(cli.vendor) + tail)
        assert (run.out, run.err, run.code) == ("", OPEN + message + "\n", 1)

    def test_an_address_without_tcp(self, cli: Cli) -> None:
        parts = urlsplit(cli.vendor.url)
        run = cli("up", url=f"mysql://root@{parts.hostname}:{parts.port}{parts.path}")
        message = f"default addr for network '{parts.hostname}:{parts.port}' unknown"
        assert (run.err, run.code) == (OPEN + message + "\n", 1)
        assert "schema_migrations" not in cli.vendor.tables()

    def test_an_unknown_parameter_is_a_session_variable(self, cli: Cli) -> None:
        # as go-sql-driver sends it: SET <name> = <value> on connecting
        run = cli("up", url=with_option(cli.url, "no_such_variable=1"))
        assert (run.err, run.code) == (
            OPEN + "Error 1193: Unknown system variable 'no_such_variable'\n",
            1,
        )
        cli.migrations.pair(4, "ansi", 'CREATE TABLE "quoted" (id int);')
        assert cli("up", url=with_option(cli.url, "sql_mode=%27ANSI_QUOTES%27")).code == 0
        assert "quoted" in cli.vendor.tables()

    def test_no_lock_is_accepted(self, cli: Cli) -> None:
        run = cli("up", url=with_option(cli.url, "x-no-lock=true"))
        assert (run.code, cli.vendor.version_row()) == (0, [(3, False)])

    def test_statement_timeout(self, cli: Cli) -> None:
        cli.migrations.pair(4, "slow", "SELECT SLEEP(3);")
        assert cli("up", "3").code == 0
        run = cli("up", url=with_option(cli.url, "x-statement-timeout=300"))
        assert "max_statement_time exceeded" in run.err
        assert (run.code, cli.vendor.version_row()) == (1, [(3, False)])

    def test_no_password_in_output(self, cli: Cli) -> None:
        url = server(cli.vendor).replace("@", ":s3cret-pw@", 1) + "/" + "db"
        run = cli("up", url=url)
        assert run.lines[0].startswith(OPEN + "Error 1045: Access denied for user")
        assert "s3cret-pw" not in run.err
        assert run.code == 1

    def test_no_password_in_a_fix_command(self, cli: Cli) -> None:
        user = f"u{uuid.uuid4().hex[:8]}"
        database = urlsplit(cli.vendor.url).path.lstrip("/")
        cli.vendor.query(f"CREATE USER '{user}'@'%' IDENTIFIED BY 's3cret-pw'")
        try:
            cli.vendor.query(f"GRANT ALL ON `{database}`.* TO '{user}'@'%'")
            url = cli.url.replace("root@", f"{user}:s3cret-pw@", 1)
            cli.migrations.pair(
                4, "bad", "CREATE TABLE t4 (id int);\nINSERT INTO nosuch VALUES (1);"
            )
            run = cli("up", url=url)
            assert applied_versions(run) == ["1", "2", "3"]
            assert run.code == 1
            # the fix command names this URL, password hidden
            assert f"-database 'mysql://{user}:***@tcp(" in run.err
            assert "s3cret-pw" not in run.err + run.out
        finally:
            cli.vendor.query(f"DROP USER '{user}'@'%'")

    def test_no_driver_names_the_extra(self, cli: Cli) -> None:
        # Both drivers hidden from the child: importing them fails as if not installed.
        code = (
            "import sys; sys.modules['MySQLdb'] = sys.modules['pymysql'] = None; "
            "from sqlmigrate.cli import main; sys.exit(main(sys.argv[1:]))"
        )
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        done = subprocess.run(
            [sys.executable, "-c", code, "-path", str(cli.migrations.path), "-database",
             cli.url, "up"],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 1
        assert done.stderr.startswith(OPEN + "a mysql:// URL needs a MySQL driver for Python: ")
        assert 'pip install "django-sqlmigrate[mysql]"' in done.stderr

    def test_drop_takes_what_the_cli_leaves(self, cli: Cli) -> None:
        assert cli("up").code == 0
        for sql in (
            "CREATE VIEW v AS SELECT id FROM t1",
            "CREATE TABLE parent (id int PRIMARY KEY)",
            "CREATE TABLE child (parent int, FOREIGN KEY (parent) REFERENCES parent (id))",
            "CREATE FUNCTION f() RETURNS int RETURN 1",
            "CREATE PROCEDURE p() SELECT 1",
            "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1",
        ):
            cli.vendor.query(sql)
        assert cli("drop", "-f").lines == []
        assert cli.vendor.tables() == set()
        left = cli.vendor.query(
            "SELECT routine_name FROM information_schema.routines WHERE routine_schema = "
            "DATABASE() UNION ALL SELECT event_name FROM information_schema.events "
            "WHERE event_schema = DATABASE()"
        )
        assert left == []


@ON_SQLITE
class TestSQLiteUrl:
    def test_a_relative_path_from_the_working_directory(self, cli: Cli) -> None:
        here = cli.migrations.path.parent
        run = cli("up", "1", url="sqlite3://new.db")
        assert (run.code, (here / "new.db").exists()) == (0, True)

    def test_a_missing_folder(self, cli: Cli) -> None:
        run = cli("version", url="sqlite3:///no/such/folder/x.db")
        assert (run.err, run.code) == (
            OPEN + "unable to open database file: no such file or directory\n",
            1,
        )

    @pytest.mark.parametrize(
        ("option", "message"),
        [
            ("x-no-tx-wrap=maybe",
             'x-no-tx-wrap: strconv.ParseBool: parsing "maybe": invalid syntax'),
            ("_bogus=1", "the URL option _bogus is not supported by python -m sqlmigrate"),
        ],
    )  # fmt: skip
    def test_refused_options(self, cli: Cli, option: str, message: str) -> None:
        run = cli("version", url=with_option(cli.url, option))
        assert (run.lines[0][: len(OPEN + message)], run.code) == (OPEN + message, 1)

    def test_no_tx_wrap_still_runs_a_file_atomically(self, cli: Cli) -> None:
        cli.migrations.pair(4, "bad", "CREATE TABLE t4a (id int);\nINSERT INTO nosuch VALUES (1);")
        run = cli("up", url=with_option(cli.url, "x-no-tx-wrap=true&_busy_timeout=1000"))
        assert run.code == 1
        # the CLI with x-no-tx-wrap keeps t4a and leaves version 4 dirty
        assert cli.vendor.version_row() == [(3, False)]
        assert "t4a" not in cli.vendor.tables()

    @pytest.mark.parametrize(("option", "code"), [("", 0), ("_foreign_keys=on", 1)])
    def test_foreign_keys_as_go_sqlite3(self, cli: Cli, option: str, code: int) -> None:
        cli.migrations.pair(4, "fk", "CREATE TABLE c (p int REFERENCES t1 (id));\n"
                            "INSERT INTO c VALUES (42);")  # fmt: skip
        run = cli("up", url=with_option(cli.url, option) if option else cli.url)
        assert run.code == code, run.err

    def test_drop_takes_what_the_cli_leaves(self, cli: Cli) -> None:
        cli.migrations.pair(4, "more", "CREATE TABLE a (id INTEGER PRIMARY KEY AUTOINCREMENT);\n"
                            "INSERT INTO a DEFAULT VALUES;\n"
                            "CREATE VIEW v AS SELECT id FROM a;")  # fmt: skip
        assert cli("up").code == 0
        assert cli("drop", "-f").lines == []
        left = cli.vendor.query("SELECT type, name FROM sqlite_master")
        assert left in ([], [("table", "sqlite_sequence")])
        if left:  # SQLite's own table stays, emptied
            assert cli.vendor.query("SELECT count(*) FROM sqlite_sequence") == [(0,)]


def test_drop_refuses_a_url_before_asking(cli: Cli) -> None:
    assert cli("up").code == 0
    run = cli("drop", url=with_option(cli.url, "x-unknown-option=1"), stdin="y\n")
    assert run.lines[0].startswith(OPEN + "the URL option x-unknown-option is not supported")
    assert "Dropping" not in run.err
    assert ("t1" in cli.vendor.tables(), run.code) == (True, 1)


def test_sqlmigrate_drop_reports_what_it_dropped(vendor: Vendor, migrations: Migrations) -> None:
    three(migrations)
    Cli(vendor, migrations)("up")
    vendor.query("CREATE VIEW v AS SELECT id FROM t1")
    result = run_command("sqlmigrate_drop", database=vendor.alias, force=True, verbosity=2)
    assert result.code == 0, result.err
    # PostgreSQL's history table has a sequence (bigserial) of its own
    summary = r"^dropped 1 view, 5 tables(, 1 sequence)? in schema \S+$"
    assert re.search(summary, result.out, re.MULTILINE), result.out
    assert vendor.tables() == set()


# -- the real CLI beside ours ------------------------------------------------------

#: the "Common" rows of golang-migrate-vendors.md, in one sequence
SCENARIO = [
    ("version",), ("up", "2"), ("version",), ("up", "5"), ("down", "1"), ("goto", "1"),
    ("up", "1"), ("force", "2"), ("version",), ("down",), ("down", "2", "3"), ("down", "-all"),
    ("version",), ("down", "1"), ("force", "1"), ("version",), ("force", "--", "-1"),
    ("version",), ("up", "0"), ("up",), ("goto", "3"), ("drop",), ("drop", "-f"), ("version",),
]  # fmt: skip


def summary(run: Run) -> tuple[int, str, list[str]]:
    """What must be the same: exit status, stdout, and the CLI's lines (sqlmigrate adds
    explanations after an error's first line); durations vary."""
    lines, seen_error = [], False
    for line in run.lines:
        if seen_error:
            continue
        seen_error = line.startswith("error: ")
        lines.append(re.sub(DURATION, "(D)", line))
    return run.code, run.out, lines


@pytest.mark.parametrize("vendor", ["sqlite", "mysql"], indirect=True)
def test_the_same_output_as_the_cli(cli: Cli) -> None:
    binary = require_cli()
    theirs = []
    for args in SCENARIO:
        done = subprocess.run(
            [binary, "-path", str(cli.migrations.path), "-database", cli.url, *args],
            capture_output=True, text=True, input="", timeout=60, check=False,
        )  # fmt: skip
        theirs.append(summary(Run(done.stdout, done.stderr, done.returncode)))
    ours = [summary(cli(*args)) for args in SCENARIO]
    names = [" ".join(args) for args in SCENARIO]
    assert list(zip(names, ours, strict=True)) == list(zip(names, theirs, strict=True))


@pytest.mark.parametrize(
    ("url", "entry"),
    [
        ("mysql://u:p%40ss@unix(/run/mysqld.sock)/shop",
         {"USER": "u", "PASSWORD": "p@ss", "HOST": "/run/mysqld.sock", "PORT": ""}),
        ("mysql://u@/shop", {"HOST": "127.0.0.1", "PORT": "3306"}),
        ("mysql://u@tcp([::1]:3307)/shop", {"HOST": "::1", "PORT": "3307"}),
        ("mysql://u@tcp(db)/shop?charset=utf8mb4,utf8&timeout=1500ms&parseTime=true",
         {"HOST": "db", "OPTIONS": {"charset": "utf8mb4", "connect_timeout": 2}}),
        ("mysql://u@tcp(db:1)/shop?tls=custom&x-tls-ca=/ca.pem&x-tls-insecure-skip-verify=1",
         {"OPTIONS": {"ssl": {"ca": "/ca.pem", "check_hostname": False}}}),
        ("mysql://u@tcp(db:1)/shop?x-tls-ca=/ca.pem",  # without tls=NAME, as the CLI: no TLS
         {"OPTIONS": {}}),
    ],
)  # fmt: skip
def test_mysql_url_to_django(url: str, entry: dict[str, object]) -> None:
    from sqlmigrate.cli.mysql_url import mysql_database

    database, _ = mysql_database(url)
    assert {key: database[key] for key in entry} == entry
    assert database["NAME"] == "shop"
