"""The splitter's guessed cuts (guessing.py): a cut after a ``;`` line end that is no
statement boundary is never taken, and windows give the statements of one whole parse;
and the statements classified a window at once are all those classify would read.

No database: the parser and splitter alone, with windows a few bytes long.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pglast import parser as pg_parser

from sqlmigrate.backends.postgresql import splitting
from sqlmigrate.backends.postgresql.first_words import (
    CANDIDATE_WORDS,
    first_word,
    may_be_special,
)
from sqlmigrate.backends.postgresql.guessing import guessed_window
from sqlmigrate.backends.postgresql.parsing import parse_migration

# Each text has one ";\n" that is no statement boundary, at the end of its first window.
NOT_A_BOUNDARY = {
    "string": "SELECT 'a;\nb';\n",
    "escape-string": "SELECT E'a\\';\nb';\n",
    "unicode-string": "SELECT U&'a;\nb';\n",
    "bit-string": "SELECT B'0;\n1';\n",
    "quoted-name": 'SELECT 1 AS "a;\nb";\n',
    "dollar-quote": "SELECT $$a;\nb$$;\n",
    "tagged-dollar-quote": "SELECT $t$a;\nb$t$;\n",
    "block-comment": "SELECT 1 /* a;\nb */;\n",
    "nested-comment": "SELECT 1 /* /* a;\n */ b */;\n",
    "line-comment": "SELECT 1 -- a;\n+ 2;\n",
    "line-comment-crlf": "SELECT 1 -- a;\r\n+ 2;\r\n",
    "begin-atomic": (
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1;\nSELECT 2;\nEND;\n"
    ),
    "rule-actions": (
        "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1);\n"
        "INSERT INTO b VALUES (2));\n"
    ),
}


@pytest.mark.parametrize("text", NOT_A_BOUNDARY.values(), ids=NOT_A_BOUNDARY.keys())
def test_a_cut_inside_a_statement_is_not_taken(text: str) -> None:
    first_cut = text.find("\n") + 1
    assert guessed_window(text, 0, first_cut + 1) is None


@pytest.mark.parametrize("text", NOT_A_BOUNDARY.values(), ids=NOT_A_BOUNDARY.keys())
def test_windows_ending_inside_a_statement_split_as_one_parse(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setattr(splitting, "WINDOW", text.find("\n") + 2)
    whole = "SELECT 0;\n" + text + "SELECT 9;\n"
    assert spans(whole) == parser_spans(whole)


def test_a_comment_after_the_last_statement_is_a_boundary() -> None:
    text = "SELECT 1; -- a;\nSELECT 2;\n"
    assert guessed_window(text, 0, len(text) - 1) == (16, (slice(0, 8),))


def test_a_second_guess_is_made_before_an_unterminated_body() -> None:
    text = "SELECT 1;\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1;\n$$;\n"
    assert guessed_window(text, 0, len(text) - 2) == (10, (slice(0, 8),))


def test_a_real_error_keeps_its_place_and_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(splitting, "WINDOW", 24)
    text = "SELECT 1;\nSELEC 2;\nSELECT 3;\nSELECT 4;\n"
    with pytest.raises(Exception, match='syntax error at or near "SELEC"') as raised:
        parse_migration(text, "f.up.sql")
    assert str(raised.value).startswith("f.up.sql:2:1:")


def spans(text: str) -> list[tuple[int, int]]:
    return list(parse_migration(text, "f.up.sql").statements.spans())


def parser_spans(text: str) -> list[tuple[int, int]]:
    return [(s.start, s.stop) for s in pg_parser.split(text, with_parser=True, only_slices=True)]


PIECES = [*NOT_A_BOUNDARY.values(), "SELECT 1;\n", "INSERT INTO t VALUES (1);\n", "-- c;\n", ";\n"]


@settings(
    max_examples=800,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.sampled_from(PIECES), max_size=10), st.integers(4, 80))
def test_any_window_size_gives_the_statements_of_one_parse(
    monkeypatch: pytest.MonkeyPatch, pieces: list[str], window: int
) -> None:
    # GIANT stays large: a statement walked by tokens ends at its last token, where the
    # parser's slice would also hold a comment before the ``;``.
    monkeypatch.setattr(splitting, "WINDOW", window)
    text = "".join(pieces)
    assert spans(text) == parser_spans(text)


WORDS = [*CANDIDATE_WORDS, "INSERT", "SELECT", "BEGINS", "COMMENT", "CREATED", "DOX", "D", ""]


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(WORDS),
            st.sampled_from(["", " ", "_x", "1", "\u017f", "\u0130", "(", ";"]),
            st.booleans(),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_every_statement_classify_would_read_is_looked_at(
    heads: list[tuple[str, str, bool]],
) -> None:
    """may_be_special answers for a window at once what classify's first word decides."""
    text, starts = "", []
    for word, after, lower in heads:
        starts.append(len(text))
        text += (word.lower() if lower else word.title()) + after + " x;\n"
    looked_at = set(may_be_special(text, starts))
    for index, start in enumerate(starts):
        if first_word(text, start) in CANDIDATE_WORDS:
            assert index in looked_at, text[start:]
