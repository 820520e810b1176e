"""Splitting and classifying a migration file before anything runs. No database."""

from __future__ import annotations

import pytest

from sqlmigrate.backends.postgresql import splitting
from sqlmigrate.backends.postgresql.parsing import parse_migration
from sqlmigrate.exceptions import SqlParseError
from sqlmigrate.sql import ParsedSql

FILE = "migrations/0001_x.up.sql"
NOTHING_RUN = "; nothing was run"
COPY_FROM_STDIN = (
    "COPY ... FROM STDIN needs psql to send the data that follows it; sqlmigrate sends "
    "files to the server as SQL. Use INSERT ... VALUES, or COPY from a file the server "
    "can read; nothing was run"
)


def statements(parsed: ParsedSql) -> list[str]:
    return [parsed.statement_text(statement) for statement in parsed.statements]


def rejected(text: str) -> SqlParseError:
    with pytest.raises(SqlParseError) as caught:
        parse_migration(text, FILE)
    return caught.value


def meta_command(name: str) -> str:
    return (
        f"psql meta-command {name} is not SQL: migration files go to the server, not to psql "
        f"(golang-migrate would fail here too). Replace it with plain SQL; nothing was run"
    )


def inside_block(what: str, block: str) -> str:
    return (
        f"{what} cannot run inside a transaction block, and this one is inside {block}. "
        f"Move it to a file of its own without BEGIN/COMMIT; nothing was run"
    )


