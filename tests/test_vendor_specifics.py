"""What only one vendor has: MySQL's lock name and guard, SQLite's lock file and
in-memory test databases, each vendor's refusals, table DDL and session restore."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django
import pytest
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import override_settings

from sqlmigrate import engine, testing
from sqlmigrate.backends.mysql import lock_name
from sqlmigrate.backends.mysql import parsing as mysql_parsing
from sqlmigrate.backends.sqlite import parsing as sqlite_parsing
from sqlmigrate.exceptions import DirtyError, LockLostError, MigrationFailedError, SqlParseError
from sqlmigrate.validate import validate

from .conftest import Migrations
from .golang_migrate import require_cli
from .vendors import Vendor, add_alias, remove_alias

pytestmark = pytest.mark.django_db(transaction=True)


def only(vendor: Vendor, name: str) -> None:
    if vendor.name != name:
        pytest.skip(f"{name} only")


def up(vendor: Vendor, migrations: Migrations) -> engine.RunResult:
    return engine.up(using=vendor.alias, path=migrations.path)


# -- MySQL / MariaDB ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("database", "table", "name"),
    [
        ("orc_a", "schema_migrations", "3764172915"),
        ("orc_l", "schema_migrations", "3098103506"),
        ("orc_l", "my_versions", "3738702900"),
    ],
)
def test_mysql_lock_name_is_the_clis(database: str, table: str, name: str) -> None:
    # Measured on the Go CLI (golang-migrate-vendors.md).
    assert lock_name(database, table) == name


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("SELECT 1;\nINSERT INTO a VALUES ('it''s;\n", "f.sql:2:23: unterminated quoted string"),
        ('CREATE TABLE "a (id int);\n', "f.sql:1:14: unterminated quoted string"),
        ("SELECT '/*';\nSELECT 1 FROM `a;\n", "f.sql:2:15: unterminated quoted name"),
        ("SELECT '/*';\n  /* never closed\nSELECT 1;\n", "f.sql:2:3: unterminated /* comment"),
    ],
    ids=["string", "double-quoted", "backtick-name", "comment-after-a-string-with-/*"],
)
def test_mysql_unterminated_text_is_placed_where_it_opens(text: str, refusal: str) -> None:
    """sqlglot wraps its reason in an error without a place: sqlmigrate said 1:1."""
    with pytest.raises(SqlParseError) as refused:
        mysql_parsing.parse_migration(text, "f.sql")
    assert str(refused.value).startswith(f"{refusal}: it runs to the end of the file. ")
    assert str(refused.value).endswith("Close it; nothing was run")


@pytest.mark.parametrize(
    ("text", "refused_at"),
    [
        ("CREATE TABLE a (id int);\nBEGIN;\nINSERT INTO a VALUES (1);\n", "2:1"),
        ("BEGIN;\nINSERT INTO a VALUES (1);\nCOMMIT;\nSTART TRANSACTION;\nDELETE FROM a;", "4:1"),
        ("CREATE TABLE a (id int);\nBEGIN;\nCREATE TABLE b (id int);\n", None),
        ("CREATE TABLE a (id int);\nBEGIN;\nINSERT INTO a VALUES (1);\nROLLBACK;\n", None),
    ],
    ids=["dml-after-begin", "second-block-open", "ddl-commits-it", "rolled-back"],
)
def test_mysql_a_file_that_ends_in_its_own_transaction_is_refused(
    text: str, refused_at: str | None
) -> None:
    """Else sqlmigrate's next START TRANSACTION would commit it without a word."""
    if refused_at is None:
        assert not mysql_parsing.parse_migration(text, "f.sql").atomic
        return
    with pytest.raises(SqlParseError) as refused:
        mysql_parsing.parse_migration(text, "f.sql")
    assert str(refused.value).startswith(f"f.sql:{refused_at}: this BEGIN is never committed")


