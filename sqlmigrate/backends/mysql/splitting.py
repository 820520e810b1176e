"""Where each statement of a MySQL/MariaDB file starts and ends.

A statement ends at a ``;`` outside strings, quoted names and comments
(sqlglot's MySQL tokenizer knows them), except inside a compound statement:
a stored program's ``BEGIN ... END`` body (``CREATE PROCEDURE``, ``FUNCTION``,
``TRIGGER``, ``EVENT``, ``ALTER EVENT ... DO``) or MariaDB's ``BEGIN NOT
ATOMIC``, ``IF``, ``CASE`` and loops outside programs, which ``compound``
reads to their end as the server does. The header of a program is read only
far enough to find where its body starts:
- ``PROCEDURE``: after its parameter list and characteristics;
- ``FUNCTION``: the first ``BEGIN``, ``RETURN``, ``IF``, ``CASE``, loop or
  label after ``RETURNS`` (a type never holds one of those);
- ``TRIGGER``: after ``FOR EACH ROW [FOLLOWS|PRECEDES other]``;
- ``EVENT``: after ``DO``.
A piece of a body split off by mistake would start with ``END``, ``ELSE``,
``UNTIL``, ... at the top level: such a statement is refused, so a misread
header is refused rather than mis-split.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlglot import TokenType

from ...exceptions import SqlParseError
from ...source import line_col
from .compound import CLAUSES, CLOSING, Body, opens_compound
from .tokens import Reader, Unterminated

PROGRAMS = frozenset({"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"})
#: words that only make sense inside a body
_BODY_ONLY = CLAUSES | {"DECLARE", "LEAVE", "ITERATE", "RETURN"}
_CHARACTERISTICS = frozenset(
    {
        "COMMENT",
        "LANGUAGE",
        "SQL",
        "NOT",
        "DETERMINISTIC",
        "CONTAINS",
        "NO",
        "READS",
        "MODIFIES",
        "DATA",
        "SECURITY",
        "DEFINER",
        "INVOKER",
    }
)
_FUNCTION_BODY = CLOSING | {"BEGIN", "RETURN"}


@dataclass(frozen=True, slots=True)
class Found:
    """One statement: ``text[start:end]``, its first words (upper-cased; "" for quoted
    ones), whether it is a compound statement or holds one, and where its first
    backslash outside strings is (-1: none; a mysql client command such as ``\\G``)."""

    start: int
    end: int
    words: tuple[str, ...]
    compound: bool
    backslash: int = -1


def statements_of(text: str, location: str) -> Iterator[Found]:
    """The statements of ``text`` in order (empty ones skipped); SqlParseError with
    FILE:LINE:COL for what cannot be split faithfully."""
    reader = Reader(text, location)
    try:
        while (first := reader.peek()) is not None:
            if first.token_type == TokenType.SEMICOLON:
                reader.take()
                continue
            start = first.start
            reader.start_statement()
            compound = _statement(reader)
            assert reader.last is not None
            end = reader.last.end + 1
            yield Found(start, end, tuple(reader.words), compound, reader.backslash)
    except Unterminated as error:
        line, col = line_col(text, error.opening)
        raise SqlParseError(
            f"{location}:{line}:{col}",
            f"unterminated {error.what}: it runs to the end of the file. Close it; nothing was run",
        ) from None


def _statement(reader: Reader) -> bool:
    """Takes one top-level statement (not its ``;``); answers whether it is compound."""
    first = reader.peek()
    assert first is not None
    word = reader.word()
    if word in _BODY_ONLY:
        reader.fail(
            first.start,
            f"{word} outside a compound statement: either it is extra, or the stored "
            f"program above it was not read as one (its header is unusual). Write the "
            f"program as CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT ... BEGIN ... END;",
        )
    body = opens_compound(reader) or (word in ("CREATE", "ALTER") and _program_header(reader))
    if not body:
        reader.take_rest()
        return False
    Body(reader).statement()
    after = reader.peek()
    if after is not None and after.token_type != TokenType.SEMICOLON:
        reader.fail(after.start, "the statement before this one must end with ;")
    if reader.executable >= 0:
        reader.fail(
            reader.executable,
            "an executable comment (/*! ... */) inside a compound statement: MySQL reads "
            "what is in it and sqlmigrate does not, so it cannot tell where the body ends. "
            "Write it as plain SQL",
        )
    return True


def _program_header(reader: Reader) -> bool:
    """Takes a stored program's header; True when its body comes next."""
    kind = _program_kind(reader)
    if kind == "TRIGGER":
        if not _take_until(reader, lambda: reader.word() == "FOR" and reader.word(1) == "EACH"):
            return False
        if not _take_words(reader, "FOR", "EACH", "ROW"):
            return False
        if reader.word() in ("FOLLOWS", "PRECEDES"):
            reader.take()
            _take_name(reader)
    elif kind == "EVENT":
        if not _take_until(reader, lambda: reader.word() == "DO"):
            return False
        reader.take()
    elif kind == "PROCEDURE":
        if not _take_until(reader, lambda: _is(reader, TokenType.L_PAREN)):
            return False
        reader.take()
        if not _take_until(reader, lambda: False, stop_at_close=True):
            return False
        while reader.word().partition(" ")[0] in _CHARACTERISTICS:  # SQL SECURITY: one token
            if reader.take().text.upper() == "COMMENT" and reader.peek() is not None:
                reader.take()  # its string
    elif kind == "FUNCTION":
        if not _take_until(reader, lambda: reader.word() == "RETURNS"):
            return False
        if not _take_until(reader, lambda: _function_body(reader)):
            return False
    else:
        return False
    return reader.peek() is not None and not reader.is_semicolon()