# Files that run inside one transaction with their version update, statement by statement.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n",
            ["CREATE TABLE a (id int)", "INSERT INTO a VALUES (1)"],
            id="plain",
        ),
        pytest.param("SELECT 1;\nSELECT 2", ["SELECT 1", "SELECT 2"], id="no final semicolon"),
        pytest.param(
            "BEGIN;\nCREATE TABLE a (id int);\nINSERT INTO a VALUES ('x;y');\nCOMMIT;\n",
            ["CREATE TABLE a (id int)", "INSERT INTO a VALUES ('x;y')"],
            id="seed BEGIN/COMMIT",
        ),
        pytest.param(
            "-- seed\nBEGIN;\n  INSERT INTO a VALUES (1);\n-- done\nCOMMIT;\n",
            ["INSERT INTO a VALUES (1)"],
            id="seed with comments",
        ),
        pytest.param(
            "START TRANSACTION;\nCREATE TABLE a (id int);\nEND;\n",
            ["CREATE TABLE a (id int)"],
            id="START TRANSACTION/END",
        ),
        pytest.param(
            "begin work;\nSELECT 1;\ncommit transaction;\n", ["SELECT 1"], id="BEGIN WORK"
        ),
        pytest.param(
            "BEGIN;\r\nINSERT INTO a VALUES (1);\r\nCOMMIT;\r\n",
            ["INSERT INTO a VALUES (1)"],
            id="seed with CRLF",
        ),
        pytest.param("BEGIN;\nCOMMIT;\n", [], id="empty BEGIN/COMMIT"),
        pytest.param(
            "INSERT INTO t VALUES ('%', '%s', '%(x)s', '%%');\nSELECT 5 % 3;\n",
            ["INSERT INTO t VALUES ('%', '%s', '%(x)s', '%%')", "SELECT 5 % 3"],
            id="percent signs",
        ),
        pytest.param(
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; SELECT 2; $$ LANGUAGE sql;\n"
            "CREATE FUNCTION g() RETURNS int AS $fn$\nBEGIN\n  RETURN 1;\nEND;\n$fn$"
            " LANGUAGE plpgsql;\n",
            [
                "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; SELECT 2; $$ LANGUAGE sql",
                "CREATE FUNCTION g() RETURNS int AS $fn$\nBEGIN\n  RETURN 1;\nEND;\n$fn$"
                " LANGUAGE plpgsql",
            ],
            id="dollar quotes",
        ),
        pytest.param(
            "DO $$\nBEGIN\n  PERFORM 1;\nEND\n$$;\nSELECT 1;\n",
            ["DO $$\nBEGIN\n  PERFORM 1;\nEND\n$$", "SELECT 1"],
            id="DO block",
        ),
        pytest.param(
            "CREATE FUNCTION h() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n"
            "  SELECT 2;\nEND;\n",
            [
                "CREATE FUNCTION h() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n"
                "  SELECT 2;\nEND"
            ],
            id="BEGIN ATOMIC body",
        ),
        pytest.param(
            "/* a /* nested; */ still comment; */ SELECT 1;\n", ["SELECT 1"], id="nested comment"
        ),
        pytest.param(
            "SELECT E'a\\';b';\nSELECT 'c\\';\n",
            ["SELECT E'a\\';b'", "SELECT 'c\\'"],
            id="E string and standard string",
        ),
        pytest.param("ANALYZE t;\n", ["ANALYZE t"], id="ANALYZE"),
        pytest.param(
            "COPY t FROM '/srv/data.csv' WITH (FORMAT csv);\nCOPY t TO '/tmp/out.csv';\n",
            ["COPY t FROM '/srv/data.csv' WITH (FORMAT csv)", "COPY t TO '/tmp/out.csv'"],
            id="COPY with server files",
        ),
        pytest.param(
            "CREATE TABLE concurrently_log (database text, system text);\n",
            ["CREATE TABLE concurrently_log (database text, system text)"],
            id="trigger words as names",
        ),
        pytest.param(
            "ALTER DATABASE d SET work_mem = '1MB';\n",
            ["ALTER DATABASE d SET work_mem = '1MB'"],
            id="ALTER DATABASE SET",
        ),
        pytest.param(
            "INSERT INTO t VALUES ('日本語');\nSELECT 'é😀';\n",
            ["INSERT INTO t VALUES ('日本語')", "SELECT 'é😀'"],
            id="non-ASCII",
        ),
        pytest.param("SELECT '\\set x';\n", ["SELECT '\\set x'"], id="backslash in a string"),
        pytest.param("", [], id="empty"),
        pytest.param(" \n\t\r\n", [], id="whitespace"),
        pytest.param("-- nothing\n/* at all */\n", [], id="comments only"),
        pytest.param(";\n;\n", [], id="semicolons only"),
    ],
)
def test_atomic(text: str, expected: list[str]) -> None:
    parsed = parse_migration(text, FILE)
    assert statements(parsed) == expected
    assert (parsed.atomic, parsed.reason) == (True, None)
    assert (parsed.location, parsed.text) == (FILE, text)


