"""Bad input to every command, through ``python manage.py``: what is wrong, where, and nothing changed.

Each case starts from version 1 applied (table ``base``), adds the bad
files, settings, database state or arguments, runs the real command line,
and checks: a non-zero exit with the expected status, the key phrases of the
message (the file, and ``:LINE:COL`` where there is one), nothing on stdout,
and the database (version row, relations, history rows) and the folder
exactly as before.

Every row runs on each vendor it is bad input for: the vendor-neutral ones
on PostgreSQL, SQLite and MySQL/MariaDB (``said``: where a vendor words it
differently, e.g. SQLite names a statement's start, not a position in it),
psql's and PostgreSQL's own on PostgreSQL, and rows of SQLite's and MySQL's
own. Where no parser of sqlmigrate's knows the grammar (syntax errors on
SQLite and MySQL), the server refuses the file as it runs: its transaction
is rolled back, and the history row that says so is the one change.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sqlmigrate import engine

from .conftest import Migrations, Schema, run_command, run_manage
from .vendors import Vendor

pytestmark = pytest.mark.django_db(transaction=True)

HISTORY = "schema_migrations_history"
SECRET = "S3cretPassw0rd"
UNREACHABLE = f"postgresql://migrator:{SECRET}@127.0.0.1:1/db"


@dataclass(frozen=True)
class Link:
    """A symbolic link to ``target`` (relative to the migrations folder)."""

    target: str


@dataclass(frozen=True)
class Folder:
    """A directory."""


Content = str | bytes | Link | Folder


VENDORS = ("postgresql", "sqlite", "mysql")
PostgreSQL = ("postgresql",)


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    phrases: tuple[str, ...]
    files: dict[str, Content]
    #: exit status: 1 for sqlmigrate's errors, 2 for argparse's
    code: int
    #: SQL to run first, or a version to force (as if recorded by an earlier run)
    setup: str | int | None
    #: lines for a settings module that extends realstaging.settings
    settings: str | None
    #: through call_command in this process instead of a child (a few, for speed)
    in_process: bool
    #: the vendors it is bad input for (the rest of the suite: the same text runs there)
    vendors: tuple[str, ...]
    #: where a vendor says it in its own words: its phrases instead of ``phrases``
    said: dict[str, tuple[str, ...]]
    #: the server refuses it while it runs: the file's transaction is rolled back, and
    #: the one change is the history row that says so
    fails_at_run: bool

    def phrases_on(self, vendor: str) -> tuple[str, ...]:
        return self.said.get(vendor, self.phrases)


def case(
    name: str,
    args: tuple[str, ...],
    *phrases: str,
    files: dict[str, Content] | None = None,
    code: int = 1,
    setup: str | int | None = None,
    settings: str | None = None,
    in_process: bool = False,
    vendors: tuple[str, ...] = VENDORS,
    said: dict[str, tuple[str, ...]] | None = None,
    fails_at_run: bool = False,
) -> Case:
    """One bad input; ``{dir}`` and ``{year}`` in args, phrases and file names are filled in."""
    return Case(
        name,
        args,
        phrases,
        files or {},
        code,
        setup,
        settings,
        in_process,
        vendors,
        said or {},
        fails_at_run,
    )


UP = ("sqlmigrate_up", "--path", "{dir}")
DOWN_1 = ("sqlmigrate_down", "1", "--path", "{dir}")
FORCE_1 = ("sqlmigrate_force", "1", "--path", "{dir}")
VERSION = ("sqlmigrate_version",)


def usage_error(command: str, message: str) -> str:
    return f"manage.py {command}: error: {message}"


NOT_SQL = "is not SQL: migration files go to the server, not to psql"
COPY_STDIN = "COPY ... FROM STDIN needs psql to send the data that follows it"
DIRTY = "error: Dirty database version {v}. Fix and force version.\n"
NEVER_ENDS = "this statement never ends: an unterminated string, quoted name or trigger body"

CASES = [
    # -- file names ---------------------------------------------------------------------------
    case(
        "duplicate-version-padded",
        UP,
        "error: duplicate migration file: 2_a.up.sql (same version and direction as "
        "02_b.up.sql, in {dir}); rename one of them to a new version",
        files={"2_a.up.sql": "CREATE TABLE a (id int);", "02_b.up.sql": "CREATE TABLE b (id int);"},
    ),
    case(
        "editor-backup-is-a-duplicate",
        UP,
        "error: duplicate migration file: 2_a.up.sql.bak (same version and direction as 2_a.up.sql",
        files={"2_a.up.sql": "CREATE TABLE a (id int);", "2_a.up.sql.bak": "CREATE TABLE a ();"},
        in_process=True,
    ),
    case(
        "version-beyond-bigint",
        UP,
        "error: {dir}/9223372036854775808_big.up.sql: version 9223372036854775808 is larger "
        "than 9223372036854775807, the largest the bigint version column holds; renumber the file",
        files={"9223372036854775808_big.up.sql": "CREATE TABLE big (id int);"},
    ),
    case(
        "version-beyond-uint64",
        UP,
        "error: {dir}/18446744073709551616_huge.up.sql: version 18446744073709551616 is larger "
        "than 9223372036854775807",
        files={"18446744073709551616_huge.up.sql": "CREATE TABLE huge (id int);"},
    ),
    case(
        "version-uint64-max-that-hangs-the-go-cli",
        UP,
        "error: {dir}/18446744073709551615_max.up.sql: version 18446744073709551615 is larger",
        files={"18446744073709551615_max.up.sql": "CREATE TABLE huge (id int);"},
        in_process=True,
    ),
    case(
        "symlink-loop",
        UP,
        "error: {dir}/2_loop.up.sql: cannot read: Too many levels of symbolic links",
        files={"2_loop.up.sql": Link("2_loop.up.sql")},
    ),
    case(
        "dangling-symlink",
        UP,
        "error: {dir}/2_gone.up.sql: named like a migration but not a readable file (a broken "
        "or looping link?); rename or remove it",
        files={"2_gone.up.sql": Link("nowhere.sql")},
        in_process=True,
    ),
    case(
        "folder-named-like-a-migration",
        UP,
        "error: {dir}/2_dir.up.sql: named like a migration but a folder; rename or remove it",
        files={"2_dir.up.sql": Folder()},
    ),
    # -- the folder ---------------------------------------------------------------------------
    case(
        "folder-missing",
        ("sqlmigrate_up", "--path", "{dir}/missing"),
        "error: migrations folder {dir}/missing does not exist (set SQLMIGRATE_DIR or pass --path)",
    ),
    case(
        "file-where-the-folder-should-be",
        ("sqlmigrate_down", "1", "--path", "{dir}/notes.txt"),
        "error: migrations folder {dir}/notes.txt is a file, not a folder",
        files={"notes.txt": "not a folder"},
    ),
    # -- file contents: rejected before anything runs ------------------------------------------
    case(
        "non-utf8-latin1",
        UP,
        "error: {dir}/2_latin1.up.sql:1:17: not valid UTF-8 (byte 0xe9); save the file as UTF-8",
        files={"2_latin1.up.sql": b"CREATE TABLE caf\xe9 (id int);"},
    ),
    case(
        "non-utf8-in-the-down-file-after-multibyte",
        DOWN_1,
        "error: {dir}/1_base.down.sql:2:14: not valid UTF-8 (byte 0xff)",
        files={"1_base.down.sql": "-- café\n".encode() + b"DROP TABLE b\xc3\xa9\xff;"},
        in_process=True,
    ),
    case(
        "psql-set",
        UP,
        "error: {dir}/2_meta.up.sql:2:1: psql meta-command \\set " + NOT_SQL,
        files={"2_meta.up.sql": "CREATE TABLE a (id int);\n\\set ON_ERROR_STOP on\nSELECT 1;"},
        vendors=PostgreSQL,
    ),
    case(
        "psql-include",
        UP,
        "error: {dir}/2_meta.up.sql:3:1: psql meta-command \\i " + NOT_SQL,
        files={"2_meta.up.sql": "CREATE TABLE a (id int);\n\n\\i other.sql\n"},
        vendors=PostgreSQL,
    ),
    case(
        "psql-connect",
        UP,
        "error: {dir}/2_meta.up.sql:1:1: psql meta-command \\connect " + NOT_SQL,
        files={"2_meta.up.sql": "\\connect otherdb\nCREATE TABLE a (id int);"},
        in_process=True,
        vendors=PostgreSQL,
    ),
    # -- what cannot be sent faithfully, or would release the lock (hardening) ------------
    case(
        "nul-byte-mid-file",
        UP,
        "error: {dir}/2_nul.up.sql:2:10: a NUL byte (0x00): PostgreSQL cannot receive it",
        files={"2_nul.up.sql": b"CREATE TABLE a (id int);\nSELECT 1;\x00\nDROP TABLE base;\n"},
        said={
            "sqlite": (
                "error: {dir}/2_nul.up.sql:2:10: a NUL byte (0x00): SQLite would stop reading",
            ),
            "mysql": (
                "error: {dir}/2_nul.up.sql:2:10: a NUL byte (0x00): the text after it could be",
            ),
        },
    ),
    case(
        "nul-byte-ending-one-statement",
        UP,
        "error: {dir}/2_nul.up.sql:1:25: a NUL byte (0x00)",
        files={"2_nul.up.sql": b"CREATE TABLE a (id int);\x00"},
        in_process=True,
    ),
    case(
        "nul-byte-in-validate",
        ("sqlmigrate_validate", "--path", "{dir}"),
        "error: {dir}/2_nul.up.sql:1:8: a NUL byte (0x00)",
        files={"2_nul.up.sql": b"SELECT \x001;", "2_nul.down.sql": ""},
    ),
    case(
        "unlock-all",
        UP,
        "error: {dir}/2_unlock.up.sql:2:8: pg_advisory_unlock_all() would release the migration "
        "lock in the middle of the run",
        files={"2_unlock.up.sql": "CREATE TABLE a (id int);\nSELECT pg_advisory_unlock_all();\n"},
        vendors=PostgreSQL,
    ),
    case(
        "discard-all",
        UP,
        "error: {dir}/2_discard.up.sql:1:1: DISCARD ALL would release the migration lock",
        files={"2_discard.up.sql": "DISCARD ALL;\n"},
        in_process=True,
        vendors=PostgreSQL,
    ),
    case(
        "set-client-encoding",
        UP,
        "error: {dir}/2_enc.up.sql:1:1: SET client_encoding changes how the server decodes",
        files={"2_enc.up.sql": "SET client_encoding = 'LATIN1';\nCREATE TABLE a (t text);\n"},
        in_process=True,
        vendors=PostgreSQL,
    ),
    case(
        "set-names",
        UP,
        "error: {dir}/2_enc.up.sql:2:1: SET client_encoding changes how the server decodes",
        files={"2_enc.up.sql": "CREATE TABLE a (t text);\nSET NAMES 'SQL_ASCII';\n"},
        vendors=PostgreSQL,
    ),
    case(
        "standard-strings-off",
        UP,
        "error: {dir}/2_scs.up.sql:2:1: standard_conforming_strings = off makes the server read",
        files={
            "2_scs.up.sql": "CREATE TABLE a (t text);\nSET standard_conforming_strings = off;\n"
        },
        in_process=True,
        vendors=PostgreSQL,
    ),
    case(
        "do-block-commit-inside-begin",
        UP,
        "error: {dir}/2_do.up.sql:2:1: DO block with COMMIT or ROLLBACK cannot run inside a "
        "transaction block",
        files={"2_do.up.sql": "BEGIN;\nDO $$BEGIN COMMIT; END$$;\nCOMMIT;\n"},
        in_process=True,
        vendors=PostgreSQL,
    ),
    case(
        "psql-copy",
        UP,
        "error: {dir}/2_meta.up.sql:2:1: psql meta-command \\copy " + NOT_SQL,
        files={"2_meta.up.sql": "CREATE TABLE a (id int);\n\\copy a FROM 'a.csv' csv\n"},
        in_process=True,
        vendors=PostgreSQL,
    ),
    case(
        "copy-from-stdin-with-data",
        UP,
        "error: {dir}/2_copy.up.sql:2:3: " + COPY_STDIN,
        files={"2_copy.up.sql": "CREATE TABLE a (id int);\n  COPY a FROM stdin;\n1\n2\n\\.\n"},
        vendors=PostgreSQL,
    ),
    case(
        "copy-to-stdout",
        UP,
        "{dir}/2_copy.up.sql:1:1: COPY ... TO STDOUT sends rows to psql",
        files={"2_copy.up.sql": "COPY base TO STDOUT;"},
        in_process=True,
        vendors=PostgreSQL,
    ),
    case(
        "unterminated-dollar-quote",
        UP,
        "error: {dir}/2_fn.up.sql:2:46: unterminated dollar-quoted string",
        files={
            "2_fn.up.sql": "CREATE TABLE a (id int);\n"
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql $$ SELECT 1;\n"
        },
        vendors=PostgreSQL,
    ),
    case(
        "dollar-tags-that-do-not-match",
        UP,
        "{dir}/2_fn.up.sql:1:49: unterminated dollar-quoted string",
        files={
            "2_fn.up.sql": "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1 $$;\n"
        },
        in_process=True,
        vendors=PostgreSQL,
    ),
    case(
        "unterminated-block-comment",
        UP,
        "error: {dir}/2_c.up.sql:2:1: unterminated /* comment",
        files={"2_c.up.sql": "CREATE TABLE a (id int);\n/* never closed\nSELECT 1;\n"},
        in_process=True,
    ),
    case(
        "nested-block-comment-closed-once",
        UP,
        "{dir}/2_c.up.sql:1:1: unterminated /* comment",
        files={"2_c.up.sql": "/* outer /* inner */ still a comment\nCREATE TABLE a (id int);\n"},
        in_process=True,
        vendors=PostgreSQL,
    ),
    case(
        "unterminated-string",
        UP,
        "error: {dir}/2_s.up.sql:2:28: unterminated quoted string",
        files={"2_s.up.sql": "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1), ('it''s;\n"},
        # SQLite's own test for a whole statement tells where the statement starts
        said={"sqlite": ("error: {dir}/2_s.up.sql:2:1: " + NEVER_ENDS,)},
    ),
    case(
        "unterminated-quoted-identifier",
        UP,
        "{dir}/2_s.up.sql:1:14: unterminated quoted identifier",
        files={"2_s.up.sql": 'CREATE TABLE "a (id int);\n'},
        in_process=True,
        said={
            "sqlite": ("{dir}/2_s.up.sql:1:1: " + NEVER_ENDS,),
            # MySQL reads "..." as a string (unless sql_mode has ANSI_QUOTES)
            "mysql": ("{dir}/2_s.up.sql:1:14: unterminated quoted string",),
        },
    ),
    case(
        "syntax-error-after-crlf-and-tab",
        UP,
        'error: {dir}/2_s.up.sql:2:2: syntax error at or near "SELEC"; nothing was run',
        files={"2_s.up.sql": "CREATE TABLE a (id int);\r\n\tSELEC 1;\r\n"},
        vendors=PostgreSQL,
    ),
    case(
        "syntax-error-at-run-time-after-crlf-and-tab",
        UP,
        "Nothing of 2_s.up.sql was applied: its transaction was rolled back and the database "
        "is still at version 1 (clean).",
        "Fix the file, then run: python manage.py sqlmigrate_up",
        files={"2_s.up.sql": "INSERT INTO base VALUES (1);\r\n\tSELECT * FORM base;\r\n"},
        # No pre-flight parser knows their grammar: the server judges, inside the file's
        # transaction; SQLite gives no position, so the statement's start is shown.
        vendors=("sqlite", "mysql"),
        said={
            "sqlite": ('error: {dir}/2_s.up.sql:2:2: near "FORM": syntax error (SQLITE_ERROR)',),
            "mysql": (
                "error: {dir}/2_s.up.sql:2:2: You have an error in your SQL syntax; check the "
                "manual that corresponds to your MariaDB server version for the right syntax to "
                "use near 'FORM base' at line 1 (1064)",
            ),
        },
        fails_at_run=True,
    ),
    case(
        "begin-never-committed",
        UP,
        "{dir}/2_tx.up.sql:2:1: this BEGIN is never committed",
        files={"2_tx.up.sql": "CREATE TABLE a (id int);\nBEGIN;\nCREATE TABLE b (id int);\n"},
        in_process=True,
        # MySQL: the CREATE TABLE after BEGIN commits it (see the row after this one)
        vendors=("postgresql", "sqlite"),
    ),
    case(
        "begin-never-committed-before-dml",
        UP,
        "{dir}/2_tx.up.sql:2:1: this BEGIN is never committed",
        files={"2_tx.up.sql": "CREATE TABLE a (id int);\nBEGIN;\nINSERT INTO base VALUES (1);\n"},
    ),
    case(
        "concurrently-inside-the-files-own-transaction",
        UP,
        "error: {dir}/2_tx.up.sql:3:1: CREATE INDEX CONCURRENTLY cannot run inside a transaction "
        "block, and this one is inside the file's own BEGIN ... COMMIT",
        files={
            "2_tx.up.sql": "BEGIN;\nCREATE TABLE a (id int);\n"
            "CREATE INDEX CONCURRENTLY i ON a (id);\nCOMMIT;\n"
        },
        vendors=PostgreSQL,
    ),
    case(
        "a-later-bad-file-stops-the-earlier-good-one",
        UP,
        "{dir}/3_bad.up.sql:1:1: psql meta-command \\set",
        files={"2_good.up.sql": "CREATE TABLE good (id int);", "3_bad.up.sql": "\\set x 1"},
        in_process=True,
        vendors=PostgreSQL,
    ),
    case(
        "a-later-unclosed-comment-stops-the-earlier-good-one",
        UP,
        "{dir}/3_bad.up.sql:2:1: unterminated /* comment",
        files={"2_good.up.sql": "CREATE TABLE good (id int);", "3_bad.up.sql": "SELECT 1;\n/* x\n"},
        in_process=True,
    ),
    case(
        "a-later-client-command-stops-the-earlier-good-one",
        UP,
        "{dir}/3_bad.up.sql:1:1: \\. is a command of the mysql client",
        files={"2_good.up.sql": "CREATE TABLE good (id int);", "3_bad.up.sql": "\\. x.sql\n"},
        vendors=("mysql",),
        in_process=True,
    ),
    case(
        "a-later-shell-command-stops-the-earlier-good-one",
        UP,
        "{dir}/3_bad.up.sql:1:1: .read is a command of the sqlite3 shell",
        files={"2_good.up.sql": "CREATE TABLE good (id int);", "3_bad.up.sql": ".read x.sql\n"},
        vendors=("sqlite",),
        in_process=True,
    ),
    # -- MySQL / MariaDB only ---------------------------------------------------------------
    case(
        "mysql-delimiter",
        UP,
        "error: {dir}/2_proc.up.sql:2:3: DELIMITER is a command of the mysql client, not SQL",
        files={"2_proc.up.sql": "CREATE TABLE a (id int);\n  DELIMITER //\nSELECT 1 //\n"},
        vendors=("mysql",),
    ),
    case(
        "mysql-delimiter-lowercase-first",
        UP,
        "{dir}/2_proc.up.sql:1:1: DELIMITER is a command of the mysql client",
        files={"2_proc.up.sql": "delimiter $$\nCREATE TABLE a (id int)$$\n"},
        vendors=("mysql",),
        in_process=True,
    ),
    case(
        "mysql-executable-comment",
        UP,
        "error: {dir}/2_dump.up.sql:2:1: an executable comment (/*! ... */) outside a statement: "
        "MySQL runs what is in it",
        files={"2_dump.up.sql": "CREATE TABLE a (id int);\n/*!40101 SET NAMES utf8 */;\n"},
        vendors=("mysql",),
    ),
    case(
        "mysql-mariadb-executable-comment-last",
        UP,
        "{dir}/2_dump.up.sql:2:6: an executable comment (/*! ... */)",
        files={"2_dump.up.sql": "CREATE TABLE a (id int);\n     /*M!100100 SET x = 1 */\n"},
        vendors=("mysql",),
        in_process=True,
    ),
    case(
        "mysql-unterminated-name",
        UP,
        "error: {dir}/2_s.up.sql:2:15: unterminated quoted name: it runs to the end of the file",
        files={"2_s.up.sql": "CREATE TABLE a (id int);\nSELECT 1 FROM `a;\n"},
        vendors=("mysql",),
    ),
    case(
        "mysql-client-source",
        UP,
        "error: {dir}/2_src.up.sql:2:1: SOURCE is a command of the mysql client, not SQL",
        files={"2_src.up.sql": "CREATE TABLE a (id int);\nsource other.sql;\n"},
        vendors=("mysql",),
    ),
    case(
        "mysql-client-backslash-g",
        UP,
        "{dir}/2_g.up.sql:2:19: \\G is a command of the mysql client",
        files={"2_g.up.sql": "CREATE TABLE a (id int);\nSELECT 1 FROM base\\G\n"},
        vendors=("mysql",),
        in_process=True,
    ),
    # -- SQLite only -----------------------------------------------------------------------
    case(
        "sqlite-trigger-body-never-ends",
        UP,
        "error: {dir}/2_trg.up.sql:2:1: " + NEVER_ENDS,
        files={
            "2_trg.up.sql": "CREATE TABLE a (id int);\n"
            "CREATE TRIGGER t AFTER INSERT ON base BEGIN\n  INSERT INTO a VALUES (1);\n"
        },
        vendors=("sqlite",),
    ),
    case(
        "sqlite-vacuum-inside-the-files-own-transaction",
        UP,
        "error: {dir}/2_tx.up.sql:3:1: VACUUM cannot run inside a transaction, and this one is "
        "inside the file's own BEGIN ... COMMIT",
        files={"2_tx.up.sql": "BEGIN;\nCREATE TABLE a (id int);\nVACUUM;\nCOMMIT;\n"},
        vendors=("sqlite",),
    ),
    case(
        "sqlite-vacuum-inside-a-block",
        UP,
        "{dir}/2_tx.up.sql:3:1: VACUUM cannot run inside a transaction, and this one is inside "
        "a BEGIN ... COMMIT block",
        files={"2_tx.up.sql": "VACUUM;\nBEGIN;\nVACUUM;\nCOMMIT;\n"},
        vendors=("sqlite",),
        in_process=True,
    ),
    case(
        "sqlite-shell-dot-commands",
        UP,
        "error: {dir}/2_csv.up.sql:2:1: .mode is a command of the sqlite3 shell, not SQL",
        files={"2_csv.up.sql": "CREATE TABLE a (id int);\n.mode csv\n.import data.csv a\n"},
        vendors=("sqlite",),
    ),
    # -- database state -----------------------------------------------------------------------
    case(
        "dirty-up",
        UP,
        DIRTY.replace("{v}", "1"),
        "`python manage.py sqlmigrate_force 1` if the database now matches it or "
        "`python manage.py sqlmigrate_force -1` if you undid the file",
        setup="UPDATE schema_migrations SET dirty = true",
    ),
    case(
        "dirty-down",
        DOWN_1,
        DIRTY.replace("error: ", "").replace("{v}", "1"),
        setup="UPDATE schema_migrations SET dirty = true",
        in_process=True,
    ),
    case(
        "dirty-no-version-after-a-failed-first-down",
        ("sqlmigrate_goto", "1", "--path", "{dir}"),
        DIRTY.replace("{v}", "-1"),
        "`python manage.py sqlmigrate_force -1` if the database now matches it or "
        "`python manage.py sqlmigrate_force 1` if you undid the file",
        setup="DELETE FROM schema_migrations; INSERT INTO schema_migrations VALUES (-1, true)",
    ),
    case(
        "version-without-a-file",
        UP,
        "no migration found for version 7: the database is at this version but {dir} has no "
        "7_*.up.* or 7_*.down.* file",
        setup=7,
        in_process=True,
    ),
    case(
        "goto-a-version-without-a-file",
        ("sqlmigrate_goto", "9", "--path", "{dir}"),
        "error: no migration found for version 9: {dir} has no 9_*.up.* or 9_*.down.* file",
        in_process=True,
    ),
    # -- arguments ----------------------------------------------------------------------------
    case(
        "up-negative",
        ("sqlmigrate_up", "-1", "--path", "{dir}"),
        usage_error(
            "sqlmigrate_up",
            "argument n: can't read limit argument N: '-1' is not a count of migrations, 0 or more",
        ),
        code=2,
    ),
    case(
        "up-word",
        ("sqlmigrate_up", "abc", "--path", "{dir}"),
        usage_error("sqlmigrate_up", "argument n: can't read limit argument N: 'abc'"),
        code=2,
    ),
    case(
        "down-word",
        ("sqlmigrate_down", "x", "--path", "{dir}"),
        usage_error("sqlmigrate_down", "argument n: can't read limit argument N: 'x'"),
        code=2,
    ),
    case(
        "down-without-n-noinput",
        ("sqlmigrate_down", "--noinput", "--path", "{dir}"),
        "error: down without N would roll back every migration: pass N, or --all to mean it",
        in_process=True,
    ),
    case(
        "goto-negative",
        ("sqlmigrate_goto", "-3", "--path", "{dir}"),
        usage_error("sqlmigrate_goto", "argument version: can't read version argument V: '-3'"),
        code=2,
    ),
    case(
        "goto-word",
        ("sqlmigrate_goto", "abc", "--path", "{dir}"),
        usage_error(
            "sqlmigrate_goto",
            "argument version: can't read version argument V: 'abc' is not a version number",
        ),
        code=2,
    ),
    case(
        "force-below-minus-one",
        ("sqlmigrate_force", "-2", "--path", "{dir}"),
        usage_error(
            "sqlmigrate_force",
            "argument version: can't read version argument V: '-2' is not a version number, "
            "or -1 for none",
        ),
        code=2,
    ),
    case(
        "force-fraction",
        ("sqlmigrate_force", "1.5", "--path", "{dir}"),
        usage_error("sqlmigrate_force", "argument version: can't read version argument V: '1.5'"),
        code=2,
    ),
    case(
        "lock-timeout-negative",
        ("sqlmigrate_up", "--lock-timeout", "-1", "--path", "{dir}"),
        "error: lock timeout must be a positive number of seconds, not -1.0",
    ),
    case(
        "lock-timeout-zero-on-force",
        ("sqlmigrate_force", "1", "--lock-timeout", "0", "--path", "{dir}"),
        "error: lock timeout must be a positive number of seconds, not 0.0",
        in_process=True,
    ),
    case(
        "lock-timeout-nan-on-down",
        ("sqlmigrate_down", "1", "--lock-timeout", "nan", "--path", "{dir}"),
        "error: lock timeout must be a positive number of seconds, not nan",
        in_process=True,
    ),
    case(
        "lock-timeout-word",
        ("sqlmigrate_up", "--lock-timeout", "abc", "--path", "{dir}"),
        usage_error("sqlmigrate_up", "argument --lock-timeout: invalid float value: 'abc'"),
        code=2,
    ),
    *[
        case(
            f"unknown-database-{command[0].removeprefix('sqlmigrate_')}",
            (*command, "--database", "nope"),
            "error: database alias 'nope' is not in DATABASES (known aliases: default)",
        )
        for command in [UP, FORCE_1, VERSION]
    ],
    # -- settings -----------------------------------------------------------------------------
    *[
        case(
            f"table-setting-{label}-{command[0].removeprefix('sqlmigrate_')}",
            command,
            f"error: SQLMIGRATE_TABLE {value!r} must be a plain table name: the table lives in "
            "current_schema(), as golang-migrate's does; to put it in another schema, set "
            "search_path on the connection",
            settings=f"SQLMIGRATE_TABLE = {value!r}",
        )
        for label, value, command in [
            ("schema-qualified", "public.schema_migrations", UP),
            ("schema-qualified", "public.schema_migrations", VERSION),
            ("with-quotes", 'my"table', FORCE_1),
        ]
    ],
    case(
        "table-setting-empty",
        UP,
        "error: SQLMIGRATE_TABLE '' is empty",
        settings="SQLMIGRATE_TABLE = ''",
    ),
    case(
        "history-setting-schema-qualified",
        UP,
        "error: SQLMIGRATE_HISTORY_TABLE 'audit.history' must be a plain table name",
        settings="SQLMIGRATE_HISTORY_TABLE = 'audit.history'",
    ),
    case(
        "lock-timeout-setting-word",
        UP,
        "error: SQLMIGRATE_LOCK_TIMEOUT must be a number of seconds, not 'soon'",
        settings="SQLMIGRATE_LOCK_TIMEOUT = 'soon'",
    ),
    # -- create -------------------------------------------------------------------------------
    case(
        "create-parent-path",
        ("sqlmigrate_create", "../x", "--dir", "{dir}"),
        "error: migration name '../x' contains /; use letters, digits, _ and -",
    ),
    case(
        "create-subfolder",
        ("sqlmigrate_create", "a/b", "--dir", "{dir}"),
        "error: migration name 'a/b' contains /",
    ),
    case(
        "create-existing-target",
        ("sqlmigrate_create", "add_users", "--format", "2006", "--dir", "{dir}"),
        "error: duplicate migration version: {year} ({dir}/{year}_add_users.up.sql already exists)",
        files={"{year}_add_users.up.sql": "SELECT 1;"},
    ),
    case(
        "create-into-a-file",
        ("sqlmigrate_create", "x", "--dir", "{dir}/notes.txt"),
        "error: cannot read folder {dir}/notes.txt: Not a directory",
        files={"notes.txt": "not a folder"},
    ),
]


def prepare(vendor: Vendor, migrations: Migrations) -> None:
    migrations.pair(1, "base", "CREATE TABLE base (id int);", "DROP TABLE base;")
    engine.up(using=vendor.alias, path=migrations.path)


def place(folder: Path, files: dict[str, Content], **names: str) -> None:
    for raw_name, content in files.items():
        target = folder / raw_name.format(**names)
        if isinstance(content, Link):
            target.symlink_to(content.target)
        elif isinstance(content, Folder):
            target.mkdir()
        elif isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")


def relations(vendor: Vendor) -> list[tuple[Any, ...]]:
    """Every table, view, index and sequence of the test's database, with its kind."""
    if vendor.schema is not None:
        return vendor.query(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname IN ('{vendor.schema.name}', 'public') ORDER BY 1, 2"
        )
    if vendor.name == "sqlite":
        return vendor.query("SELECT type, name, sql FROM sqlite_master ORDER BY 1, 2")
    return vendor.query(
        "SELECT table_name, table_type, create_time FROM information_schema.tables "
        "WHERE table_schema = DATABASE() ORDER BY 1"
    )


