"""The pre-flight on generated input: it always ends, never raises anything but a clean
SqlParseError, and what it would send is the file's text (no meaningful byte left out).

No database: this is the parser and splitter alone, on thousands of inputs, with the
window sizes of the big-file paths shrunk so that small inputs take them too.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pglast import parser as pg_parser

from sqlmigrate.backends.postgresql import splitting
from sqlmigrate.backends.postgresql.parsing import parse_migration
from sqlmigrate.exceptions import SqlParseError
from sqlmigrate.sql import ParsedSql

FILE = "f.up.sql"
MEANINGLESS = {"SQL_COMMENT", "C_COMMENT", "ASCII_59"}


class TookTooLong(Exception):
    pass


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail instead of hanging: the splitter's loops are Python, so SIGALRM reaches them."""

    def alarm(signum: int, frame: FrameType | None) -> None:
        raise TookTooLong(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(params=["default", "tiny"])
def windows(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each property with the real sizes and with sizes a few bytes long."""
    if request.param == "tiny":
        monkeypatch.setattr(splitting, "WINDOW", 16)
        monkeypatch.setattr(splitting, "GIANT", 64)
        monkeypatch.setattr(splitting, "SCAN_STEP", 8)


def check(text: str) -> ParsedSql | None:
    """Parse ``text`` in bounded time; None when it was refused (cleanly)."""
    try:
        with within(10):
            parsed = parse_migration(text, FILE)
    except SqlParseError as error:
        refused = str(error)
    else:
        assert_exact_text(text, parsed)
        return parsed
    assert refused.startswith(f"{FILE}:"), refused
    return None


def assert_exact_text(text: str, parsed: ParsedSql) -> None:
    """Every token that means something lies inside a statement that is sent."""
    try:
        tokens = pg_parser.scan(text)
    except pg_parser.ParseError:
        return  # a text the scanner refuses parsed anyway: the server judges it
    spans = list(parsed.statements.spans())
    if not parsed.atomic:
        covered = [(part.start, part.end) for part in parsed.parts()]
        assert sum(part.count for part in parsed.parts()) == len(spans)
    else:
        covered = spans
    for token in tokens:
        if token.name in MEANINGLESS or token.name in ("BEGIN_P", "COMMIT"):
            continue
        assert any(start <= token.start and token.end < end for start, end in covered), (
            f"token {token.name} at {token.start} would not be sent: {text!r}"
        )


FRAGMENTS = [
    "SELECT 1",
    "CREATE TABLE t (id int)",
    "INSERT INTO t VALUES ('a;b')",
    "INSERT INTO t VALUES (E'it\\'s; fine')",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$",
    "CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $body$ SELECT 2; $body$",
    "CREATE FUNCTION h() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
    "-- a comment; with a semicolon\n",
    "/* a /* nested */ comment; */",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT s",
    "CREATE INDEX CONCURRENTLY i ON t (id)",
    "VACUUM t",
    "CALL p()",
    "DO $$BEGIN COMMIT; END$$",
    "DO $$BEGIN PERFORM 1; END$$",
    "SET search_path TO x",
    "SET client_encoding TO 'LATIN1'",
    "SELECT pg_advisory_unlock_all()",
    "DISCARD ALL",
    "COPY t FROM STDIN",
    "\\set x 1",
    "SELECT '\x00'",
    "SELECT 'unterminated",
    "-- " + "long comment " * 20 + "\n",
    "INSERT INTO t VALUES " + ", ".join(f"({i})" for i in range(30)),
    "",
]


@settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(st.sampled_from(FRAGMENTS), max_size=12),
    st.lists(st.sampled_from([";\n", ";", " ; ", "\n", ";;", ";\r\n"]), min_size=12, max_size=12),
)
def test_statement_mixes(windows: None, fragments: list[str], separators: list[str]) -> None:
    text = "".join(f + s for f, s in zip(fragments, separators, strict=False))
    check(text)


@settings(
    max_examples=3000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.binary(max_size=300))
def test_random_bytes(windows: None, data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # refused earlier, by source.read_migration (tested there)
    check(text)


@settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.text(alphabet=st.sampled_from(list("SELECT1;'$-/*\n \x00\\eE()ab")), max_size=200))
def test_random_sql_alphabet(windows: None, text: str) -> None:
    check(text)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40))
def test_nul_anywhere_is_refused_at_its_place(before: int, after: int) -> None:
    text = "SELECT 1;\n" * before + "\x00" + "DROP TABLE t;\n" * after
    with pytest.raises(SqlParseError) as raised:
        parse_migration(text, FILE)
    assert raised.value.location == f"{FILE}:{before + 1}:1"


@pytest.mark.parametrize(
    "text",
    [
        # The giant-statement walker once resumed at the start of a comment that filled its
        # slice, forever (100 % CPU, lock held).
        "SELECT 1 -- " + "x" * 5000 + "\n;\nSELECT 2;",
        "-- " + "y" * 5000 + "\nSELECT 1;",
        "SELECT '" + "z" * 5000 + "';",
        "SELECT 1 /* " + "w" * 5000 + " */;",
        "SELECT $$" + "v;" * 3000 + "$$;",
    ],
    ids=["line-comment", "leading-comment", "string", "block-comment", "dollar"],
)
def test_long_tokens_in_giant_statements_end(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(splitting, "WINDOW", 64)
    monkeypatch.setattr(splitting, "GIANT", 256)
    monkeypatch.setattr(splitting, "SCAN_STEP", 32)
    parsed = check(text)
    assert parsed is not None


@pytest.mark.slow
def test_a_real_size_comment_longer_than_a_giant_statement_ends() -> None:
    text = "SELECT 1 -- " + "x" * (splitting.GIANT + 1024) + "\n;\nSELECT 2;\n"
    with within(60):
        parsed = parse_migration(text, FILE)
    assert len(parsed.statements) == 2
    assert parsed.statement_text(parsed.statements[1]) == "SELECT 2"
