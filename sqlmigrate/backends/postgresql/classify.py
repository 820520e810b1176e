"""What one PostgreSQL statement means for running it, from PostgreSQL's parser (pglast).

Only statements whose first word can make them special are parsed again:
transaction control, statements PostgreSQL refuses inside a transaction
block, CALL and DO (a procedure or a block may COMMIT), SET (a file must not
change how the server decodes what follows), COPY (psql-only forms) and
DISCARD (``DISCARD ALL`` would drop the migration lock). The rest (INSERT,
UPDATE, CREATE TABLE, ...) keep the plain split.
"""

from __future__ import annotations

import re
from typing import Any

from pglast import parser as pg_parser
from pglast.enums import (
    DiscardMode,
    ReindexObjectType,
    TransactionStmtKind,
    VariableSetKind,
)

from ...sql import Statement
from .first_words import CANDIDATE_WORDS, first_word
from .splitting import error_offset

_BEGIN_KINDS = {TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START}
_END_KINDS = {
    TransactionStmtKind.TRANS_STMT_COMMIT,
    TransactionStmtKind.TRANS_STMT_ROLLBACK,
    TransactionStmtKind.TRANS_STMT_PREPARE,
}
_DDL_WORDS = frozenset({"CREATE", "DROP", "ALTER"})
# CREATE/DROP/ALTER are parsed only when their first words can make them refuse a
# transaction block: read from the statement's head, not searched in its whole text
# (a view over a table "subscriptions" is no CREATE SUBSCRIPTION).
_HEAD = 200
_COMMENT = re.compile(r"--|/\*")
_DDL_HEAD = re.compile(
    r"(?:CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY|DROP\s+INDEX\s+CONCURRENTLY"
    r"|(?:CREATE|DROP)\s+(?:DATABASE|TABLESPACE|SUBSCRIPTION)|ALTER\s+(?:SYSTEM|SUBSCRIPTION))\b",
    re.IGNORECASE,
)
# ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY, ALTER DATABASE ... SET TABLESPACE
_ALTER_SEARCHED = re.compile(r"ALTER\s+(?:TABLE|DATABASE)\b", re.IGNORECASE)
_ALTER_TRIGGERS = re.compile(r"concurrently|tablespace", re.IGNORECASE)
_CONTROLS_TRANSACTION = re.compile(r"commit|rollback|call", re.IGNORECASE)
_SET_TRIGGERS = re.compile(r"encoding|names|standard_conforming", re.IGNORECASE)

COPY_FROM_STDIN = (
    "COPY ... FROM STDIN needs psql to send the data that follows it; sqlmigrate sends "
    "files to the server as SQL. Use INSERT ... VALUES, or COPY from a file the server "
    "can read; nothing was run"
)
_COPY_TO_STDOUT = "COPY ... TO STDOUT sends rows to psql; a migration has nowhere to put them"
_DISCARD_ALL = (
    "DISCARD ALL would release the migration lock (sqlmigrate's and golang-migrate's) in the "
    "middle of the run, so another runner could apply the same migrations, and would reset "
    "the session. Remove it (DISCARD PLANS, SEQUENCES or TEMP are fine); nothing was run"
)
_CLIENT_ENCODING = (
    "SET client_encoding changes how the server decodes the bytes sqlmigrate sends after it; "
    "migration files are read and sent as UTF-8. Remove it (convert the file to UTF-8, or "
    "use convert_from() for foreign bytes); nothing was run"
)


_STANDARD_STRINGS = (
    "standard_conforming_strings = off makes the server read backslashes in '...' strings "
    "differently from how sqlmigrate split this file, so what runs could differ from what "
    "was checked. Remove it and write E'...' strings where you need backslash escapes; "
    "nothing was run"
)