def snapshot(vendor: Vendor, folder: Path) -> tuple[Any, ...]:
    """Everything a bad command must leave alone."""
    history = vendor.query(f"SELECT * FROM {HISTORY} ORDER BY id")
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    return vendor.version_row(), relations(vendor), history, files


def settings_env(tmp_path: Path, settings: str | None) -> dict[str, str]:
    if settings is None:
        return {}
    module = tmp_path / "bad_input_settings.py"
    module.write_text(f"from realstaging.settings import *  # noqa\n{settings}\n", encoding="utf-8")
    paths = [str(tmp_path), os.environ.get("PYTHONPATH", "")]
    return {
        "DJANGO_SETTINGS_MODULE": "bad_input_settings",
        "PYTHONPATH": os.pathsep.join(p for p in paths if p),
    }


def on_postgresql(schema: Schema) -> Vendor:
    """The tests below run on PostgreSQL alone (the ``schema`` fixture)."""
    return Vendor("postgresql", "default", schema.url, schema=schema)


def set_up(vendor: Vendor, migrations: Migrations, setup: str | int | None) -> None:
    if isinstance(setup, int):
        engine.force(setup, using=vendor.alias, path=migrations.path)
        return
    for statement in (setup or "").split(";"):
        if statement.strip():  # one statement per call: not every driver takes more
            vendor.query(statement)