@pytest.mark.parametrize(
    ("text", "refused_at"),
    [
        ("CREATE TABLE a (id int);\n/* never closed\nDROP TABLE a;\n", "2:1"),
        ("SELECT 1; -- a\n /* closed */ /*/ SELECT 2;", "2:15"),
        ("SELECT 1; /**/ /* closed */\n", None),
    ],
    ids=["statements-inside", "slash-star-slash", "closed"],
)
def test_sqlite_an_unterminated_comment_is_refused(text: str, refused_at: str | None) -> None:
    """SQLite reads it to the end of the file: what is in it would silently not run."""
    if refused_at is None:
        assert len(sqlite_parsing.parse_migration(text, "f.sql").statements) == 1
        return
    with pytest.raises(SqlParseError) as refused:
        sqlite_parsing.parse_migration(text, "f.sql")
    assert str(refused.value).startswith(f"f.sql:{refused_at}: unterminated /* comment: SQLite ")


@pytest.mark.parametrize(
    ("parse", "text", "refusal"),
    [
        (
            mysql_parsing,
            "CREATE TABLE a (id int);\nsource b.sql;\n",
            "2:1: SOURCE is a command of the mysql",
        ),
        (
            mysql_parsing,
            "CREATE TABLE a (id int);\n  \\. b.sql\n",
            "2:3: \\. is a command of the mysql",
        ),
        (mysql_parsing, "SELECT 1 FROM base\\G\n", "1:19: \\G is a command of the mysql client"),
        (sqlite_parsing, "CREATE TABLE a (id int);\n.mode csv\n.import x a\n", "2:1: .mode is a"),
        (
            sqlite_parsing,
            "SELECT 1;\n  .read b.sql;\n",
            "2:3: .read is a command of the sqlite3 shell",
        ),
    ],
    ids=["mysql-source", "mysql-backslash-dot", "mysql-backslash-g", "sqlite-mode", "sqlite-read"],
)
def test_a_client_command_is_refused_before_anything_runs(
    parse: Any, text: str, refusal: str
) -> None:
    """The mysql client's and the sqlite3 shell's commands, as psql's are on PostgreSQL."""
    with pytest.raises(SqlParseError) as refused:
        parse.parse_migration(text, "f.sql")
    assert str(refused.value).startswith(f"f.sql:{refusal}")
    assert str(refused.value).endswith("Remove it; nothing was run")


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (mysql_parsing, "SELECT 'a\\\\b' AS source, `source`.x FROM source;"),
        (sqlite_parsing, "SELECT .5, 'x.y';"),
    ],
    ids=["mysql", "sqlite"],
)
def test_what_only_looks_like_a_client_command_runs(parse: Any, text: str) -> None:
    assert len(parse.parse_migration(text, "f.sql").statements) == 1


