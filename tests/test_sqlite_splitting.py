"""SQLite statement ends: ``sqlite3.complete_statement()`` is asked only at the
semicolons outside quotes and comments, and that finds exactly the ends that asking
it at every semicolon finds (the time it saves is measured in bench/bench_split.py).
"""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlmigrate.backends.sqlite.parsing import _skip_gap, split_statements
from sqlmigrate.exceptions import SqlParseError


def asked_at_every_semicolon(text: str) -> list[tuple[int, int]] | None:
    """The ends found by asking complete_statement at each semicolon: the former
    split_statements, word for word; None where the last statement never ends."""
    spans, pos, total = [], 0, len(text)
    while pos < total:
        start = _skip_gap(text, pos)
        if start >= total:
            break
        if text[start] == ";":
            pos = start + 1
            continue
        semicolon = text.find(";", start)
        while semicolon >= 0 and not sqlite3.complete_statement(text[start : semicolon + 1]):
            semicolon = text.find(";", semicolon + 1)
        if semicolon < 0:
            if not sqlite3.complete_statement(text[start:] + "\n;"):
                return None
            spans.append((start, total))
            break
        spans.append((start, semicolon))
        pos = semicolon + 1
    return spans


_PIECES = st.sampled_from(
    [
        ";", "'", '"', "`", "[", "]", "''", "'a;b'", '"x;"', "`y;`", "[z;]", "--", "-- c;\n",
        "/*", "*/", "/* ; */", "-", "/", "*", "\n", " ", "x", "SELECT 1", "CREATE", "TRIGGER",
        "TEMP", "BEGIN", "END", "EXPLAIN", "CASE", "WHEN", "THEN", "ON", "t",
    ]
)  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(st.lists(_PIECES, max_size=40).map(" ".join))
def test_ends_are_the_ones_asking_at_every_semicolon_finds(text: str) -> None:
    expected = asked_at_every_semicolon(text)
    if expected is None:
        with pytest.raises(SqlParseError, match="this statement never ends"):
            list(split_statements(text, "f.sql"))
        return
    if ends_in_an_open_comment(text, expected):
        # SQLite would read the rest as a comment: refused (test_vendor_specifics)
        with pytest.raises(SqlParseError, match="unterminated /\\* comment"):
            list(split_statements(text, "f.sql"))
        return
    assert list(split_statements(text, "f.sql")) == expected


def ends_in_an_open_comment(text: str, spans: list[tuple[int, int]]) -> bool:
    """Whether what follows the last statement holds a /* that never closes: SQLite's
    own reading of it swallows a semicolon put after it."""
    tail = text[spans[-1][1] :] if spans else text
    return "/*" in tail and not sqlite3.complete_statement(tail.lstrip(";") + "\n;")


@pytest.mark.parametrize(
    "quoted",
    ["'{}x'", '"{}x"', "`{}x`", "[{}x]", "/* {} */ 'x'", "-- {}\n'x'", "'it''s{}'"],
)
def test_a_2_mb_statement_with_100_000_quoted_semicolons_is_one_statement(quoted: str) -> None:
    item = quoted.format(";" + "x" * 12)
    statement = "SELECT " + " || ".join([item] * 100_000)
    text = f"{statement};\nCREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT ';'; END;\n"
    spans = list(split_statements(text, "f.sql"))
    assert len(text) > 2_000_000
    assert [text[a:b] for a, b in spans] == [
        statement,
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT ';'; END",
    ]


def test_an_unclosed_quote_after_many_semicolons_never_ends() -> None:
    text = "SELECT 1;\nSELECT 'a" + ";" * 100_000 + "\n"
    with pytest.raises(SqlParseError, match=r"^f\.sql:2:1: this statement never ends"):
        list(split_statements(text, "f.sql"))