def with_database(vendor: Vendor, args: list[str]) -> list[str]:
    """In this process every vendor but PostgreSQL is an alias of its own."""
    return [*args, *vendor.options()] if args[0] != "sqlmigrate_create" else args


#: every row on each vendor it is bad input for
ROWS = [pytest.param(name, bad, id=f"{bad.name}-{name}") for bad in CASES for name in bad.vendors]


@pytest.mark.parametrize(("vendor", "bad"), ROWS, indirect=["vendor"])
def test_bad_input(vendor: Vendor, migrations: Migrations, tmp_path: Path, bad: Case) -> None:
    prepare(vendor, migrations)
    names = {"dir": str(migrations.path), "year": str(dt.datetime.now(dt.UTC).year)}
    place(migrations.path, bad.files, **names)
    set_up(vendor, migrations, bad.setup)
    before = snapshot(vendor, migrations.path)
    args = [arg.format(**names) for arg in bad.args]

    if bad.in_process:
        assert bad.settings is None
        result = run_command(*with_database(vendor, args))
        code, out, err = result.code, result.out, result.err
    else:
        env = settings_env(tmp_path, bad.settings)
        done = run_manage(*args, url=vendor.url, timeout=30, **env)
        code, out, err = done.returncode, done.stdout, done.stderr
        assert "Traceback" not in err
        assert err.startswith("error: " if bad.code == 1 else "usage: "), err

    assert code == bad.code, err
    assert out == ""
    for phrase in bad.phrases_on(vendor.name):
        expected = phrase.format(**names)
        # call_command raises CommandError: the same message, without the CLI's "error: "
        assert (expected.removeprefix("error: ") if bad.in_process else expected) in err
    after = snapshot(vendor, migrations.path)
    if bad.fails_at_run:
        *unchanged, history, files = after
        assert (*unchanged, files) == (*before[:2], before[3])
        assert history[: len(before[2])] == before[2]
        assert [row[1:5] for row in history[len(before[2]) :]] == [
            (2, next(iter(bad.files)), "up", "failed")
        ]
        return
    assert after == before


