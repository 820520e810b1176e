"""Split and check a migration file with PostgreSQL's own parser (pglast).

Every pending file goes through ``parse_migration`` before the first one
runs (and before the lock is taken). The result says where each statement
is, and whether the file can run inside one transaction together with its
version update ("atomic") or needs golang-migrate's dirty-flag protocol.

The rule it keeps: what the server executes is exactly the file's text. A
file that cannot be sent faithfully (a NUL byte, psql-only input, text the
splitter would drop) is refused here with FILE:LINE:COL, before anything runs.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from operator import attrgetter

from pglast import parser as pg_parser

from ...exceptions import SqlParseError
from ...source import line_col
from ...sql import ParsedSql, Statement, StatementList
from .classify import COPY_FROM_STDIN, RefusedStatement, classify
from .first_words import may_be_special
from .gaps import non_plain_gaps
from .splitting import SplitError, split_windows

_START, _STOP = attrgetter("start"), attrgetter("stop")
_META_COMMAND = re.compile(r"\\[A-Za-z!?]*")
# A gap that is more than whitespace and semicolons (gaps.py) may hold only comments.
_GAP_TOKENS = frozenset({"SQL_COMMENT", "C_COMMENT", "ASCII_59"})
# pg_advisory_unlock_all, ignoring case, in two parts (_unlock_all_words)
_PG = re.compile(r"pg", re.IGNORECASE)
_UNDERSCORE_UNLOCK_ALL = re.compile(r"_(?i:advisory_unlock_all)")


def parse_migration(text: str, location: str) -> ParsedSql:
    """Split, classify and check ``text``; raises SqlParseError naming FILE:LINE:COL."""
    _refuse_nul(text, location)
    statements = StatementList()
    try:
        for offset, pieces in split_windows(text):
            _add_window(text, statements, offset, pieces)
    except SplitError as error:
        raise _diagnose(text, location, error.message, error.offset) from None
    except RefusedStatement as refused:
        raise SqlParseError(_where(text, location, refused.offset), refused.message) from None
    _check_gaps(text, statements, location)
    _refuse_unlock_all(text, statements, location)
    return _classified(text, location, statements)


def _add_window(text: str, statements: StatementList, offset: int, pieces: Sequence[slice]) -> None:
    """A window's statements, in bulk; only those that may be special are classified
    one by one (a file of INSERTs makes no Statement object at all)."""
    # Arrays, not lists: a list holds an int object (28 bytes) per statement, and the
    # process kept the memory of a window's lists (5 MB more at its peak on 300 000 rows).
    starts = array("q", map(offset.__add__, map(_START, pieces)))
    ends = array("q", map(offset.__add__, map(_STOP, pieces)))
    first = len(statements)
    statements.extend(starts, ends)
    for index in may_be_special(text, starts):
        statements.set_classification(first + index, classify(text, starts[index], ends[index]))


def _classified(text: str, location: str, statements: StatementList) -> ParsedSql:
    wrapped = _unwrap(statements)
    if wrapped is not None:
        _reject_inside_block(text, wrapped.special(), location, "the file's own BEGIN ... COMMIT")
        return ParsedSql(location, text, wrapped, atomic=True, wrapped=True)
    reason_statement = next((s for s in statements.special() if s.transaction or s.alone), None)
    if reason_statement is None:
        single = len(statements) == 1
        return ParsedSql(location, text, statements, atomic=True, single_statement=single)
    _check_transaction_blocks(text, statements.special(), location)
    reason = reason_statement.no_transaction or (
        "CALL: a procedure may COMMIT"
        if reason_statement.calls
        else "transaction control inside the file"
    )
    line, _ = line_col(text, reason_statement.start)
    return ParsedSql(location, text, statements, atomic=False, reason=f"{reason} (line {line})")


def _refuse_nul(text: str, location: str) -> None:
    nul = text.find("\x00")
    if nul >= 0:
        raise SqlParseError(
            _where(text, location, nul),
            "a NUL byte (0x00): PostgreSQL cannot receive it, and everything after it would "
            "be dropped silently. Remove it (write '\\x00' in a bytea literal if you need the "
            "value); nothing was run",
        )


def _check_gaps(text: str, statements: StatementList, location: str) -> None:
    """The exact-text rule: between the statements there is only whitespace, ``;`` and
    comments, so sending the statements sends every byte that means anything."""
    for start, end in non_plain_gaps(text, statements.starts(), statements.ends()):
        if not _only_comments(text[start:end]):
            raise SqlParseError(
                _where(text, location, start),
                "sqlmigrate could not split this text into statements faithfully (it would "
                "not be sent); nothing was run. Please report this file",
            )


def _only_comments(gap: str) -> bool:
    try:
        return all(token.name in _GAP_TOKENS for token in pg_parser.scan(gap))
    except pg_parser.ParseError:
        return False


def _refuse_unlock_all(text: str, statements: StatementList, location: str) -> None:
    """``pg_advisory_unlock_all()`` called by the file itself (not inside a function body).

    Each statement with the word in it is scanned once, however often it has it.
    """
    starts = statements.starts()
    by_statement: dict[int, list[int]] = {}
    for offset in _unlock_all_words(text):
        index = bisect.bisect_right(starts, offset) - 1
        if index >= 0 and offset < statements[index].end:
            by_statement.setdefault(index, []).append(offset)
    for index, offsets in by_statement.items():
        statement = statements[index]
        tokens = pg_parser.scan(text[statement.start : statement.end])
        idents = [(t.start, t.end) for t in tokens if t.name == "IDENT"]
        ident_starts = [start for start, _ in idents]
        for offset in offsets:
            at = offset - statement.start
            found = bisect.bisect_right(ident_starts, at) - 1
            if found >= 0 and idents[found][1] >= at:
                raise SqlParseError(
                    _where(text, location, offset),
                    "pg_advisory_unlock_all() would release the migration lock in the middle "
                    "of the run, so another runner could apply the same migrations. Unlock "
                    "only the keys this migration took (pg_advisory_unlock(key)); nothing was "
                    "run",
                )


def _unlock_all_words(text: str) -> Iterator[int]:
    """Where ``pg_advisory_unlock_all`` is, ignoring case as ``re.IGNORECASE`` does.

    Searched from its ``_``, which has no other case: a pattern that starts with a
    literal is searched for quickly, one that starts ignoring case is tried at every
    offset (0.1 s on 20 MB). The word cannot overlap itself, so no match hides one."""
    for match in _UNDERSCORE_UNLOCK_ALL.finditer(text, 2):
        if _PG.fullmatch(text, match.start() - 2, match.start()):
            yield match.start() - 2


def _diagnose(text: str, location: str, message: str, offset: int) -> SqlParseError:
    """Turn the parser's complaint into the most useful message we can give."""
    offset = min(max(offset, 0), len(text))
    meta = _META_COMMAND.match(text, offset)
    if meta and meta.group():
        return SqlParseError(_where(text, location, offset), _meta_command_message(meta.group()))
    copy = _last_copy_from_stdin(text, offset)
    if copy is not None:
        return SqlParseError(_where(text, location, copy), COPY_FROM_STDIN)
    return SqlParseError(_where(text, location, offset), f"{message}; nothing was run")


