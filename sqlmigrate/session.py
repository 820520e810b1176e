"""One run's resolved settings, and the database session it holds.

A ``Run`` is what the keyword arguments of an engine call come to once the
settings have filled the gaps. ``open_session(run)`` opens the backend for the
alias, takes the migration lock (not for dry runs) and always releases it;
``Session.ensure_tables`` creates the tables once a run is sure to write.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from .backends import backend_for
from .backends.base import Backend
from .conf import settings
from .exceptions import CommandArgumentError, ConfigurationError
from .history_table import HistoryTable
from .identifiers import check_table_name
from .runner import AppliedMigration
from .timeouts import NO_LIMITS, Limits, retry_count, seconds_or_off

Progress = Callable[[AppliedMigration], None]
#: called with a step's label just before it starts (a live progress line)
Starting = Callable[[str], None]
#: called with the text of each message just before it is sent (``-v 3``)
Sending = Callable[[str], None]
Warn = Callable[[str], None]


class RunOptions(TypedDict, total=False):
    """Keyword arguments every run takes; unset ones come from settings."""

    using: str
    path: Path | None
    lock_timeout: float | None
    progress: Progress | None
    starting: Starting | None
    sending: Sending | None
    warn: Warn | None
    #: asked before each migration after the first; True stops the run there
    should_stop: Callable[[], bool] | None
    #: plan and pre-flight only: no lock, no writes
    dry_run: bool
    allow_drift: bool | None
    allow_out_of_order: bool | None
    strict: bool | None
    #: seconds a migration's statements may wait for a lock (0: off); see timeouts.py
    ddl_lock_timeout: float | None
    #: seconds each statement of a migration may run (0: off)
    statement_timeout: float | None
    #: times a migration that timed out waiting for a lock is tried again
    retries: int | None


@dataclass(frozen=True, slots=True)
class Run:
    """One call's settings, resolved."""

    kind: str
    #: the command and arguments that run this again, for messages
    rerun: tuple[str, ...]
    using: str
    directory: Path
    lock_timeout: float
    progress: Progress | None
    starting: Starting | None
    sending: Sending | None
    warn: Warn | None
    should_stop: Callable[[], bool] | None
    dry_run: bool
    allow_drift: bool
    allow_out_of_order: bool
    strict: bool
    #: what each migration runs with, before its file's ``-- sqlmigrate:`` comments
    limits: Limits = NO_LIMITS

    @classmethod
    def from_options(cls, options: RunOptions, kind: str, *rerun: str) -> Run:
        timeout = options.get("lock_timeout")
        timeout = settings.lock_timeout if timeout is None else timeout
        if not (math.isfinite(timeout) and timeout > 0):
            raise CommandArgumentError(
                f"lock timeout must be a positive number of seconds, not {timeout}"
            )
        path = options.get("path")
        return cls(
            kind=kind,
            rerun=rerun or (f"sqlmigrate_{kind}",),
            using=options.get("using") or DEFAULT_DB_ALIAS,
            directory=Path(path) if path is not None else settings.migrations_dir,
            lock_timeout=float(timeout),
            progress=options.get("progress"),
            starting=options.get("starting"),
            sending=options.get("sending"),
            warn=options.get("warn"),
            should_stop=options.get("should_stop"),
            dry_run=bool(options.get("dry_run")),
            allow_drift=setting_or(options.get("allow_drift"), settings.allow_drift),
            allow_out_of_order=setting_or(
                options.get("allow_out_of_order"), settings.allow_out_of_order
            ),
            strict=setting_or(options.get("strict"), settings.strict),
            limits=run_limits(options),
        )

    def hint(self, command: str, *args: str) -> str:
        words = ["python manage.py", command, *args]
        if self.using != DEFAULT_DB_ALIAS:
            words.append(f"--database {self.using}")
        return " ".join(words)

    def say(self, message: str) -> None:
        if self.warn is not None:
            self.warn(message)


def run_limits(options: RunOptions) -> Limits:
    """The timeouts and retries of a run: options first, then settings."""
    values: list[object] = []
    for name, setting in (
        ("ddl_lock_timeout", "ddl_lock_timeout"),
        ("statement_timeout", "statement_timeout"),
        ("retries", "ddl_retries"),
    ):
        given = options.get(name)
        values.append(getattr(settings, setting) if given is None else given)
    lock, statement, retries = values
    try:
        return Limits(
            seconds_or_off(lock, "the DDL lock timeout (SQLMIGRATE_DDL_LOCK_TIMEOUT)"),
            seconds_or_off(statement, "the statement timeout (SQLMIGRATE_STATEMENT_TIMEOUT)"),
            retry_count(retries, "the retries (SQLMIGRATE_DDL_RETRIES)"),
        )
    except ValueError as error:
        raise ConfigurationError(str(error)) from None


def setting_or(option: bool | None, default: bool) -> bool:
    return default if option is None else bool(option)


@dataclass(slots=True)
class Session:
    backend: Backend
    history: HistoryTable | None
    lock_timeout: float
    locked: bool = False

    def take_lock(self) -> None:
        self.backend.lock(self.lock_timeout)
        self.locked = True

    def ensure_tables(self, *, history_read: bool = False) -> None:
        """``history_read``: the history table was just read whole, so it exists
        and has sqlmigrate's columns; no need to look again."""
        self.backend.ensure_table()
        if self.history is not None and not history_read:
            self.history.ensure()


@contextmanager
def open_session(run: Run, *, lock: bool = True) -> Iterator[Session]:
    """The backend session of a run, holding the lock (dry runs: no lock).

    ``lock=False``: the caller takes it with ``Session.take_lock`` (after the
    pre-flight, so no file is parsed while the lock is held). Nothing is
    created here: a run writes (tables included) only once every check and
    the pre-flight have passed, through ``Session.ensure_tables``.
    """
    backend = backend_for(connection_for(run.using), settings.table)
    backend.wait_timeout = run.lock_timeout
    backend.open()
    session = Session(backend, history_table(backend), run.lock_timeout)
    try:
        if lock and not run.dry_run:
            session.take_lock()
        yield session
    finally:
        if session.locked:
            backend.unlock()


def history_table(backend: Backend) -> HistoryTable | None:
    name = settings.history_table
    if name is None:
        return None
    check_table_name(name, "SQLMIGRATE_HISTORY_TABLE")
    if name == settings.table:
        raise ConfigurationError(
            f"SQLMIGRATE_HISTORY_TABLE and SQLMIGRATE_TABLE both name {name!r}: the history "
            f"needs a table of its own"
        )
    qualified, label = backend.qualify(name)
    return HistoryTable(backend, name, qualified, label)


def connection_for(using: str) -> BaseDatabaseWrapper:
    if using not in connections.settings:
        known = ", ".join(sorted(connections.settings)) or "none"
        raise ConfigurationError(
            f"database alias {using!r} is not in DATABASES (known aliases: {known})"
        )
    return connections[using]