# -- not errors: what golang-migrate accepts, sqlmigrate accepts too -----------------------------


def test_near_miss_names_are_ignored_like_golang_migrate(
    schema: Schema, migrations: Migrations
) -> None:
    prepare(on_postgresql(schema), migrations)
    for name in ["2_x.UP.sql", "2-x.up.sql", "x_2.up.sql", "2_x.up", "2_x.sql", "٢_x.up.sql"]:
        migrations.write(name, "CREATE TABLE x (id int);")
    done = run_manage("sqlmigrate_up", "--path", str(migrations.path), url=schema.url)
    assert (done.returncode, done.stdout, done.stderr) == (0, "no change\n", "")
    assert schema.version_row() == [(1, False)]
    assert "x" not in schema.tables()


def test_empty_identifier_is_a_migration(schema: Schema, migrations: Migrations) -> None:
    """``2_.up.sql`` matches golang-migrate's pattern (the identifier may be empty)."""
    prepare(on_postgresql(schema), migrations)
    migrations.write("2_.up.sql", "CREATE TABLE two (id int);")
    migrations.write("2_.down.sql", "DROP TABLE two;")
    done = run_manage("sqlmigrate_up", "--path", str(migrations.path), url=schema.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK   2_.up.sql (")
    assert schema.version_row() == [(2, False)]
    result = run_command("sqlmigrate_down", "1", "--path", str(migrations.path))
    assert result.out.startswith("OK   2_.down.sql (")
    assert "two" not in schema.tables()


def test_down_file_without_its_up(schema: Schema, migrations: Migrations) -> None:
    """golang-migrate: the version exists; ``up`` moves onto it running nothing, ``down`` runs the file."""
    prepare(on_postgresql(schema), migrations)
    migrations.write("2_orphan.down.sql", "CREATE TABLE undone (id int);")
    done = run_manage("sqlmigrate_up", "--path", str(migrations.path), url=schema.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK   2_orphan (no up file) (")
    assert done.stderr == (
        "warning: version 2 has no up file: nothing to run, the version moves on as "
        "golang-migrate does\n"
    )
    assert schema.version_row() == [(2, False)]
    result = run_command("sqlmigrate_down", "1", "--path", str(migrations.path))
    assert result.out.startswith("OK   2_orphan.down.sql (")
    assert schema.version_row() == [(1, False)]
    assert "undone" in schema.tables()


# -- credentials ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("sqlmigrate_up",),
        ("sqlmigrate_up", "--traceback"),
        ("sqlmigrate_force", "1"),
        ("sqlmigrate_version",),
        ("sqlmigrate_status", "--check"),
    ],
    ids=lambda command: "-".join(command),
)
def test_password_never_printed_when_nothing_listens(
    migrations: Migrations, command: tuple[str, ...]
) -> None:
    migrations.pair(1, "base", "CREATE TABLE base (id int);")
    # sqlmigrate_version reads no folder, so it takes no --path
    folder = [] if command[0] == "sqlmigrate_version" else ["--path", str(migrations.path)]
    done = run_manage(*command, *folder, url=UNREACHABLE, timeout=30)
    assert done.returncode == 1
    assert SECRET not in done.stdout + done.stderr
    # sqlmigrate_status reports it on stdout, among its other lines
    assert (
        "cannot connect to database alias 'default' (127.0.0.1, database 'db'): connection "
        'failed: connection to server at "127.0.0.1", port 1 failed: Connection refused'
    ) in done.stdout + done.stderr


def _system_postgres_checks_passwords() -> bool:
    try:
        psycopg.connect(
            f"postgresql://postgres:{SECRET}@127.0.0.1:5432/postgres", connect_timeout=3
        ).close()
    except psycopg.OperationalError as error:
        return "password authentication failed" in str(error)
    return False  # it let us in with a wrong password: trust, nothing to test


def test_password_never_printed_when_it_is_wrong(migrations: Migrations) -> None:
    if not _system_postgres_checks_passwords():
        pytest.skip("no PostgreSQL with password authentication on 127.0.0.1:5432")
    migrations.pair(1, "base", "CREATE TABLE base (id int);")
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:5432/postgres"
    done = run_manage("sqlmigrate_up", "--path", str(migrations.path), url=url, timeout=30)
    assert done.returncode == 1
    assert SECRET not in done.stdout + done.stderr
    assert 'password authentication failed for user "postgres"' in done.stderr


# -- bugs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (("sqlmigrate_force", "1_0"), "version argument V: '1_0'"),
        (("sqlmigrate_goto", "٢"), "version argument V: '٢'"),
        (("sqlmigrate_up", "1_0"), "limit argument N: '1_0'"),
    ],
    ids=["force-underscore", "goto-arabic-indic-digit", "up-underscore"],
)
def test_numbers_with_underscores_or_foreign_digits_are_refused(
    schema: Schema, migrations: Migrations, args: tuple[str, ...], what: str
) -> None:
    prepare(on_postgresql(schema), migrations)
    migrations.pair(2, "two", "CREATE TABLE two (id int);", "DROP TABLE two;")
    before = snapshot(on_postgresql(schema), migrations.path)
    result = run_command(*args, "--path", str(migrations.path))
    assert result.code != 0
    assert f"can't read {what}" in result.err
    assert snapshot(on_postgresql(schema), migrations.path) == before


