"""Every failure sqlmigrate reports, each carrying the data that explains it.

Messages follow one rule: what happened, where (FILE:LINE:COL when there is a
place), the state the database is in now, and the command that fixes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class SQLMigrateError(Exception):
    """Base class; ``str(error)`` is the full message shown to the user."""


class SourceError(SQLMigrateError):
    """The migrations folder cannot be read."""


class DuplicateMigrationError(SourceError):
    def __init__(self, first: Path, second: Path) -> None:
        self.first = first
        self.second = second
        super().__init__(
            f"duplicate migration file: {second.name} (same version and direction as "
            f"{first.name}, in {second.parent}); rename one of them to a new version"
        )


class FileReadError(SourceError):
    """A migration file is listed but cannot be read (or, where text is needed, decoded).

    ``path`` is the file as shown to the user, ``reason`` what went wrong
    ("cannot read: Permission denied"), ``location`` the path with line and
    column when there is one; ``advice`` (what state the database is in, what
    to do) is added by whoever knows it, with ``explained``.
    """

    def __init__(
        self, path: str, reason: str, *, location: str | None = None, advice: str | None = None
    ) -> None:
        self.path = path
        self.reason = reason
        self.location = location or path
        self.advice = advice
        text = f"{self.location}: {reason}"
        super().__init__(f"{text}\n{advice}" if advice else text)

    def explained(self, advice: str) -> FileReadError:
        """The same failure with ``advice`` after it."""
        return FileReadError(self.path, self.reason, location=self.location, advice=advice)


class SqlParseError(SQLMigrateError):
    """A pending file was rejected before anything ran."""

    def __init__(self, location: str, message: str) -> None:
        self.location = location
        self.reason = message
        super().__init__(f"{location}: {message}")


class ConfigurationError(SQLMigrateError):
    """A setting or an option has a value sqlmigrate cannot use."""


class CommandArgumentError(SQLMigrateError):
    """A bad argument given to a command or an API call."""


class DirtyError(SQLMigrateError):
    def __init__(self, version: int | None, fix: str, note: str | None = None) -> None:
        self.version = version
        shown = -1 if version is None else version
        super().__init__(
            f"Dirty database version {shown}. Fix and force version.\n"
            f"A migration failed part-way. Check the database by hand, undo or finish what "
            f"the failed file did, then mark the version you left it at: {fix}"
            + (f"\n{note}" if note else "")
        )


class NoMigrationError(SQLMigrateError):
    """The database has no version (``migrate version``: ``error: no migration``)."""

    def __init__(self) -> None:
        super().__init__("no migration")


class VersionNotFoundError(SQLMigrateError):
    def __init__(self, version: int, directory: Path, *, in_database: bool) -> None:
        self.version = version
        where = "the database is at this version but " if in_database else ""
        super().__init__(
            f"no migration found for version {version}: {where}{directory} has no "
            f"{version}_*.up.* or {version}_*.down.* file"
        )


class FileNotExistError(SQLMigrateError):
    """golang-migrate's ``file does not exist``: no migration to take a step to."""


class ShortLimitError(SQLMigrateError):
    def __init__(self, short: int, applied: int) -> None:
        self.short = short
        self.applied = applied
        super().__init__(
            f"limit {short} short: applied {applied} migration(s), then ran out of files"
        )


class LockTimeoutError(SQLMigrateError):
    pass


class LockLostError(SQLMigrateError):
    pass


class MigrationFailedError(SQLMigrateError):
    """A migration file failed while running; carries where and what state is left."""

    def __init__(
        self,
        *,
        location: str,
        message: str,
        sqlstate: str | None,
        state: str,
        fix: str | None,
        statement: str | None = None,
        nothing_ran: bool = False,
    ) -> None:
        self.location = location
        #: the text of the file's statement that failed (None: sqlmigrate's own SQL did)
        self.statement = statement
        #: True when nothing of the file stayed: it can be tried again as it is
        self.nothing_ran = nothing_ran
        self.reason = message
        self.sqlstate = sqlstate
        self.state = state
        self.fix = fix
        code = f" ({sqlstate})" if sqlstate else ""
        text = f"{location}: {message}{code}\n{state}"
        if fix:
            text += f"\n{fix}"
        super().__init__(text)


class CreateError(SQLMigrateError):
    """A new migration pair cannot be made; nothing was created."""


class DriftError(SQLMigrateError):
    """Applied up files changed since they ran (from the history table)."""

    def __init__(self, message: str, drifts: Sequence[object]) -> None:
        self.drifts = drifts
        super().__init__(message)


class OutOfOrderError(SQLMigrateError):
    """Never-applied files older than the database's version."""

    def __init__(self, message: str, versions: list[int]) -> None:
        self.versions = versions
        super().__init__(message)