class RefusedStatement(Exception):
    """A statement that must not reach the server; ``offset`` in the file."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


def classify(text: str, start: int, end: int) -> Statement:
    """The statement ``text[start:end]``, classified; raises RefusedStatement."""
    word = first_word(text, start)
    if word not in CANDIDATE_WORDS:
        return Statement(start, end)
    if word in _DDL_WORDS and not _ddl_needs_parse(text, start, end):
        return Statement(start, end)
    if word == "SET" and not _SET_TRIGGERS.search(text, start, end):
        return Statement(start, end)
    try:
        node = pg_parser.parse_sql(text[start:end])[0].stmt
    except pg_parser.ParseError as error:
        # Only a giant statement reaches here unparsed (the scanner walked it).
        offset = start + error_offset(error, end - start)
        raise RefusedStatement(offset, f"{error.args[0]}; nothing was run") from None
    _refuse(node, start)
    if word == "DO":
        return _do_block(text, start, end, node)
    return Statement(
        start,
        end,
        no_transaction(node),
        _transaction_kind(node),
        calls=type(node).__name__ == "CallStmt",
        waits_for_snapshots=_waits_for_snapshots(node),
    )


def _ddl_needs_parse(text: str, start: int, end: int) -> bool:
    head = text[start : min(end, start + _HEAD)]
    if _COMMENT.search(head):
        return True  # a comment between its first words: let the parser read them
    if _DDL_HEAD.match(head):
        return True
    return bool(_ALTER_SEARCHED.match(head) and _ALTER_TRIGGERS.search(text, start, end))


def _refuse(node: Any, offset: int) -> None:
    kind = type(node).__name__
    if kind == "DiscardStmt" and node.target == DiscardMode.DISCARD_ALL:
        raise RefusedStatement(offset, _DISCARD_ALL)
    if kind == "VariableSetStmt" and _sets_client_encoding(node):
        raise RefusedStatement(offset, _CLIENT_ENCODING)
    if kind == "VariableSetStmt" and _turns_off_standard_strings(node):
        raise RefusedStatement(offset, _STANDARD_STRINGS)
    if kind == "CopyStmt" and node.filename is None and not getattr(node, "is_program", False):
        raise RefusedStatement(offset, COPY_FROM_STDIN if node.is_from else _COPY_TO_STDOUT)


def _sets_client_encoding(node: Any) -> bool:
    # SET NAMES is stored as client_encoding; RESET and DEFAULT go back to UTF-8.
    return bool(node.name == "client_encoding" and node.kind == VariableSetKind.VAR_SET_VALUE)


def _turns_off_standard_strings(node: Any) -> bool:
    if node.name != "standard_conforming_strings" or node.kind != VariableSetKind.VAR_SET_VALUE:
        return False
    values = [getattr(getattr(arg, "val", None), "sval", None) for arg in node.args or ()]
    return values != ["on"] and values != ["true"]


def _do_block(text: str, start: int, end: int, node: Any) -> Statement:
    """A DO block that COMMITs or ROLLBACKs must run on its own, outside any transaction;
    one that CALLs a procedure (which may commit) runs on its own outside the file's own
    transaction blocks, as a CALL does."""
    options = {option.defname: option.arg for option in node.args or ()}
    language = getattr(options.get("language"), "sval", "plpgsql")
    if language != "plpgsql":
        return Statement(start, end, calls=True)  # we cannot read it: it may commit
    if not _CONTROLS_TRANSACTION.search(text, start, end):
        return Statement(start, end)
    kinds = _plpgsql_statements(text[start:end])
    if kinds & {"commit", "rollback"}:
        return Statement(start, end, "DO block with COMMIT or ROLLBACK")
    return Statement(start, end, calls="call" in kinds)


def _plpgsql_statements(statement: str) -> set[str]:
    """Which of COMMIT, ROLLBACK and CALL the block's body holds."""
    try:
        tree = pg_parser.parse_plpgsql_json(statement)
    except pg_parser.ParseError:
        # The server will judge the body; read its words to decide how to send it.
        words = {t.name for t in _body_tokens(statement)}
        return {w.lower() for w in words & {"COMMIT", "ROLLBACK", "CALL"}}
    return {kind for kind in ("commit", "rollback", "call") if f'"PLpgSQL_stmt_{kind}"' in tree}


def _body_tokens(statement: str) -> list[Any]:
    try:
        return list(pg_parser.scan(statement))
    except pg_parser.ParseError:
        return []


def _transaction_kind(node: Any) -> str | None:
    if type(node).__name__ != "TransactionStmt":
        return None
    if node.kind in _BEGIN_KINDS:
        return "begin-with-options" if node.options else "begin"
    if node.kind in _END_KINDS and not node.chain:
        return "end" if node.kind == TransactionStmtKind.TRANS_STMT_COMMIT else "end-other"
    return "other"


_REFUSES_BLOCK = {
    "CreatedbStmt": "CREATE DATABASE",
    "DropdbStmt": "DROP DATABASE",
    "CreateTableSpaceStmt": "CREATE TABLESPACE",
    "DropTableSpaceStmt": "DROP TABLESPACE",
    "AlterSystemStmt": "ALTER SYSTEM",
    "CreateSubscriptionStmt": "CREATE SUBSCRIPTION",
    "DropSubscriptionStmt": "DROP SUBSCRIPTION",
    "AlterSubscriptionStmt": "ALTER SUBSCRIPTION",
}


def no_transaction(node: Any) -> str | None:
    """Why PostgreSQL refuses this statement inside a transaction block, or None."""
    kind = type(node).__name__
    if kind in _REFUSES_BLOCK:
        return _REFUSES_BLOCK[kind]
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
    if kind == "AlterDatabaseStmt" and _has_option(node.options, "tablespace"):
        return "ALTER DATABASE ... SET TABLESPACE"
    if kind == "AlterTableStmt" and _detaches_concurrently(node):
        return "DETACH PARTITION CONCURRENTLY"
    return None


def _waits_for_snapshots(node: Any) -> bool:
    kind = type(node).__name__
    if kind == "IndexStmt":
        return bool(node.concurrent)
    return kind == "ReindexStmt" and _has_option(node.params, "concurrently")


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