# Files that must run as they are, under the dirty-flag protocol.
@pytest.mark.parametrize(
    ("text", "expected", "reason"),
    [
        pytest.param(
            "CREATE INDEX CONCURRENTLY i ON t (a);\n",
            ["CREATE INDEX CONCURRENTLY i ON t (a)"],
            "CREATE INDEX CONCURRENTLY (line 1)",
            id="CREATE INDEX CONCURRENTLY alone",
        ),
        pytest.param(
            "CREATE TABLE t (a int);\n\n-- index\ncreate index concurrently i on t (a);\n",
            ["CREATE TABLE t (a int)", "create index concurrently i on t (a)"],
            "CREATE INDEX CONCURRENTLY (line 4)",
            id="CREATE INDEX CONCURRENTLY second",
        ),
        pytest.param(
            "DROP INDEX CONCURRENTLY i;\n",
            ["DROP INDEX CONCURRENTLY i"],
            "DROP INDEX CONCURRENTLY (line 1)",
            id="DROP INDEX CONCURRENTLY",
        ),
        pytest.param(
            "REINDEX INDEX CONCURRENTLY i;\n",
            ["REINDEX INDEX CONCURRENTLY i"],
            "REINDEX CONCURRENTLY (line 1)",
            id="REINDEX ... CONCURRENTLY",
        ),
        pytest.param(
            "REINDEX (CONCURRENTLY) TABLE t;\n",
            ["REINDEX (CONCURRENTLY) TABLE t"],
            "REINDEX CONCURRENTLY (line 1)",
            id="REINDEX (CONCURRENTLY)",
        ),
        pytest.param(
            "/* c */ VACUUM t;\n", ["VACUUM t"], "VACUUM (line 1)", id="VACUUM after a comment"
        ),
        pytest.param(
            "VACUUM ANALYZE t;\n", ["VACUUM ANALYZE t"], "VACUUM (line 1)", id="VACUUM ANALYZE"
        ),
        pytest.param(
            "CREATE DATABASE x;\n",
            ["CREATE DATABASE x"],
            "CREATE DATABASE (line 1)",
            id="CREATE DB",
        ),
        pytest.param(
            "DROP DATABASE x;\n", ["DROP DATABASE x"], "DROP DATABASE (line 1)", id="DROP DB"
        ),
        pytest.param(
            "ALTER SYSTEM SET work_mem = '4MB';\n",
            ["ALTER SYSTEM SET work_mem = '4MB'"],
            "ALTER SYSTEM (line 1)",
            id="ALTER SYSTEM",
        ),
        pytest.param(
            "ALTER TABLE p DETACH PARTITION c CONCURRENTLY;\n",
            ["ALTER TABLE p DETACH PARTITION c CONCURRENTLY"],
            "DETACH PARTITION CONCURRENTLY (line 1)",
            id="DETACH CONCURRENTLY",
        ),
        pytest.param(
            "CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);\n",
            ["CREATE TABLE a (id int)", "COMMIT", "CREATE TABLE b (id int)"],
            "transaction control inside the file (line 2)",
            id="COMMIT in the middle",
        ),
        pytest.param(
            "BEGIN ISOLATION LEVEL SERIALIZABLE;\nCREATE TABLE a (id int);\nCOMMIT;\n",
            ["BEGIN ISOLATION LEVEL SERIALIZABLE", "CREATE TABLE a (id int)", "COMMIT"],
            "transaction control inside the file (line 1)",
            id="BEGIN with options",
        ),
        pytest.param(
            "BEGIN;\nINSERT INTO a VALUES (1);\nROLLBACK;\n",
            ["BEGIN", "INSERT INTO a VALUES (1)", "ROLLBACK"],
            "transaction control inside the file (line 1)",
            id="BEGIN/ROLLBACK",
        ),
        pytest.param(
            "BEGIN;\nSAVEPOINT s;\nSELECT 1;\nCOMMIT;\n",
            ["BEGIN", "SAVEPOINT s", "SELECT 1", "COMMIT"],
            "transaction control inside the file (line 1)",
            id="SAVEPOINT inside",
        ),
        pytest.param(
            "BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;\nCOMMIT;\n",
            ["BEGIN", "SELECT 1", "COMMIT", "BEGIN", "SELECT 2", "COMMIT"],
            "transaction control inside the file (line 1)",
            id="two blocks",
        ),
    ],
)
def test_not_atomic(text: str, expected: list[str], reason: str) -> None:
    parsed = parse_migration(text, FILE)
    assert statements(parsed) == expected
    assert (parsed.atomic, parsed.reason) == (False, reason)


# PostgreSQL: "REINDEX SCHEMA/SYSTEM/DATABASE cannot run inside a transaction block"
# (indexcmds.c ExecReindex, PreventInTransactionBlock), with or without CONCURRENTLY.
@pytest.mark.parametrize(
    "text", ["REINDEX SCHEMA public;\n", "REINDEX DATABASE d;\n", "REINDEX SYSTEM d;\n"]
)
def test_reindex_schema_system_database_not_atomic(text: str) -> None:
    parsed = parse_migration(text, FILE)
    assert not parsed.atomic
    assert parsed.reason is not None
    assert parsed.reason.startswith(text.split()[0] + " ")
    assert parsed.reason.endswith(" (line 1)")


