"""Split and classify a migration file with PostgreSQL's own parser (pglast).

Every pending file goes through ``parse_migration`` before the first one
runs. The result says where each statement is, and whether the file can run
inside one transaction together with its version update ("atomic") or needs
golang-migrate's dirty-flag protocol. psql-only input and syntax errors are
rejected here, with FILE:LINE:COL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from pglast import parser as pg_parser
from pglast.enums import DiscardMode, ReindexObjectType, TransactionStmtKind

from .exceptions import SqlParseError
from .source import line_col
from .splitting import SplitError, Statement, StatementList, split_statements

_BEGIN_KINDS = {TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START}
_END_KINDS = {
    TransactionStmtKind.TRANS_STMT_COMMIT,
    TransactionStmtKind.TRANS_STMT_ROLLBACK,
    TransactionStmtKind.TRANS_STMT_PREPARE,
}

# Only statements starting with one of these words can be transaction
# control, non-transactional, or psql-only COPY; the rest (INSERT, UPDATE,
# CREATE TABLE, ...) are never parsed a second time.
_CANDIDATE_WORDS = frozenset(
    [
        "BEGIN",
        "START",
        "COMMIT",
        "END",
        "ROLLBACK",
        "ABORT",
        "SAVEPOINT",
        "RELEASE",
        "PREPARE",
        "CREATE",
        "DROP",
        "ALTER",
        "REINDEX",
        "VACUUM",
        "CLUSTER",
        "DISCARD",
        "COPY",
    ]
)
# REINDEX is always parsed: SCHEMA, DATABASE and SYSTEM forms refuse transactions too.
_DDL_WORDS = frozenset({"CREATE", "DROP", "ALTER"})
_DDL_TRIGGERS = re.compile(r"concurrently|database|tablespace|subscription|system", re.IGNORECASE)
_FIRST_WORD = re.compile(r"[A-Za-z]+")
_META_COMMAND = re.compile(r"\\[A-Za-z!?]*")


@dataclass(frozen=True, slots=True)
class ParsedSql:
    """A file ready to run: its text and the statements to send, in order."""

    location: str
    text: str
    statements: StatementList
    #: True: statements + version update run in one transaction
    atomic: bool
    #: for non-atomic files, the first statement that forces the dirty protocol
    reason: str | None = None
    #: the file is exactly one statement (no BEGIN/COMMIT of its own)
    single_statement: bool = False
    #: a big one-statement ASCII file kept only as its bytes (``text`` is then
    #: empty): sent as is, so the driver makes no encoded copy of it
    raw: bytes | None = None

    def full_text(self) -> str:
        return self.raw.decode("ascii") if self.raw is not None else self.text

    def statement_text(self, statement: Statement) -> str:
        return self.full_text()[statement.start : statement.end]

    def where(self, offset: int) -> str:
        """``FILE:LINE:COL`` of a 0-based character offset in the file."""
        line, col = line_col(self.full_text(), offset)
        return f"{self.location}:{line}:{col}"

    def as_bytes(self, data: bytes) -> ParsedSql:
        """This file held as ``data`` (its bytes, ASCII), letting the text go."""
        return replace(self, text="", raw=data)


def parse_migration(text: str, location: str) -> ParsedSql:
    """Split, classify and check ``text``; raises SqlParseError naming FILE:LINE:COL."""
    statements = StatementList()
    try:
        for start, end in split_statements(text):
            statement = _classify(text, start, end)
            _reject_psql_only(text, statement, location)
            statements.append(statement)
    except SplitError as error:
        raise _diagnose(text, location, error.message, error.offset) from None
    wrapped = _unwrap(statements)
    if wrapped is not None:
        _reject_inside_block(text, wrapped.special(), location, "the file's own BEGIN ... COMMIT")
        return ParsedSql(location, text, wrapped, atomic=True)
    reason_statement = next(statements.special(), None)
    if reason_statement is None:
        single = len(statements) == 1
        return ParsedSql(location, text, statements, atomic=True, single_statement=single)
    _check_transaction_blocks(text, statements.special(), location)
    reason = reason_statement.no_transaction or "transaction control inside the file"
    line, _ = line_col(text, reason_statement.start)
    return ParsedSql(location, text, statements, atomic=False, reason=f"{reason} (line {line})")


def _diagnose(text: str, location: str, message: str, offset: int) -> SqlParseError:
    """Turn the parser's complaint into the most useful message we can give."""
    offset = min(max(offset, 0), len(text))
    meta = _META_COMMAND.match(text, offset)
    if meta and meta.group():
        return SqlParseError(_where(text, location, offset), _meta_command_message(meta.group()))
    copy = _last_copy_from_stdin(text, offset)
    if copy is not None:
        return SqlParseError(_where(text, location, copy), _COPY_MESSAGE)
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


