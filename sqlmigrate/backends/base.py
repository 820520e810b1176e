"""The contract every vendor backend keeps.

A backend owns one database session for the length of a run: it holds the
migration lock on it, reads and writes golang-migrate's version table, and
sends SQL text exactly as given. "No version" is ``None`` here; the table
stores golang-migrate's encoding of it (no row, or ``-1`` when dirty).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..exceptions import SQLMigrateError

if TYPE_CHECKING:
    from ..sql import ParsedSql

#: a vendor's parser: (file text, location for messages) -> the file ready to run
Parse = Callable[[str, str], "ParsedSql"]


@dataclass(frozen=True, slots=True)
class VersionState:
    version: int | None
    dirty: bool

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> VersionState:
        """A (version, dirty) row as golang-migrate means it: -1 is no version."""
        version, dirty = row
        return cls(None if version == -1 else int(version), bool(dirty))


@dataclass(frozen=True, slots=True)
class StatementError:
    """A failure the server reported for one message we sent."""

    message: str
    sqlstate: str | None
    #: 0-based character offset into the text sent, when the server gave one
    position: int | None
    detail: str | None = None
    hint: str | None = None
    context: str | None = None
    #: how many statements of the message succeeded before this one failed
    statement_index: int | None = None


@dataclass(frozen=True, slots=True)
class Dropped:
    """What ``drop_everything`` dropped: ``(kind, qualified name)`` pairs, in order."""

    schema: str
    objects: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Holder:
    """A session holding a lock that one of the migration's statements waited for."""

    pid: int
    application: str
    state: str
    relation: str
    mode: str
    #: the holder's current (or last) query: when it started (UTC), seconds ago, its text
    query_start: str
    query_age: int
    query: str

    def short(self) -> str:
        """pid 4242 (idle in transaction, query started 3 min ago)"""
        return f"pid {self.pid} ({self.state}, query started {ago(self.query_age)} ago)"

    def full(self) -> str:
        return (
            f"pid {self.pid} (application {self.application}, {self.state}, holding "
            f"{self.mode}; its query started {self.query_start} UTC, {ago(self.query_age)} "
            f"ago: {self.query})"
        )