def test_statement_offsets_are_characters() -> None:
    text = "SELECT '😀';\nSELECT 'é';"
    parsed = parse_migration(text, FILE)
    assert [(s.start, s.end) for s in parsed.statements] == [(0, 10), (12, 22)]


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        pytest.param(
            "BEGIN;\nCREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY i ON t (a);\nCOMMIT;\n",
            "3:1",
            inside_block("CREATE INDEX CONCURRENTLY", "the file's own BEGIN ... COMMIT"),
            id="CONCURRENTLY in the seed block",
        ),
        pytest.param(
            "START TRANSACTION;\nSELECT '😀'; VACUUM t;\nEND;\n",
            "2:13",
            inside_block("VACUUM", "the file's own BEGIN ... COMMIT"),
            id="VACUUM in the block, after non-ASCII",
        ),
        pytest.param(
            "BEGIN ISOLATION LEVEL SERIALIZABLE;\nDROP INDEX CONCURRENTLY i;\nCOMMIT;\n",
            "2:1",
            inside_block("DROP INDEX CONCURRENTLY", "a BEGIN ... COMMIT block"),
            id="CONCURRENTLY in a block with options",
        ),
        pytest.param(
            "CREATE INDEX CONCURRENTLY i ON t (a);\nBEGIN;\n  CREATE DATABASE x;\nCOMMIT;\n",
            "3:3",
            inside_block("CREATE DATABASE", "a BEGIN ... COMMIT block"),
            id="CREATE DATABASE in a later block",
        ),
        pytest.param(
            "SELECT 1;\nBEGIN;\nCREATE TABLE t (a int);\n",
            "2:1",
            "this BEGIN is never committed: the file would end inside an open transaction. "
            "Add COMMIT; at the end; nothing was run",
            id="BEGIN never committed",
        ),
        pytest.param(
            "BEGIN;\nSELECT 1;\nCOMMIT;\nSELECT '😀'; START TRANSACTION;\nSELECT 2;\n",
            "4:13",
            "this BEGIN is never committed: the file would end inside an open transaction. "
            "Add COMMIT; at the end; nothing was run",
            id="second BEGIN never committed",
        ),
    ],
)
def test_transaction_block_errors(text: str, where: str, message: str) -> None:
    error = rejected(text)
    assert str(error) == f"{FILE}:{where}: {message}"
    assert (error.location, error.reason) == (f"{FILE}:{where}", message)


@pytest.mark.parametrize(
    ("text", "where", "command"),
    [
        ("CREATE TABLE a (id int);\n\\set x 1\nSELECT 1;\n", "2:1", "\\set"),
        ("SELECT 1;\n\\i other.sql\n", "2:1", "\\i"),
        ("  \\connect db\nSELECT 1;\n", "1:3", "\\connect"),
        ("\\c db\n", "1:1", "\\c"),
        ("SELECT 1;\nSELECT 2 \\gset\n", "2:10", "\\gset"),
        ("SELECT 'é😀'; \\set x 1\n", "1:14", "\\set"),
        ("SELECT 1;\r\n\r\n\\echo hi\r\n", "3:1", "\\echo"),
    ],
)
def test_psql_meta_commands(text: str, where: str, command: str) -> None:
    assert str(rejected(text)) == f"{FILE}:{where}: {meta_command(command)}"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param(
            "CREATE TABLE t (a int, b text);\nCOPY t FROM stdin;\n1\tone\n2\ttwo\n\\.\nSELECT 1;\n",
            "2:1",
            id="with data",
        ),
        pytest.param("COPY t (a, b) FROM STDIN WITH (FORMAT csv);\n1,x\n\\.\n", "1:1", id="csv"),
        pytest.param("SELECT 1;\n  copy t from stdin;\n", "2:3", id="no data"),
        pytest.param("SELECT 'é'; COPY t FROM stdin;\n1\n\\.\n", "1:13", id="after non-ASCII"),
    ],
)
def test_copy_from_stdin(text: str, where: str) -> None:
    assert str(rejected(text)) == f"{FILE}:{where}: {COPY_FROM_STDIN}"


