"""``python -m sqlmigrate``: a drop-in for golang-migrate's ``migrate`` binary.

    python -m sqlmigrate -path infra/migrations -database "$DATABASE_URL" up

Same flags (Go's single-dash syntax), commands, output (all on stderr,
``1/u create_users_table (7.889692ms)``), messages and exit codes (0 done or
``no change``, 1 error, 2 bad usage) as the Go CLI, so a Makefile or deploy
line written for ``migrate`` works with ``python -m sqlmigrate`` in its place.
Django is configured from the URL alone (no project settings are imported),
then the same ``sqlmigrate.engine`` functions as the management commands run.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

from ..goflag import Flag, FlagSet, UsageExit
from .text import MAIN_USAGE, rerun_prefix

if TYPE_CHECKING:
    from ..interrupt import StopAfterCurrent
    from ..runner import AppliedMigration

MAIN_FLAGS = [
    Flag("help", "bool", False),
    Flag("version", "bool", False),
    Flag("verbose", "bool", False),
    Flag("prefetch", "uint", 10),  # accepted for compatibility: files are read as needed
    Flag("lock-timeout", "uint", 15),
    Flag("path", "string", ""),
    Flag("database", "string", ""),
    Flag("source", "string", ""),
]


class Fatal(Exception):
    """Stop with ``text`` on stderr (the Go CLI's ``log.fatal``): exit 1 unless told."""

    def __init__(self, text: str, code: int = 1) -> None:
        super().__init__(text)
        self.text = text
        self.code = code


@dataclass
class Cli:
    """One command line: its global flags, and how it prints."""

    source: str
    database: str
    lock_timeout: int
    verbose: bool
    #: how this command line starts, for the fix commands in messages
    rerun: str
    started: float = field(default_factory=time.monotonic)
    stop: StopAfterCurrent | None = None

    def say(self, line: str) -> None:
        if self.verbose:  # Go's log.Println: local date and time first
            line = time.strftime("%Y/%m/%d %H:%M:%S ") + line
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def directory(self) -> Path:
        """The migrations folder of ``-source file://...`` / ``-path``, as the Go CLI
        opens it; Fatal with the Go CLI's message when it cannot."""
        source = self.source
        if not source:
            raise Fatal("error: failed to parse scheme from source URL: URL cannot be empty")
        scheme, colon, _ = source.partition(":")
        if not colon or not scheme:
            raise Fatal("error: failed to parse scheme from source URL: no scheme")
        if scheme != "file":
            raise Fatal(
                f'error: failed to open source, "{source}": source driver: unknown driver '
                f"'{scheme}' (forgotten import?)\npython -m sqlmigrate reads file:// sources only"
            )
        parts = urlsplit(source)
        folder = Path(os.path.abspath(parts.netloc + parts.path or "."))
        if not folder.is_dir():
            why = "no such file or directory" if not folder.exists() else "not a directory"
            raise Fatal(f'error: failed to open source, "{source}": open .: {why}')
        return folder

    def open(self) -> Path:
        """The Go CLI's ``migrate.New``: the source, then the database (connected)."""
        folder = self.configure()
        connect()
        return folder

    def configure(self) -> Path:
        """The source, and Django set up for the database URL, not yet connected."""
        from .dbconfig import configure, scheme_error

        folder = self.directory()
        problem = scheme_error(self.database)
        if problem:
            raise Fatal(f"error: {problem}")
        configure(self.database, folder, float(self.lock_timeout))
        return folder

    def run_options(self, folder: Path) -> dict[str, Any]:
        """The engine's keyword arguments for a run on ``folder``."""
        from .text import rewrite_hints

        return {
            "path": folder,
            "lock_timeout": float(self.lock_timeout),
            "progress": self.print_applied,
            "warn": lambda text: self.say(rewrite_hints(text, self.rerun)),
            "should_stop": (lambda: self.stop is not None and self.stop.requested),
        }

    def print_applied(self, applied: AppliedMigration) -> None:
        from ..source import parse_name
        from .text import go_duration

        parsed = parse_name(applied.label) if applied.had_file else None
        identifier = parsed[1] if parsed else "<empty>"
        letter = "u" if applied.direction == "up" else "d"
        self.say(f"{applied.version}/{letter} {identifier} ({go_duration(applied.duration)})")


def connect() -> None:
    from django.db import connection

    from ..exceptions import SQLMigrateError
    from .text import redact_url

    try:
        connection.ensure_connection()
    except Exception as error:
        text = _driver_error(error)
        password = connection.settings_dict.get("PASSWORD")
        if password:
            text = text.replace(str(password), "***")
        raise SQLMigrateError(f"failed to open database: {redact_url(text)}") from None


def _driver_error(error: Exception) -> str:
    """The driver's message; a MySQL one as go-sql-driver words it, ``Error 1049: ...``."""
    args: tuple[object, ...] = tuple(getattr(error, "args", ()))
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
        return f"Error {args[0]}: {args[1]}"
    return str(error).strip()


def main(argv: list[str] | None = None) -> int:
    """Run one command line; the exit status."""
    args = sys.argv[1:] if argv is None else argv
    try:
        _main(args)
    except UsageExit as stop:
        sys.stderr.write(stop.text)
        return stop.code
    except Fatal as stop:
        sys.stderr.write(stop.text + "\n")
        return stop.code
    return 0


def _main(args: list[str]) -> None:
    flags = FlagSet("migrate", MAIN_FLAGS, usage=lambda: MAIN_USAGE)
    values, rest = flags.parse(args)
    if values["version"]:
        from .. import __version__

        raise Fatal(__version__, 0)
    if values["help"]:
        raise UsageExit(MAIN_USAGE, 0)
    source, path = str(values["source"]), str(values["path"])
    if not source and path:
        source = f"file://{path}"
    where = ["-path", path] if path and not values["source"] else ["-source", source]
    cli = Cli(
        source=source,
        database=str(values["database"]),
        lock_timeout=int(values["lock-timeout"]),
        verbose=bool(values["verbose"]),
        rerun=rerun_prefix(where, str(values["database"])),
    )
    from .commands import COMMANDS, TIMED

    if not rest or rest[0] not in COMMANDS:
        raise UsageExit(MAIN_USAGE, 2)
    _run(cli, rest[0], rest[1:])
    if cli.verbose and rest[0] in TIMED:
        from .text import go_duration

        cli.say(f"Finished after {go_duration(time.monotonic() - cli.started)}")


def _run(cli: Cli, command: str, args: list[str]) -> None:
    """One command; sqlmigrate's errors worded as the Go CLI's (``error: ...``, exit 1)."""
    from ..exceptions import SQLMigrateError
    from ..interrupt import INTERRUPTED
    from ..process import frozen_heap
    from .commands import COMMANDS
    from .text import go_error, rewrite_hints

    try:
        with frozen_heap():
            COMMANDS[command](cli, args)
    except SQLMigrateError as error:
        raise Fatal(f"error: {go_error(str(error), cli.rerun)}") from None
    except KeyboardInterrupt:
        raise Fatal(f"error: {rewrite_hints(INTERRUPTED, cli.rerun)}", 130) from None


def fatal(text: str) -> NoReturn:
    """Stop with ``text`` as it is (the Go CLI's ``log.fatal``), exit 1."""
    raise Fatal(text)
