"""Split and check a migration file for SQLite, with SQLite's own statement test.

Statement ends come from ``sqlite3.complete_statement()`` (the standard
library's binding of SQLite's ``sqlite3_complete()``): the text up to a
semicolon is a statement exactly when SQLite says it is complete, so strings,
quoted names, comments and trigger bodies (``BEGIN ... END``) are SQLite's
business, not a lexer of ours. It is asked only at the semicolons outside
quotes and comments as ``sqlite3_complete()`` itself reads them (``_TO_SEMICOLON``
skips what it skips), so a statement holding many quoted semicolons is not
re-read at each one. Between statements there is then only whitespace,
comments and semicolons (checked: the exact-text rule).

Only the first words of a statement are read, to find the few that matter
for running it: transaction control, and statements SQLite refuses or
ignores inside a transaction (``VACUUM``, ``PRAGMA foreign_keys``, ...).
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import Iterator

from ...exceptions import SqlParseError
from ...source import line_col
from ...sql import ParsedSql, Statement, StatementList

# SQLite's whitespace (sqlite3.c, sqlite3Isspace) and its two comment forms; an
# unterminated /* comment runs to the end of the text, as SQLite reads it.
_GAP_PIECE = re.compile(r"[ \t\n\f\r]+|--[^\n]*(?:\n|\Z)|/\*.*?(?:\*/|\Z)", re.DOTALL)
_GAP = re.compile(f"(?:{_GAP_PIECE.pattern})*", re.DOTALL)
# What sqlite3_complete() (complete.c) steps over without seeing a semicolon: other
# characters, whole '...', "...", `...` and [...] quotes (a doubled quote is two of them
# there too) and comments. It stops at a ";", or where a quote or /* is never closed
# (complete.c then answers "incomplete" whatever follows).
_TO_SEMICOLON = re.compile(
    r"""(?:[^;'"`\[\-/]+|'[^']*'|"[^"]*"|`[^`]*`|\[[^\]]*\]|--[^\n]*|/\*.*?\*/|-|/(?!\*))*+""",
    re.DOTALL,
)
_WORD = re.compile(r"[A-Za-z_]+")
_PRAGMA_NAME = re.compile(r"(?:[\"`\[]?\w+[\"`\]]?\s*\.\s*)?[\"`\[]?(\w+)", re.ASCII)

#: PRAGMAs SQLite ignores or refuses inside a transaction: run them on their own
_PRAGMAS_OUTSIDE = {
    "foreign_keys": "PRAGMA foreign_keys (a no-op inside a transaction)",
    "journal_mode": "PRAGMA journal_mode (cannot switch to WAL inside a transaction)",
    "locking_mode": "PRAGMA locking_mode",
    "page_size": "PRAGMA page_size (takes effect only at the next VACUUM)",
    "auto_vacuum": "PRAGMA auto_vacuum (takes effect only at the next VACUUM)",
}
_BEGIN_WORDS = {"BEGIN"}
_END_WORDS = {"COMMIT", "END"}


def parse_migration(text: str, location: str) -> ParsedSql:
    """Split, classify and check ``text``; raises SqlParseError naming FILE:LINE:COL."""
    nul = text.find("\x00")
    if nul >= 0:
        raise SqlParseError(
            _where(text, location, nul),
            "a NUL byte (0x00): SQLite would stop reading the statement there and drop the "
            "rest silently. Remove it (write X'00' in a blob literal if you need the value); "
            "nothing was run",
        )
    statements = StatementList()
    for start, end in split_statements(text, location):
        _refuse_dot_command(text, start, location)
        statements.append(classify(text, start, end))
    _check_gaps(text, statements, location)
    return _classified(text, location, statements)


def _refuse_dot_command(text: str, start: int, location: str) -> None:
    """``.read``, ``.import``, ``.mode``: commands of the sqlite3 shell; no SQL statement
    starts with a dot. Sent, they would fail at that point of the file."""
    if text.startswith(".", start):
        command = _WORD.match(text, start + 1)
        name = "." + command.group() if command else "."
        raise SqlParseError(
            _where(text, location, start),
            f"{name} is a command of the sqlite3 shell, not SQL: migration files go to "
            "SQLite as they are. Remove it; nothing was run",
        )


def split_statements(text: str, location: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each statement (without its semicolon); empty statements skipped.

    Every turn moves ``pos`` past a semicolon or to the end, so it ends on any input."""
    pos, total = 0, len(text)
    while pos < total:
        start = _skip_gap(text, pos)
        if start >= total:
            _refuse_open_comment(text, pos, location)
            return
        if text[start] == ";":
            pos = start + 1
            continue
        semicolon = _statement_end(text, start)
        if semicolon < 0:
            # The last statement has no semicolon: SQLite runs it if it is whole.
            if not sqlite3.complete_statement(text[start:] + "\n;"):
                raise SqlParseError(
                    _where(text, location, start),
                    "this statement never ends: an unterminated string, quoted name or "
                    "trigger body (BEGIN without END) runs to the end of the file. Close it; "
                    "nothing was run",
                )
            yield start, total
            return
        yield start, semicolon
        pos = semicolon + 1


def _statement_end(text: str, start: int) -> int:
    """The semicolon that ends the statement starting at ``start``, or -1: the first
    one outside quotes and comments after which SQLite says the statement is whole."""
    pos = start
    while True:
        match = _TO_SEMICOLON.match(text, pos)
        stop = match.end() if match else pos
        if stop >= len(text) or text[stop] != ";":
            return -1  # the end, or a quote or comment never closed: no end after it
        if sqlite3.complete_statement(text[start : stop + 1]):
            return stop
        pos = stop + 1


def _refuse_open_comment(text: str, pos: int, location: str) -> None:
    """The gap from ``pos`` to the end must not end in a /* comment that never closes:
    SQLite would read the rest of the file as a comment, and the statements in it
    would silently not run."""
    while (piece := _GAP_PIECE.match(text, pos)) and piece.end() > pos:
        comment = piece.group()
        if comment.startswith("/*") and not (len(comment) >= 4 and comment.endswith("*/")):
            raise SqlParseError(
                _where(text, location, pos),
                "unterminated /* comment: SQLite would read the rest of the file as a comment "
                "and silently not run what is in it. Close it; nothing was run",
            )
        pos = piece.end()


def _skip_gap(text: str, pos: int) -> int:
    match = _GAP.match(text, pos)
    return match.end() if match else pos


def classify(text: str, start: int, end: int) -> Statement:
    """The statement ``text[start:end]`` as the runner needs to know it."""
    words = _first_words(text, start, end, 3)
    first = words[0] if words else ""
    if first in _BEGIN_WORDS:
        return Statement(start, end, transaction="begin")
    if first in _END_WORDS:
        return Statement(start, end, transaction="end")
    if first == "ROLLBACK":
        # ROLLBACK [TRANSACTION] TO [SAVEPOINT] x only goes back to a savepoint.
        if "TO" in words[1:3]:
            return Statement(start, end)
        return Statement(start, end, transaction="end-other")
    if first == "VACUUM":
        return Statement(start, end, no_transaction="VACUUM")
    if first == "DETACH":
        return Statement(start, end, no_transaction="DETACH")
    if first == "PRAGMA":
        match = _PRAGMA_NAME.match(text, _skip_gap(text, start + len("PRAGMA")), end)
        reason = _PRAGMAS_OUTSIDE.get(match.group(1).lower()) if match else None
        return Statement(start, end, no_transaction=reason)
    return Statement(start, end)


def _first_words(text: str, start: int, end: int, count: int) -> list[str]:
    words: list[str] = []
    pos = start
    while len(words) < count:
        match = _WORD.match(text, _skip_gap(text, pos), end)
        if match is None:
            break
        words.append(match.group().upper())
        pos = match.end()
    return words


def _check_gaps(text: str, statements: StatementList, location: str) -> None:
    """The exact-text rule: between the statements only whitespace, ``;`` and comments."""
    previous = 0
    for start, end in itertools.chain(statements.spans(), [(len(text), len(text))]):
        pos = previous
        while pos < start:
            after = _skip_gap(text, pos)
            if after < start and text[after] == ";":
                after += 1
            if after == pos:
                raise SqlParseError(
                    _where(text, location, pos),
                    "sqlmigrate could not split this text into statements faithfully (it "
                    "would not be sent); nothing was run. Please report this file",
                )
            pos = after
        previous = max(previous, end)


def _classified(text: str, location: str, statements: StatementList) -> ParsedSql:
    wrapped = _unwrap(statements)
    if wrapped is not None:
        _reject_inside_block(text, wrapped, location, "the file's own BEGIN ... COMMIT")
        return ParsedSql(location, text, wrapped, atomic=True, wrapped=True)
    reason_statement = next((s for s in statements.special() if s.transaction or s.alone), None)
    if reason_statement is None:
        single = len(statements) == 1
        return ParsedSql(location, text, statements, atomic=True, single_statement=single)
    _check_transaction_blocks(text, statements, location)
    reason = reason_statement.no_transaction or "transaction control inside the file"
    line, _ = line_col(text, reason_statement.start)
    return ParsedSql(location, text, statements, atomic=False, reason=f"{reason} (line {line})")


def _unwrap(statements: StatementList) -> StatementList | None:
    """The inner statements of a file wrapped in its own BEGIN; ... COMMIT;, which give way
    to sqlmigrate's transaction (it holds the version update too)."""
    if len(statements) < 2:
        return None
    first, last, inner = statements[0], statements[-1], statements.inner()
    if first.transaction != "begin" or last.transaction != "end":
        return None
    if any(s.transaction for s in inner.special()):
        return None
    return inner


def _reject_inside_block(text: str, statements: StatementList, location: str, block: str) -> None:
    for statement in statements.special():
        if statement.no_transaction:
            raise SqlParseError(
                _where(text, location, statement.start),
                f"{statement.no_transaction} cannot run inside a transaction, and this one is "
                f"inside {block}. Move it out of the BEGIN ... COMMIT (or to a file of its "
                f"own); nothing was run",
            )


def _check_transaction_blocks(text: str, statements: StatementList, location: str) -> None:
    """A non-atomic file must not leave a transaction open or put VACUUM inside one."""
    open_at: Statement | None = None
    for statement in statements.special():
        if statement.transaction == "begin":
            open_at = open_at or statement
        elif statement.transaction in ("end", "end-other"):
            open_at = None
        elif statement.no_transaction and open_at is not None:
            raise SqlParseError(
                _where(text, location, statement.start),
                f"{statement.no_transaction} cannot run inside a transaction, and this one is "
                f"inside a BEGIN ... COMMIT block. Move it out; nothing was run",
            )
    if open_at is not None:
        raise SqlParseError(
            _where(text, location, open_at.start),
            "this BEGIN is never committed: the file would end inside an open transaction. "
            "Add COMMIT; at the end; nothing was run",
        )


def _where(text: str, location: str, offset: int) -> str:
    line, col = line_col(text, offset)
    return f"{location}:{line}:{col}"