@pytest.mark.parametrize("text", ["COPY t TO STDOUT;\n", "COPY (SELECT 1) TO STDOUT;\n"])
def test_copy_to_stdout(text: str) -> None:
    assert str(rejected(text)) == (
        f"{FILE}:1:1: COPY ... TO STDOUT sends rows to psql; a migration has nowhere to put them"
    )


@pytest.mark.parametrize(
    "text",
    [
        "-- we used to COPY t FROM stdin here\nSELEC 1;\n",
        "INSERT INTO notes VALUES ('COPY x FROM stdin');\nSELEC 1;\n",
    ],
)
def test_copy_in_comment_or_string_does_not_hide_a_syntax_error(text: str) -> None:
    assert str(rejected(text)) == f'{FILE}:2:1: syntax error at or near "SELEC"{NOTHING_RUN}'


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        pytest.param("SELEC 1;\n", "1:1", 'syntax error at or near "SELEC"', id="first line"),
        pytest.param(
            "CREATE TABLE a (id int);\n\n  SELEC 1;\n",
            "3:3",
            'syntax error at or near "SELEC"',
            id="third line",
        ),
        pytest.param(
            "SELECT '日本語'; SELEC 1;\n",
            "1:15",
            'syntax error at or near "SELEC"',
            id="after CJK",
        ),
        pytest.param(
            "SELECT '😀😀'; SELEC 1;\n",
            "1:14",
            'syntax error at or near "SELEC"',
            id="after astral characters",
        ),
        pytest.param(
            "CREATE TABLE a (id int);\n\nSELECT *\nFRÖM a;\n",
            "4:1",
            'syntax error at or near "FRÖM"',
            id="golang-migrate's FRÖM example",
        ),
        pytest.param(
            # golang-migrate reports column 11 here: one too many per CRLF before it
            "CREATE TABLE a (id int);\r\nSELECT * FRÖM a;\r\n",
            "2:10",
            'syntax error at or near "FRÖM"',
            id="CRLF",
        ),
        pytest.param(
            "SELECT 'é';\r\n\r\nSELECT * FRÖM a;\r\n",
            "3:10",
            'syntax error at or near "FRÖM"',
            id="CRLF twice after non-ASCII",
        ),
        pytest.param(
            "\ufeffSELECT 1;\n",
            "1:1",
            'syntax error at or near "\ufeffSELECT"',
            id="BOM left in the text",
        ),
        pytest.param(
            "SELECT 1;\nSELECT $$abc;\n",
            "2:8",
            'unterminated dollar-quoted string at or near "$$abc;\n"',
            id="unterminated $$",
        ),
        pytest.param(
            "SELECT 'ü'; SELECT $fn$abc;\n",
            "1:20",
            'unterminated dollar-quoted string at or near "$fn$abc;\n"',
            id="unterminated $fn$",
        ),
        pytest.param(
            "SELECT 1;\n/* abc\n",
            "2:1",
            'unterminated /* comment at or near "/* abc\n"',
            id="unterminated comment",
        ),
        pytest.param(
            "SELECT 'ü'; /* a /* b */\n",
            "1:13",
            'unterminated /* comment at or near "/* a /* b */\n"',
            id="unterminated nested comment",
        ),
    ],
)
def test_syntax_errors(text: str, where: str, message: str) -> None:
    error = rejected(text)
    assert str(error) == f"{FILE}:{where}: {message}{NOTHING_RUN}"
    assert error.location == f"{FILE}:{where}"