def _last_copy_from_stdin(text: str, before: int) -> int | None:
    """Where the last ``COPY ... FROM STDIN`` before ``before`` starts, by SQL tokens.

    Tokens, not a regex over the text: COPY in a comment or a string is not one.
    """
    # Only the text just before the error: scanning a whole 50 MB file costs gigabytes.
    start = max(0, before - 65536)
    try:
        tokens = pg_parser.scan(text[start:before])
    except pg_parser.ParseError:
        return None
    found, copy_at, saw_from = None, None, False
    for token in tokens:
        if token.name == "COPY":
            copy_at, saw_from = start + token.start, False
        elif token.name == "ASCII_59":
            copy_at = None
        elif copy_at is not None and token.name == "FROM":
            saw_from = True
        elif copy_at is not None and saw_from and token.name == "STDIN":
            found = copy_at
    return found


def _meta_command_message(command: str) -> str:
    return (
        f"psql meta-command {command} is not SQL: migration files go to the server, not "
        f"to psql (golang-migrate would fail here too). Replace it with plain SQL; nothing "
        f"was run"
    )


def _unwrap(statements: StatementList) -> StatementList | None:
    """The inner statements of a file wrapped in its own plain BEGIN; ... COMMIT;.

    Those two give way to sqlmigrate's own transaction, which also holds the
    version update. None when the file is not wrapped that way.
    """
    if len(statements) < 2:
        return None
    first, last, inner = statements[0], statements[-1], statements.inner()
    if first.transaction != "begin" or last.transaction != "end":
        return None
    if any(s.transaction for s in inner.special()):
        return None
    return inner


def _reject_inside_block(
    text: str, statements: Iterable[Statement], location: str, block: str
) -> None:
    for statement in statements:
        if statement.no_transaction:
            raise SqlParseError(
                _where(text, location, statement.start),
                f"{statement.no_transaction} cannot run inside a transaction block, and this "
                f"one is inside {block}. Move it to a file of its own without BEGIN/COMMIT; "
                f"nothing was run",
            )


def _check_transaction_blocks(text: str, statements: Iterable[Statement], location: str) -> None:
    """A non-atomic file must not leave a transaction open or nest forbidden statements."""
    open_at: Statement | None = None
    for statement in statements:
        if statement.transaction in ("begin", "begin-with-options"):
            open_at = open_at or statement
        elif statement.transaction in ("end", "end-other"):
            open_at = None
        elif statement.no_transaction and open_at is not None:
            _reject_inside_block(text, [statement], location, "a BEGIN ... COMMIT block")
    if open_at is not None:
        raise SqlParseError(
            _where(text, location, open_at.start),
            "this BEGIN is never committed: the file would end inside an open transaction. "
            "Add COMMIT; at the end; nothing was run",
        )


def _where(text: str, location: str, offset: int) -> str:
    line, col = line_col(text, offset)
    return f"{location}:{line}:{col}"
