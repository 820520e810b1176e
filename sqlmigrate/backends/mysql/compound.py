"""Where a MySQL/MariaDB compound statement ends: a stored program's body, or
MariaDB's ``BEGIN NOT ATOMIC`` / ``IF`` / ``CASE`` / loops outside programs.

The CLI sends a whole file as one query and the server's parser keeps a body's
semicolons inside its statement; sqlmigrate sends a statement per call, so it
must find the same ends. This reads the body as the server's grammar does, on
sqlglot's tokens: a block opens only where a statement starts (after ``;``,
``BEGIN``, ``THEN``, ``ELSE``, ``DO``, ``LOOP``, ``REPEAT``, a label or a
handler's conditions), and closes with its own ``END`` / ``END IF`` /
``END CASE`` / ``END LOOP`` / ``END WHILE`` / ``END REPEAT`` / ``END FOR``
(and the label it was opened with). A ``CASE`` inside an expression ends with
a bare ``END``. Anything else unexpected (an ``END`` in the middle of a
statement, a ``;`` in a condition, a mismatched ``END``) is refused with its
place: a file is never split where the server would not split it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlglot import Token, TokenType

from .tokens import Reader

#: the words after END, and the block each one closes
CLOSING = frozenset({"IF", "CASE", "LOOP", "WHILE", "REPEAT", "FOR"})
LABELLED = frozenset({"BEGIN", "LOOP", "WHILE", "REPEAT", "FOR"})
#: words that continue or close a block: never the start of a statement of their own
CLAUSES = frozenset({"END", "ELSE", "ELSEIF", "UNTIL", "WHEN"})
_HANDLER_KINDS = frozenset({"CONTINUE", "EXIT", "UNDO"})
_CONDITION_WORDS = frozenset({"SQLWARNING", "SQLEXCEPTION"})
#: blocks and CASE expressions inside each other, at most (read recursively)
MAX_NESTING = 64
_NEVER_ENDS = (
    "this compound statement has no END: its body runs to the end of the file. Close "
    "every BEGIN, IF, CASE, LOOP, WHILE, REPEAT and FOR with its END"
)


def opens_compound(reader: Reader) -> bool:
    """Whether the statement about to be read, at a file's top level, is a compound
    statement (MariaDB runs these outside stored programs; MySQL refuses them)."""
    first = reader.word()
    if first == "BEGIN":
        return reader.word(1) == "NOT"  # BEGIN alone, BEGIN WORK: transaction control
    return first in CLOSING


class Body:
    """Reads one statement of a body (compound or not), up to its ``;``."""

    def __init__(self, reader: Reader) -> None:
        self.r = reader
        self._nesting = 0

    def statement(self) -> None:
        first = self.r.peek()
        if first is None:
            return
        with self._nested(first.start):
            self._statement(first)

    def _statement(self, first: Token) -> None:
        r = self.r
        label = ""
        if r.is_type(TokenType.COLON, 1):
            label = r.take().text.lower()
            r.take()
            if r.word() not in LABELLED:
                r.fail(first.start, "a label must be followed by BEGIN, LOOP, WHILE, REPEAT or FOR")
        word = r.word()
        if word == "BEGIN":
            self._begin(label)
        elif word == "IF":
            self._if()
        elif word == "CASE":
            self._case()
        elif word in ("LOOP", "WHILE", "FOR", "REPEAT"):
            self._loop(word, label)
        elif word == "DECLARE" and r.word(1) in _HANDLER_KINDS and r.word(2) == "HANDLER":
            self._handler()
        else:
            self._expression({";"})

    def _begin(self, label: str) -> None:
        opened = self.r.take().start
        if self.r.word() == "NOT":
            self.r.take()
            self._expect("ATOMIC")
        self._list({"END"}, opened)
        self._close("", label, opened)

    def _if(self) -> None:
        opened = self.r.take().start
        self._through("THEN", opened)
        while True:
            stop = self._list({"ELSEIF", "ELSE", "END"}, opened)
            if stop != "ELSEIF":
                break
            self.r.take()
            self._through("THEN", opened)
        if stop == "ELSE":
            self.r.take()
            self._list({"END"}, opened)
        self._close("IF", "", opened)

    def _case(self) -> None:
        opened = self.r.take().start
        stop = "WHEN"
        while stop == "WHEN":
            self._through("WHEN", opened)
            self._through("THEN", opened)
            stop = self._list({"WHEN", "ELSE", "END"}, opened)
        if stop == "ELSE":
            self.r.take()
            self._list({"END"}, opened)
        self._close("CASE", "", opened)

    def _loop(self, word: str, label: str) -> None:
        opened = self.r.take().start
        if word in ("WHILE", "FOR"):
            self._through("DO", opened)
        if word == "REPEAT":
            self._list({"UNTIL"}, opened)
            self.r.take()
            self._expression({"END"})
        else:
            self._list({"END"}, opened)
        self._close(word, label, opened)

    def _handler(self) -> None:
        """``DECLARE CONTINUE HANDLER FOR cond[, cond] statement``: the statement may be
        a block of its own."""
        r = self.r
        for _ in range(3):
            r.take()
        self._expect("FOR")
        while True:
            word = r.word()
            if word == "SQLSTATE":
                r.take()
                if r.word() == "VALUE":
                    r.take()
                self._take_one()
            elif word == "NOT":
                r.take()
                self._expect("FOUND")
            else:  # SQLWARNING, SQLEXCEPTION, an error number or a condition's name
                self._take_one()
            if not r.is_type(TokenType.COMMA):
                break
            r.take()
        self.statement()

    def _through(self, word: str, opened: int) -> None:
        """An expression, then ``word`` (THEN, WHEN, DO)."""
        self._expression({word})
        if self.r.peek() is None:
            self.r.fail(opened, _NEVER_ENDS)
        self.r.take()

    def _list(self, stops: set[str], opened: int) -> str:
        """Statements, each with its ``;``, until one of ``stops`` where a statement
        would start; answers which."""
        r = self.r
        while True:
            if r.peek() is None:
                r.fail(opened, _NEVER_ENDS)
            word = r.word()
            if word in stops:
                return word
            if word in CLAUSES:
                r.fail(r.offset(), f"{word} here does not belong to the block open here")
            if not r.is_semicolon():
                self.statement()
            if r.peek() is None:
                r.fail(opened, _NEVER_ENDS)
            if not r.is_semicolon():
                r.fail(r.offset(), "a statement inside a compound statement must end with ;")
            r.take()

    def _expression(self, stops: set[str]) -> None:
        """Tokens up to one of ``stops`` (a word, or ";") outside parentheses; a CASE
        expression in them is read to its END."""
        r = self.r
        depth = 0
        while True:
            token = r.peek()
            if token is None:
                return  # the caller says what was missing
            if token.token_type == TokenType.SEMICOLON:
                if depth == 0 and ";" in stops:
                    return
                r.fail(
                    token.start,
                    "a semicolon inside a condition, a parenthesis or a CASE expression of a "
                    "compound statement: sqlmigrate cannot tell where the statement ends",
                )
            word = r.word()
            if depth == 0 and word in stops:
                return
            if word == "END":
                r.fail(
                    token.start,
                    "END in the middle of a statement inside a compound statement: "
                    "sqlmigrate cannot tell it from the END that closes a block. If it is a "
                    "name, quote it: `end`",
                )
            r.take()
            if word == "CASE":
                with self._nested(token.start):
                    self._expression({"END"})
                if r.peek() is None:
                    r.fail(token.start, "this CASE expression has no END")
                r.take()
                if r.word() == "CASE":
                    r.fail(
                        r.offset(),
                        "END CASE closes a CASE statement, but this CASE is inside an "
                        "expression (it ends with END)",
                    )
            elif token.token_type == TokenType.L_PAREN:
                depth += 1
            elif token.token_type == TokenType.R_PAREN:
                depth = max(0, depth - 1)

    def _close(self, kind: str, label: str, opened: int) -> None:
        """``END [kind] [label]``: what closes the block opened at ``opened``."""
        r = self.r
        if r.word() != "END":
            r.fail(opened, _NEVER_ENDS)
        end = r.take()
        after = r.word()
        if kind:
            if after != kind:
                r.fail(
                    end.start,
                    f"END{' ' + after if after in CLOSING else ''} here, but "
                    f"the innermost open block is {kind}: it ends with END {kind}",
                )
            r.take()
        elif after in CLOSING:
            r.fail(
                end.start,
                f"END {after} here, but the innermost open block is a BEGIN: it ends with END",
            )
        name = r.peek()
        if name is None or name.token_type == TokenType.SEMICOLON:
            return
        if name.text.lower() != label or not label:
            r.fail(
                name.start,
                f"{r.text[name.start : name.end + 1]} after END: a block's END "
                f"may only be followed by its own label, then ;",
            )
        r.take()

    @contextmanager
    def _nested(self, offset: int) -> Iterator[None]:
        self._nesting += 1
        if self._nesting > MAX_NESTING:
            self.r.fail(
                offset,
                f"blocks or CASE expressions nested more than {MAX_NESTING} deep: sqlmigrate "
                f"does not read deeper ones. Move the inner part to a procedure of its own",
            )
        try:
            yield
        finally:
            self._nesting -= 1

    def _expect(self, word: str) -> None:
        token = self.r.peek()
        if self.r.word() != word or token is None:
            self.r.fail(token.start if token else len(self.r.text), f"{word} expected here")
        self.r.take()

    def _take_one(self) -> None:
        if self.r.peek() is None or self.r.is_semicolon():
            self.r.fail(len(self.r.text), "a handler condition expected here")
        self.r.take()