def _program_kind(reader: Reader) -> str:
    """PROCEDURE, FUNCTION, TRIGGER or EVENT when the statement (at CREATE or ALTER)
    creates one: ``CREATE [OR REPLACE] [DEFINER = user] [AGGREGATE] kind``."""
    ahead = 1
    if reader.word(ahead) == "OR" and reader.word(ahead + 1) == "REPLACE":
        ahead += 2
    if reader.word(ahead) == "DEFINER":
        ahead += 2  # DEFINER =
        for _ in range(4):  # the user: 'u'@'h', u@h, CURRENT_USER[()], CURRENT_ROLE
            if reader.peek(ahead) is None or reader.word(ahead) in PROGRAMS:
                break
            ahead += 1
    if reader.word(ahead) == "AGGREGATE":
        ahead += 1
    kind = reader.word(ahead)
    return kind if kind in PROGRAMS else ""


def _function_body(reader: Reader) -> bool:
    if reader.word() in _FUNCTION_BODY:
        return True
    after = reader.peek(1)  # a label
    return after is not None and after.token_type == TokenType.COLON


def _take_until(reader: Reader, found: Callable[[], bool], *, stop_at_close: bool = False) -> bool:
    """Takes tokens until ``found()`` holds outside parentheses (True), or the statement
    ends (False). ``stop_at_close``: until the parenthesis just taken is closed."""
    depth = 1 if stop_at_close else 0
    while (token := reader.peek()) is not None and token.token_type != TokenType.SEMICOLON:
        if depth == 0 and not stop_at_close and found():
            return True
        reader.take()
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
            if stop_at_close and depth == 0:
                return True
    return False


def _take_words(reader: Reader, *words: str) -> bool:
    for word in words:
        if reader.word() != word:
            return False
        reader.take()
    return True


def _take_name(reader: Reader) -> None:
    """A possibly qualified name: ``t``, ``db.t``, quoted or not."""
    if reader.peek() is not None and not reader.is_semicolon():
        reader.take()
    while _is(reader, TokenType.DOT) and reader.peek(1) is not None:
        reader.take()
        reader.take()


def _is(reader: Reader, token_type: TokenType) -> bool:
    token = reader.peek()
    return token is not None and token.token_type == token_type