def test_a_failed_down_n_says_to_rerun_down_n(schema: Schema, migrations: Migrations) -> None:
    prepare(on_postgresql(schema), migrations)
    migrations.pair(2, "two", "CREATE TABLE two (id int);", "DROP TABLE nope;")
    engine.up(path=migrations.path)
    done = run_manage("sqlmigrate_down", "1", "--path", str(migrations.path), url=schema.url)
    assert done.returncode == 1
    assert "Nothing of 2_two.down.sql was applied" in done.stderr
    assert schema.version_row() == [(2, False)]
    assert "Fix the file, then run: python manage.py sqlmigrate_down 1\n" in done.stderr


def test_status_does_not_guess_when_the_database_is_unreachable(migrations: Migrations) -> None:
    migrations.pair(1, "base", "CREATE TABLE base (id int);")
    done = run_manage("sqlmigrate_status", "--path", str(migrations.path), url=UNREACHABLE)
    assert SECRET not in done.stdout + done.stderr
    assert "cannot connect to database alias 'default'" in done.stdout + done.stderr
    assert "table not created yet" not in done.stdout


@pytest.mark.parametrize(
    ("command", "settings", "setup"),
    [
        (UP, "SQLMIGRATE_HISTORY_TABLE = 'schema_migrations'", None),
        (FORCE_1, None, "CREATE TABLE schema_migrations_history (note text)"),
    ],
    ids=["history-setting-names-the-version-table-up", "unrelated-table-of-that-name-force"],
)
def test_a_history_table_that_is_not_ours_is_reported(
    schema: Schema,
    migrations: Migrations,
    tmp_path: Path,
    command: tuple[str, ...],
    settings: str | None,
    setup: str | None,
) -> None:
    migrations.pair(1, "base", "CREATE TABLE base (id int);", "DROP TABLE base;")
    if setup:
        schema.query(setup)
    args = [arg.format(dir=migrations.path) for arg in command]
    done = run_manage(*args, url=schema.url, timeout=30, **settings_env(tmp_path, settings))
    assert done.returncode == 1
    assert "base" not in schema.tables()
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ")
    assert "schema_migrations" in done.stderr
