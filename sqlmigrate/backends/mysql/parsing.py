"""Split and check a migration file for MySQL/MariaDB with sqlglot's MySQL tokenizer.

sqlglot is maintained, pure Python, and its MySQL dialect knows MySQL's
strings (both quotes, backslash escapes), backtick names and all three
comment forms, so a semicolon inside any of them is not a statement end.
The server is the judge of the statements themselves.

Refused here with FILE:LINE:COL, before anything runs: ``DELIMITER`` (a
command of the ``mysql`` client, not SQL), executable comments between
statements (``/*!40101 ... */;``: MySQL runs them, so they are statements
sqlmigrate would not see as such), stored-program bodies (``BEGIN ... END``
with semicolons inside) and NUL bytes.

MySQL commits implicitly before and after DDL, so a file with any statement
other than plain DML runs under the dirty-flag protocol, as the CLI runs
every file; a DML-only file runs in one transaction with its version update.
"""

from __future__ import annotations

import itertools
import re

from sqlglot import Token, TokenError, TokenType
from sqlglot.dialects.mysql import MySQL

from ...exceptions import SqlParseError
from ...source import line_col
from ...sql import ParsedSql, Statement, StatementList

#: statements that run inside a transaction without committing it
_DML = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "SELECT", "WITH", "VALUES", "DO"})
_BEGIN = frozenset({"BEGIN", "START"})
_END = frozenset({"COMMIT"})
_PROGRAMS = frozenset({"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"})
_EXECUTABLE_COMMENT = re.compile(r"/\*M?!")
_MISSING = re.compile(r"Missing (.+) from \d+:(\d+)")
_QUOTED = {"'": "quoted string", '"': "quoted string", "`": "quoted name"}
_TOKENIZER = MySQL().tokenizer_class


def tokens_of(text: str) -> list[Token]:
    return list(_TOKENIZER().tokenize(text))


def parse_migration(text: str, location: str) -> ParsedSql:
    nul = text.find("\x00")
    if nul >= 0:
        raise SqlParseError(
            _where(text, location, nul),
            "a NUL byte (0x00): the text after it could be cut off on its way to the server. "
            "Remove it (write X'00' or CHAR(0) if you need the value); nothing was run",
        )
    statements = StatementList()
    for group in split_tokens(text, location):
        statements.append(classify(text, group, location))
    _check_gaps(text, statements, location)
    return _classified(text, location, statements)


def split_tokens(text: str, location: str) -> list[list[Token]]:
    """The tokens of each statement, in order (empty statements dropped)."""
    try:
        tokens = tokens_of(text)
    except TokenError as error:
        offset, what = _unterminated(text, error)
        raise SqlParseError(
            _where(text, location, offset),
            f"unterminated {what}: it runs to the end of the file. Close it; nothing was run",
        ) from None
    groups: list[list[Token]] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            groups.append([])
        else:
            groups[-1].append(token)
    return [group for group in groups if group]


def split_statements(text: str) -> list[tuple[int, int]]:
    """(start, end) of each statement of a message of sqlmigrate's own or a file's."""
    return [(g[0].start, g[-1].end + 1) for g in split_tokens(text, "<sql>")]


def classify(text: str, group: list[Token], location: str) -> Statement:
    start, end = group[0].start, group[-1].end + 1
    words = [t.text.upper() for t in group[:8]]
    first = words[0]
    _refuse_client_command(text, group, location)
    if first == "DELIMITER":
        raise SqlParseError(
            _where(text, location, start),
            "DELIMITER is a command of the mysql client, not SQL: migration files go to the "
            "server as they are (golang-migrate would fail here too). Remove the DELIMITER "
            "lines and their custom delimiters; nothing was run",
        )
    if (
        first == "CREATE"
        and _PROGRAMS & set(words)
        and any(t.text.upper() == "BEGIN" for t in group)
    ):
        raise SqlParseError(
            _where(text, location, start),
            "a stored program with a BEGIN ... END body: sqlmigrate splits MySQL files at "
            "semicolons and cannot send such a body faithfully yet. Write the body as a single "
            "statement (no BEGIN ... END), or create it outside sqlmigrate; nothing was run",
        )
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


def _refuse_client_command(text: str, group: list[Token], location: str) -> None:
    """``source file.sql`` and the backslash commands (``\\.``, ``\\d``, ``\\G``, ...) are
    the mysql client's: outside a string a backslash is never SQL, and no statement
    starts with SOURCE. Sent, they would fail half-way through the file."""
    backslash = next((t for t in group if t.token_type == TokenType.BACKSLASH), None)
    if backslash is None and group[0].text.upper() != "SOURCE":
        return
    at = backslash.start if backslash is not None else group[0].start
    command = text[at : at + 2] if backslash is not None else "SOURCE"
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
        if any(t.token_type != TokenType.SEMICOLON for t in tokens_of(gap)):
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


def _unterminated(text: str, error: TokenError) -> tuple[int, str]:
    """Where the string, quoted name or comment that never ends starts, and what it is.

    sqlglot wraps the reason in a TokenError of its own; the reason says
    ``Missing <quote> from <line>:<offset of the opening quote>``. An
    unterminated comment gives no place: it is found here."""
    reason = str(error.__cause__ or error)
    missing = _MISSING.search(reason)
    if missing:
        quote, offset = missing.group(1), int(missing.group(2))
        return offset, _QUOTED.get(quote, f"{quote}-quoted text")
    return _unterminated_comment(text), "/* comment"


def _unterminated_comment(text: str) -> int:
    """The first ``/*`` outside any string that no ``*/`` follows (MySQL's do not nest)."""
    opening = text.find("/*")
    while opening >= 0:
        if text.find("*/", opening + 2) < 0:
            try:
                tokens_of(text[:opening])  # fails when the /* is inside a string
            except TokenError:
                pass
            else:
                return opening
        opening = text.find("/*", opening + 2)
    return 0


def _where(text: str, location: str, offset: int) -> str:
    line, col = line_col(text, offset)
    return f"{location}:{line}:{col}"