@pytest.mark.parametrize("vendor", ["mysql"], indirect=True)
class TestMySQL:
    def test_the_migrating_connection_holds_the_clis_lock(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        database = vendor.query("SELECT DATABASE()")[0][0]
        name = lock_name(database, "schema_migrations")
        migrations.pair(
            1, "seen", f"CREATE TABLE seen AS SELECT IS_USED_LOCK('{name}') = CONNECTION_ID() AS h;"
        )
        up(vendor, migrations)
        assert vendor.query("SELECT h FROM seen") == [(1,)]
        assert vendor.query(f"SELECT IS_USED_LOCK('{name}')") == [(None,)]  # released

    def test_a_file_releasing_the_lock_is_not_recorded(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        migrations.pair(1, "t", "CREATE TABLE t (id int);")
        migrations.pair(2, "release", "SELECT RELEASE_ALL_LOCKS();\n")
        with pytest.raises(MigrationFailedError) as failed:
            up(vendor, migrations)
        assert "2_release.up.sql ran, but sqlmigrate could not record it: this session no " in str(
            failed.value
        )
        assert "longer holds the migration lock (MySQL lock " in str(failed.value)
        assert vendor.version_row() == [(1, False)]

    def test_delimiter_is_refused_with_its_place(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        migrations.pair(1, "proc", "CREATE TABLE a (id int);\n  DELIMITER //\nSELECT 1 //\n")
        with pytest.raises(SqlParseError) as refused:
            up(vendor, migrations)
        assert str(refused.value).endswith(
            "1_proc.up.sql:2:3: DELIMITER is a command of the mysql client, not SQL: migration "
            "files go to the server as they are (golang-migrate would fail here too). Remove "
            "the DELIMITER lines and their custom delimiters; nothing was run"
        )
        assert vendor.tables() == set()

    def test_version_table_is_the_clis(self, vendor: Vendor, migrations: Migrations) -> None:
        migrations.pair(1, "t", "INSERT INTO nothing_yet SELECT 1 FROM DUAL WHERE 0;")
        engine.force(1, using=vendor.alias, path=migrations.path)
        created = vendor.query("SHOW CREATE TABLE schema_migrations")[0][1]
        assert created.startswith(
            "CREATE TABLE `schema_migrations` (\n  `version` bigint(20) NOT NULL,\n"
            "  `dirty` tinyint(1) NOT NULL,\n  PRIMARY KEY (`version`)\n)"
        )

    def test_ddl_file_fails_as_the_cli_leaves_it(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        migrations.pair(1, "t1", "CREATE TABLE t1 (id int);")
        text = (
            "CREATE TABLE t2a (id int);\nINSERT INTO nosuch VALUES (1);\nCREATE TABLE t2c (id int);"
        )
        migrations.pair(2, "bad", text)
        with pytest.raises(MigrationFailedError) as failed:
            up(vendor, migrations)
        assert "Table '" in failed.value.reason
        assert "nosuch' doesn't exist" in failed.value.reason
        assert failed.value.sqlstate == "1146"
        assert vendor.version_row() == [(2, True)]
        assert vendor.tables() >= {"t1", "t2a"}
        assert "t2c" not in vendor.tables()

    def test_session_variables_are_put_back_after_each_file(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        migrations.pair(1, "fk_off", "SET foreign_key_checks = 0;\nSET SESSION sql_mode = 'ANSI';")
        migrations.pair(
            2,
            "seen",
            "CREATE TABLE seen AS SELECT @@SESSION.foreign_key_checks AS fk, "
            "@@SESSION.sql_mode LIKE '%ANSI_QUOTES%' AS ansi;",
        )
        up(vendor, migrations)
        assert vendor.query("SELECT fk, ansi FROM seen") == [(1, 0)]


# -- SQLite --------------------------------------------------------------------------


@pytest.mark.parametrize("vendor", ["sqlite"], indirect=True)
class TestSQLite:
    def test_version_table_is_the_clis(self, vendor: Vendor, migrations: Migrations) -> None:
        migrations.pair(1, "t", "CREATE TABLE t (id int);")
        up(vendor, migrations)
        rows = vendor.query(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'schema_migrations' ORDER BY type DESC"
        )
        assert rows == [
            ("CREATE TABLE schema_migrations (version uint64,dirty bool)",),
            ("CREATE UNIQUE INDEX version_unique ON schema_migrations (version)",),
        ]

    def test_a_dirty_version_may_be_a_cli_run_in_progress(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        """The CLI takes no lock on SQLite: its migration in progress looks dirty to us."""
        migrations.pair(1, "t", "CREATE TABLE t (id int);")
        migrations.pair(2, "u", "CREATE TABLE u (id int);")
        up(vendor, migrations)
        vendor.query("UPDATE schema_migrations SET dirty = 1")
        with pytest.raises(DirtyError) as dirty:
            up(vendor, migrations)
        assert str(dirty.value).endswith(
            "if you undid the file\n(golang-migrate takes no lock on SQLite: if a migrate run "
            "is going on right now, this is its migration in progress; let it finish and look "
            "again.)"
        )

    def test_the_clis_drop_works_after_sqlmigrate_ran(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        """golang-migrate's drop drops every table sqlite_master lists: a sqlite_sequence
        (made by AUTOINCREMENT) can never be dropped, and the CLI stops on it."""
        migrations.pair(1, "t", "CREATE TABLE t (id int);")
        up(vendor, migrations)
        assert vendor.query("SELECT count(*) FROM schema_migrations_history") == [(1,)]
        names = vendor.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")
        assert names == [("schema_migrations",), ("schema_migrations_history",), ("t",)]
        cli = require_cli()
        dropped = subprocess.run(
            [
                cli,
                "-path",
                str(migrations.path),
                "-database",
                f"sqlite3://{vendor.path}",
                "drop",
                "-f",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (dropped.returncode, dropped.stderr) == (0, "")
        assert vendor.query("SELECT name FROM sqlite_master WHERE type = 'table'") == []

    def test_the_twelve_step_alter_runs_with_its_pragmas_outside(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        migrations.pair(1, "t", "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);")
        migrations.pair(
            2,
            "rebuild",
            "PRAGMA foreign_keys = OFF;\nBEGIN;\nCREATE TABLE t_new (id int, name text);\n"
            "INSERT INTO t_new (id) SELECT id FROM t;\nDROP TABLE t;\n"
            "ALTER TABLE t_new RENAME TO t;\nCOMMIT;\nPRAGMA foreign_keys = ON;\n",
        )
        result = up(vendor, migrations)
        assert [a.atomic for a in result.applied] == [True, False]
        assert vendor.query("SELECT id, name FROM t") == [(1, None)]
        assert vendor.version_row() == [(2, False)]

    def test_pragma_query_only_does_not_stop_the_version_write(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        migrations.pair(1, "ro", "CREATE TABLE t (id int);\nPRAGMA query_only = 1;")
        migrations.pair(2, "write", "INSERT INTO t VALUES (2);")
        up(vendor, migrations)
        assert vendor.query("SELECT id FROM t") == [(2,)]
        assert vendor.version_row() == [(2, False)]

    def test_an_unterminated_statement_is_refused(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        migrations.pair(1, "open", "CREATE TABLE a (id int);\nINSERT INTO a VALUES ('x);\n")
        with pytest.raises(SqlParseError) as refused:
            up(vendor, migrations)
        assert str(refused.value).endswith(
            "1_open.up.sql:2:1: this statement never ends: an unterminated string, quoted name "
            "or trigger body (BEGIN without END) runs to the end of the file. Close it; nothing "
            "was run"
        )
        assert vendor.tables() == set()

    def test_a_trigger_body_is_one_statement(self, vendor: Vendor, migrations: Migrations) -> None:
        migrations.pair(
            1,
            "trigger",
            "CREATE TABLE a (id int);\nCREATE TABLE log (id int);\n"
            "CREATE TRIGGER a_log AFTER INSERT ON a BEGIN\n  INSERT INTO log VALUES (new.id);\n"
            "  INSERT INTO log VALUES (-new.id);\nEND;\nINSERT INTO a VALUES (5);\n",
        )
        up(vendor, migrations)
        assert vendor.query("SELECT id FROM log ORDER BY id") == [(-5,), (5,)]

    def test_a_removed_lock_file_stops_the_run(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        assert vendor.path is not None
        lock = f"{vendor.path}.sqlmigrate.lock"
        migrations.pair(1, "a", "CREATE TABLE a (id int);")
        migrations.pair(2, "b", "CREATE TABLE b (id int);")
        with pytest.raises(LockLostError) as lost:
            engine.up(
                using=vendor.alias, path=migrations.path, sending=lambda _: Path(lock).unlink()
            )
        assert str(lost.value).startswith(
            f"the migration lock file {lock} was removed or replaced while this run held it"
        )
        assert vendor.version_row() == [(1, False)]


@pytest.fixture
def memory_alias() -> Iterator[BaseDatabaseWrapper]:
    """An alias ``sqlite`` on a new in-memory database (Django's test-database form)."""
    name = "file:memorydb_sqlmigrate?mode=memory&cache=shared"
    connection = add_alias("sqlite", {"ENGINE": "django.db.backends.sqlite3", "NAME": name})
    try:
        yield connection
    finally:
        remove_alias("sqlite")


def test_the_test_hook_migrates_an_in_memory_sqlite_database(
    memory_alias: BaseDatabaseWrapper, migrations: Migrations
) -> None:
    assert memory_alias.is_in_memory_db()
    migrations.pair(1, "a", "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);")
    with override_settings(SQLMIGRATE_DIR=migrations.path):
        testing.migrate_test_database("sqlite", "memory", verbosity=0, keepdb=True)
        # The run kept the connection open: the database (and what it made) is still there.
        with memory_alias.cursor() as cursor:
            cursor.execute("SELECT id FROM a")
            assert cursor.fetchall() == [(1,)]
            cursor.execute("SELECT version, dirty FROM schema_migrations")
            assert cursor.fetchall() == [(1, 0)]
        assert not engine.up(using="sqlite").changed  # --keepdb: nothing to do the next time


@pytest.mark.parametrize("vendor", ["sqlite", "mysql"], indirect=True)
def test_the_test_hook_with_keepdb_on_a_real_test_database(
    vendor: Vendor, migrations: Migrations, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Django's create_test_db for the alias (a file / a test_ database), as `manage.py test
    --keepdb` runs it twice: the first run applies every file, the second only the new one."""
    connection = connections[vendor.alias]
    original = connection.settings_dict["NAME"]
    test_name = str(tmp_path / "test.sqlite3") if vendor.name == "sqlite" else f"test_{original}"
    connection.settings_dict["TEST"]["NAME"] = test_name
    migrations.pair(1, "t1", "CREATE TABLE t1 (id int);")
    settings = {"SQLMIGRATE_TEST_DATABASES": [vendor.alias], "SQLMIGRATE_DIR": migrations.path}
    try:
        with override_settings(**settings):
            assert create_test_db(connection, keepdb=True) == test_name
            assert re.findall(r"^  OK   (\S+) ", capsys.readouterr().err, re.M) == ["1_t1.up.sql"]
            BaseDatabaseWrapper.close(connection)
            connection.settings_dict["NAME"] = original  # as the next run starts
            migrations.pair(2, "t2", "CREATE TABLE t2 (id int);")
            assert create_test_db(connection, keepdb=True) == test_name
            assert re.findall(r"^  OK   (\S+) ", capsys.readouterr().err, re.M) == ["2_t2.up.sql"]
            assert vendor.version_row() == [(2, False)]
            assert {"t1", "t2", "auth_user"} <= vendor.tables()
    finally:
        connection.creation.destroy_test_db(original, verbosity=0, keepdb=False)


def create_test_db(connection: BaseDatabaseWrapper, *, keepdb: bool) -> str:
    serialize = {"serialize": False} if django.VERSION < (6,) else {}
    return connection.creation.create_test_db(
        verbosity=2, autoclobber=True, keepdb=keepdb, **serialize
    )


#: a file each vendor's own parser refuses, and the start of its message
REFUSED = {
    "postgresql": ("\\connect other\n", "psql meta-command \\connect is not SQL"),
    "sqlite": ("SELECT 'open;\n", "this statement never ends"),
    "mysql": ("DELIMITER //\n", "DELIMITER is a command of the mysql client"),
}


def test_validate_parses_with_the_aliass_vendor_and_lints_postgresql_only(
    vendor: Vendor, migrations: Migrations
) -> None:
    text, message = REFUSED[vendor.name]
    migrations.pair(1, "bad", text)
    with override_settings(SQLMIGRATE_SQUAWK="/nonexistent/squawk"):
        report = validate(migrations.path, using=vendor.alias, lint=True)
    assert [error.split(": ", 1)[1].startswith(message) for error in report.errors] == [True]
    if vendor.name == "postgresql":
        assert report.lint is not None
    else:
        assert report.lint is None
        assert report.warnings == [f"--lint skipped: squawk lints PostgreSQL, not {vendor.name}"]
