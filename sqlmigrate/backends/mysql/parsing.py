"""Split and check a migration file for MySQL/MariaDB with sqlglot's MySQL tokenizer.

sqlglot is maintained, pure Python, and its MySQL dialect knows MySQL's
strings (both quotes, backslash escapes), backtick names and all three
comment forms, so a semicolon inside any of them is not a statement end;
``splitting`` keeps a stored program's ``BEGIN ... END`` body (and MariaDB's
compound statements) in one statement, as the server's parser does when the
CLI sends the whole file. The server is the judge of the statements themselves.

Refused here with FILE:LINE:COL, before anything runs: ``DELIMITER``,
``source`` and backslash commands (``\\G``: commands of the ``mysql`` client,
not SQL), a file that ends inside its own ``BEGIN``, unterminated strings,
names and comments (placed where they open), executable comments between
statements (``/*!40101 ... */;``: MySQL runs them, so they are statements
sqlmigrate would not see as such) or inside a compound statement, a body
whose end cannot be told for sure (see ``compound``) and NUL bytes.

MySQL commits implicitly before and after DDL, so a file with any statement
other than plain DML runs under the dirty-flag protocol, as the CLI runs
every file; a DML-only file runs in one transaction with its version update.
"""

from __future__ import annotations

import itertools
import re

from sqlglot import TokenType

from ...exceptions import SqlParseError
from ...source import line_col
from ...sql import ParsedSql, Statement, StatementList
from .splitting import Found, statements_of
from .tokens import tokens_of

#: statements that run inside a transaction without committing it
_DML = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "SELECT", "WITH", "VALUES", "DO"})
_BEGIN = frozenset({"BEGIN", "START"})
_END = frozenset({"COMMIT"})
_EXECUTABLE_COMMENT = re.compile(r"/\*M?!")
_PLAIN_GAP = re.compile(r"[\s;]*")


def parse_migration(text: str, location: str) -> ParsedSql:
    nul = text.find("\x00")
    if nul >= 0:
        raise SqlParseError(
            _where(text, location, nul),
            "a NUL byte (0x00): the text after it could be cut off on its way to the server. "
            "Remove it (write X'00' or CHAR(0) if you need the value); nothing was run",
        )
    statements = StatementList()
    for found in statements_of(text, location):
        statements.append(classify(text, found, location))
    _check_gaps(text, statements, location)
    return _classified(text, location, statements)


def split_statements(text: str) -> list[tuple[int, int]]:
    """(start, end) of each statement of a message of sqlmigrate's own or a file's."""
    return [(found.start, found.end) for found in statements_of(text, "<sql>")]


def classify(text: str, found: Found, location: str) -> Statement:
    start, end, words = found.start, found.end, list(found.words)
    first = words[0]
    _refuse_client_command(text, found, location)
    if first == "DELIMITER":
        raise SqlParseError(
            _where(text, location, start),
            "DELIMITER is a command of the mysql client, not SQL: migration files go to the "
            "server as they are (golang-migrate would fail here too). Remove the DELIMITER "
            "lines and their custom delimiters; nothing was run",
        )
    if found.compound and first not in ("CREATE", "ALTER"):
        # MariaDB's BEGIN NOT ATOMIC, IF, CASE, loops: they may run anything, COMMIT too
        return Statement(start, end, no_transaction=f"a compound statement ({first} ... END)")
    if first in _BEGIN and (first == "BEGIN" or words[1:2] == ["TRANSACTION"]):
        return Statement(start, end, transaction="begin")
    if first in _END:
        return Statement(start, end, transaction="end")
    if first == "ROLLBACK":
        return Statement(start, end, transaction="other" if "TO" in words else "end-other")
    if first in _DML:
        return Statement(start, end)
    # DDL, LOCK TABLES, SET autocommit, CALL...: MySQL may commit, so no atomic file.
    return Statement(start, end, no_transaction=f"{first} (MySQL commits implicitly around it)")


def _refuse_client_command(text: str, found: Found, location: str) -> None:
    """``source file.sql`` and the backslash commands (``\\.``, ``\\d``, ``\\G``, ...) are
    the mysql client's: outside a string a backslash is never SQL, and no statement
    starts with SOURCE. Sent, they would fail half-way through the file."""
    if found.backslash < 0 and found.words[0] != "SOURCE":
        return
    at = found.backslash if found.backslash >= 0 else found.start
    command = text[at : at + 2] if found.backslash >= 0 else "SOURCE"
    raise SqlParseError(
        _where(text, location, at),
        f"{command} is a command of the mysql client, not SQL: migration files go to the "
        "server as they are (golang-migrate would fail here too). Remove it; nothing was run",
    )


def _check_gaps(text: str, statements: StatementList, location: str) -> None:
    previous = 0
    for start, end in itertools.chain(statements.spans(), [(len(text), len(text))]):
        gap = text[previous:start]
        executable = _EXECUTABLE_COMMENT.search(gap)
        if executable:
            raise SqlParseError(
                _where(text, location, previous + executable.start()),
                "an executable comment (/*! ... */) outside a statement: MySQL runs what is in "
                "it, so it is a statement sqlmigrate would not send. Write it as plain SQL; "
                "nothing was run",
            )
        if _PLAIN_GAP.fullmatch(gap) is None and any(
            t.token_type != TokenType.SEMICOLON for t in tokens_of(gap)
        ):
            raise SqlParseError(
                _where(text, location, previous),
                "sqlmigrate could not split this text into statements faithfully (it would "
                "not be sent); nothing was run. Please report this file",
            )
        previous = max(previous, end)


def _classified(text: str, location: str, statements: StatementList) -> ParsedSql:
    wrapped = _unwrap(statements)
    if wrapped is not None:
        return ParsedSql(location, text, wrapped, atomic=True, wrapped=True)
    reason_statement = next((s for s in statements.special() if s.transaction or s.alone), None)
    if reason_statement is None:
        single = len(statements) == 1
        return ParsedSql(location, text, statements, atomic=True, single_statement=single)
    _check_open_transaction(text, statements, location)
    reason = reason_statement.no_transaction or "transaction control inside the file"
    line, _ = line_col(text, reason_statement.start)
    return ParsedSql(location, text, statements, atomic=False, reason=f"{reason} (line {line})")


def _check_open_transaction(text: str, statements: StatementList, location: str) -> None:
    """A file whose last BEGIN is followed by plain DML only ends inside its transaction:
    MySQL keeps it open, and sqlmigrate's next START TRANSACTION would commit it
    silently. (After any other statement MySQL may have committed it implicitly.)"""
    special = list(statements.special())  # the few classified statements
    last = special[-1] if special else None
    if last is not None and last.transaction == "begin":
        raise SqlParseError(
            _where(text, location, last.start),
            "this BEGIN is never committed: the file would end inside an open transaction. "
            "Add COMMIT; at the end; nothing was run",
        )


def _unwrap(statements: StatementList) -> StatementList | None:
    """The inner statements of ``BEGIN; <DML only>; COMMIT;``."""
    if len(statements) < 2:
        return None
    first, last, inner = statements[0], statements[-1], statements.inner()
    if first.transaction != "begin" or last.transaction != "end":
        return None
    if any(s.transaction or s.alone for s in inner.special()):
        return None
    return inner


def _where(text: str, location: str, offset: int) -> str:
    line, col = line_col(text, offset)
    return f"{location}:{line}:{col}"