def ago(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


class ExecutionFailed(SQLMigrateError):
    """Raised by ``Backend.execute``; the session is usable again when it is raised.

    The runner turns it into a MigrationFailedError with FILE:LINE:COL; where
    one of sqlmigrate's own statements fails, its text is the server's message."""

    def __init__(self, error: StatementError, completed: tuple[Outcome, ...] = ()) -> None:
        super().__init__(error.message)
        self.error = error
        #: what the message's statements before the failing one answered (see Outcome)
        self.completed = completed


#: what one statement of a message answered: its place in the message, its command tag
#: ("COMMIT", "SELECT 1"), and the first value of its first row, if it returned rows.
#: Only COMMITs and statements that returned rows are kept.
Outcome = tuple[int, str, str | None]


class HistorySql(Protocol):
    """The vendor's SQL for sqlmigrate's history table (``sqlmigrate.history``)."""

    def create_table(self, qualified: str) -> str:
        """CREATE TABLE IF NOT EXISTS with the columns of ``history.COLUMNS``."""

    def states(self, qualified: str, *, full: bool) -> str:
        """Per version, its latest up/down row whose outcome is in STATE_OUTCOMES, by version;
        ``full=False``: only version and direction."""

    def columns(self, qualified: str, table: str, literal: Callable[[str], str]) -> str:
        """A query of the column names of ``table`` (``qualified``: its quoted SQL name)."""

    def timing(self) -> tuple[str, str]:
        """(start, milliseconds since it) of the running transaction, as SQL expressions;
        built just before the SQL that uses them is sent."""

    def now(self) -> str:
        """The current time, as an SQL expression."""

    def elapsed_since(self, column: str) -> str:
        """Milliseconds from the time in ``column`` until now, as an SQL expression."""

    def returning_id(self, insert: str) -> list[str]:
        """Statements, run in order on one session, that run the one-row ``insert`` and
        answer (the last one's first row) with the new row's id."""


class Backend(Protocol):
    vendor: str
    #: the history table's SQL in this vendor's dialect
    history_sql: HistorySql
    #: the version table as it appears in messages, e.g. ``public.schema_migrations``
    table_label: str
    #: seconds any of sqlmigrate's own statements may wait for a lock (set by ``lock``)
    wait_timeout: float
    #: said beside a dirty version when golang-migrate takes no lock on this vendor, so
    #: "dirty" may be a CLI run still going rather than a failure; None where it locks
    unlocked_cli_note: str | None

    def parse(self, text: str, location: str) -> ParsedSql:
        """Split, classify and check a file for this vendor; raises SqlParseError with
        FILE:LINE:COL. What it returns is sent exactly as the file says (the exact-text
        rule): statements, and only whitespace, ``;`` and comments between them."""

    def open(self) -> None:
        """Connect and learn where the version table lives; takes no lock."""

    def lock(self, timeout: float) -> None:
        """Take the migration lock, waiting at most ``timeout`` seconds in all.

        Raises LockTimeoutError naming who holds it."""

    def unlock(self) -> None:
        """Release the lock; quiet when the session is already gone."""

    def check_session(self) -> None:
        """Raise LockLostError when the session that holds the lock is gone."""

    def ensure_table(self) -> None:
        """Create the version table when it does not exist (checks first, for read-only users)."""

    def read_version(self) -> VersionState:
        """The stored version; ``VersionState(None, False)`` for no row or no table."""

    def qualify(self, table: str) -> tuple[str, str]:
        """(quoted SQL name, label) of another table in the version table's schema."""

    def table_exists(self, table: str) -> bool:
        """True when ``table`` exists beside the version table."""

    def peek_query(
        self, table: str, sql_for: Callable[[str], list[str]], timeout: float
    ) -> list[list[tuple[Any, ...]]] | None:
        """Our own reads of ``table``, bounded like ``peek_version``; None: no table."""

    def peek_version(self, timeout: float) -> VersionState | None:
        """Read the version without the lock and without waiting longer than ``timeout``.

        None when the table does not exist. Safe inside a request's transaction."""

    def version_sql(self, version: int | None, dirty: bool) -> str:
        """SQL that replaces the stored version, to run inside the caller's transaction.

        While the lock is held it starts with a guard that fails (LOCK_LOST) unless
        this session still holds the lock, so no write follows a lost lock."""

    def set_version(self, version: int | None, dirty: bool) -> None:
        """Replace the stored version in a transaction of its own."""

    #: True when one message may hold several migrations, each in its own transaction
    #: (``execute`` then answers with every statement's ``Outcome``)
    batches: bool

    def execute(self, sql: str | bytes) -> list[Outcome]:
        """Send ``sql`` as one simple-query message, no parameters, byte for byte.

        Raises ExecutionFailed (``error.statement_index``: how many statements of the
        message succeeded first); never leaves the session in an aborted transaction."""

    def write(self, sql: str) -> None:
        """One of sqlmigrate's own writes, its lock waits bounded by ``wait_timeout``.

        Raises SQLMigrateError naming who is in the way, LockLostError after a lost lock."""

    def explain(self, error: StatementError) -> str:
        """The message for a failure of sqlmigrate's own SQL; raises LockLostError when
        it is the lock guard that failed."""

    def bounded_sql(self) -> str:
        """A statement bounding the lock waits of what follows it in the same message."""

    def restore_sql(self) -> str:
        """Statements putting the session back as the run found it ('' without a lock)."""

    def restore(self) -> None:
        """Run ``restore_sql`` now (after a failed file); quiet when the session is gone."""

    def lock_holders(self, statement: str) -> list[Holder]:
        """Sessions holding a lock on the tables ``statement`` names (asked right after it
        timed out waiting for one), oldest transaction first."""

    def snapshot_waiters(self) -> list[str]:
        """Sessions that a CREATE INDEX CONCURRENTLY of this run would deadlock with."""

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of one of sqlmigrate's own queries; raises ExecutionFailed."""

    def literal(self, value: object) -> str:
        """``value`` as an SQL literal for this connection."""

    def begin_sql(self) -> str:
        """The statement that opens the transaction of an atomic file."""

    def begin(self) -> None:
        """Open an explicit transaction (for a multi-statement atomic file)."""

    def drop_everything(self) -> Dropped:
        """Drop every object in the version table's schema (golang-migrate's ``drop``),
        all or nothing; the caller holds the lock."""