@pytest.mark.parametrize(
    ("text", "offset", "where"),
    [
        ("SELECT 1;\nSELECT 2;\n", 0, "1:1"),
        ("SELECT 1;\nSELECT 2;\n", 9, "1:10"),
        ("SELECT 1;\nSELECT 2;\n", 10, "2:1"),
        ("SELECT 1;\r\nSELECT 2;\r\n", 11, "2:1"),
        ("SELECT '😀';\nSELECT 'é';\n", 21, "2:10"),
    ],
)
def test_where(text: str, offset: int, where: str) -> None:
    assert parse_migration(text, FILE).where(offset) == f"{FILE}:{where}"


def test_where_points_at_a_statement() -> None:
    parsed = parse_migration("-- one\nCREATE TABLE a (id int);\n\n   DROP TABLE b;\n", FILE)
    assert [parsed.where(s.start) for s in parsed.statements] == [f"{FILE}:2:1", f"{FILE}:4:4"]


class TestWindows:
    """Big files are parsed a window at a time; boundaries must not change the result."""

    @pytest.fixture(autouse=True)
    def small_windows(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(splitting, "WINDOW", 64)
        monkeypatch.setattr(splitting, "GIANT", 256)
        monkeypatch.setattr(splitting, "SCAN_STEP", 48)

    def test_same_statements_as_one_window(self) -> None:
        text = "".join(f"INSERT INTO t VALUES ({i}, 'a;b {i}');  -- c;\n" for i in range(40))
        text += "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; SELECT 3; END;\n"
        text += "SELECT $$ x; y; z; $$;\n/* long ; comment ; */ SELECT 'done';\n"
        parsed = parse_migration(text, "w.up.sql")
        pieces = [parsed.statement_text(s) for s in parsed.statements]
        assert len(pieces) == 43
        assert pieces[40].startswith("CREATE FUNCTION f()")
        assert pieces[40].endswith("SELECT 3; END")
        assert pieces[-1] == "SELECT 'done'"
        assert parsed.atomic

    def test_error_in_a_later_window_has_the_file_position(self) -> None:
        text = "".join(f"SELECT {i};\n" for i in range(30)) + "SELEC 1;\n"
        with pytest.raises(SqlParseError) as caught:
            parse_migration(text, "w.up.sql")
        assert str(caught.value).startswith('w.up.sql:31:1: syntax error at or near "SELEC"')

    def test_a_giant_statement_is_checked_by_the_scanner(self) -> None:
        values = ", ".join(f"({i}, 'x')" for i in range(200))
        text = f"SELECT 1;\nINSERT INTO t VALUES {values};\nSELECT 2;\n"
        parsed = parse_migration(text, "w.up.sql")
        assert [parsed.statement_text(s)[:6] for s in parsed.statements] == [
            "SELECT",
            "INSERT",
            "SELECT",
        ]
        with pytest.raises(SqlParseError, match="unterminated quoted string"):
            parse_migration(f"INSERT INTO t VALUES {values}, ('open);\n", "w.up.sql")

    def test_a_giant_statement_with_a_begin_atomic_body_is_refused(self) -> None:
        # The token walk cannot tell where the body ends (it used to cut it at its
        # first semicolon and take its END for the file's COMMIT).
        columns = ", ".join(str(i) for i in range(100))  # no semicolon for GIANT characters
        text = (
            "BEGIN;\nCREATE FUNCTION h() RETURNS int LANGUAGE sql BEGIN ATOMIC "
            f"SELECT {columns}; SELECT 2; END;\nCOMMIT;\n"
        )
        with pytest.raises(SqlParseError) as caught:
            parse_migration(text, "w.up.sql")
        assert str(caught.value) == (
            "w.up.sql:2:52: a BEGIN ATOMIC body in a statement too long to parse whole: "
            "sqlmigrate cannot tell where it ends. Split the statement, or use a $$-quoted "
            "body; nothing was run"
        )