def _classify(text: str, start: int, end: int) -> Statement:
    word_match = _FIRST_WORD.match(text, start)
    word = word_match.group().upper() if word_match else ""
    if word not in _CANDIDATE_WORDS:
        return Statement(start, end)
    if word in _DDL_WORDS and not _DDL_TRIGGERS.search(text, start, end):
        return Statement(start, end)
    node = pg_parser.parse_sql(text[start:end])[0].stmt
    return Statement(start, end, _no_transaction(node), _transaction_kind(node))


def _transaction_kind(node: Any) -> str | None:
    if type(node).__name__ != "TransactionStmt":
        return None
    if node.kind in _BEGIN_KINDS:
        return "begin-with-options" if node.options else "begin"
    if node.kind in _END_KINDS and not node.chain:
        return "end" if node.kind == TransactionStmtKind.TRANS_STMT_COMMIT else "end-other"
    return "other"


def _no_transaction(node: Any) -> str | None:
    """Why PostgreSQL refuses this statement inside a transaction block, or None."""
    kind = type(node).__name__
    simple = {
        "CreatedbStmt": "CREATE DATABASE",
        "DropdbStmt": "DROP DATABASE",
        "CreateTableSpaceStmt": "CREATE TABLESPACE",
        "DropTableSpaceStmt": "DROP TABLESPACE",
        "AlterSystemStmt": "ALTER SYSTEM",
        "CreateSubscriptionStmt": "CREATE SUBSCRIPTION",
        "DropSubscriptionStmt": "DROP SUBSCRIPTION",
        "AlterSubscriptionStmt": "ALTER SUBSCRIPTION",
    }
    if kind in simple:
        return simple[kind]
    if kind == "IndexStmt" and node.concurrent:
        return "CREATE INDEX CONCURRENTLY"
    if kind == "DropStmt" and node.concurrent:
        return "DROP INDEX CONCURRENTLY"
    if kind == "ReindexStmt":
        return _reindex(node)
    if kind == "VacuumStmt" and node.is_vacuumcmd:
        return "VACUUM"
    if kind == "ClusterStmt" and node.relation is None:
        return "CLUSTER without a table"
    if kind == "DiscardStmt" and node.target == DiscardMode.DISCARD_ALL:
        return "DISCARD ALL"
    if kind == "AlterDatabaseStmt" and _has_option(node.options, "tablespace"):
        return "ALTER DATABASE ... SET TABLESPACE"
    if kind == "AlterTableStmt" and _detaches_concurrently(node):
        return "DETACH PARTITION CONCURRENTLY"
    return None


def _reindex(node: Any) -> str | None:
    if _has_option(node.params, "concurrently"):
        return "REINDEX CONCURRENTLY"
    whole = {
        ReindexObjectType.REINDEX_OBJECT_SCHEMA: "REINDEX SCHEMA",
        ReindexObjectType.REINDEX_OBJECT_SYSTEM: "REINDEX SYSTEM",
        ReindexObjectType.REINDEX_OBJECT_DATABASE: "REINDEX DATABASE",
    }
    return whole.get(node.kind)


def _has_option(options: Any, name: str) -> bool:
    return any(getattr(option, "defname", None) == name for option in options or ())


def _detaches_concurrently(node: Any) -> bool:
    return any(getattr(getattr(cmd, "def_", None), "concurrent", False) for cmd in node.cmds or ())


_COPY_MESSAGE = (
    "COPY ... FROM STDIN needs psql to send the data that follows it; sqlmigrate sends "
    "files to the server as SQL. Use INSERT ... VALUES, or COPY from a file the server "
    "can read; nothing was run"
)


def _meta_command_message(command: str) -> str:
    return (
        f"psql meta-command {command} is not SQL: migration files go to the server, not "
        f"to psql (golang-migrate would fail here too). Replace it with plain SQL; nothing "
        f"was run"
    )


def _reject_psql_only(text: str, statement: Statement, location: str) -> None:
    if statement.no_transaction or statement.transaction:
        return
    word = _FIRST_WORD.match(text, statement.start)
    if word is None or word.group().upper() != "COPY":
        return
    node: Any = pg_parser.parse_sql(text[statement.start : statement.end])[0].stmt
    if node.filename is None and not getattr(node, "is_program", False):
        where = _where(text, location, statement.start)
        if node.is_from:
            raise SqlParseError(where, _COPY_MESSAGE)
        raise SqlParseError(
            where, "COPY ... TO STDOUT sends rows to psql; a migration has nowhere to put them"
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
