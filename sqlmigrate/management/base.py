"""What every sqlmigrate_* command shares: options, and how errors are shown.

Errors print as ``error: <message>`` on stderr with exit status 1, the way
the Go CLI prints them, so deploy logs read the same after the switch.
Called through ``call_command`` they raise CommandError as usual.
"""

from __future__ import annotations

import contextlib
import math
import re
import signal
import sys
import threading
from argparse import ArgumentParser, ArgumentTypeError
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from ..engine import RunResult
from ..exceptions import SQLMigrateError
from ..source import MAX_VERSION
from .output import format_plan, progress_printer


class SQLMigrateCommand(BaseCommand):
    #: commands that talk to the database get --database and --lock-timeout
    uses_database = True
    #: up, down and goto also get --dry-run and the guard switches
    migrates = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stop = StopAfterCurrent(self.stderr.write)

    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="never ask a question (sqlmigrate_down without N then needs --all)",
        )
        parser.add_argument(
            "--path",
            type=Path,
            help="migrations folder (default: SQLMIGRATE_DIR), like migrate -path",
        )
        if self.uses_database:
            parser.add_argument(
                "--database",
                default=DEFAULT_DB_ALIAS,
                help='database alias from DATABASES (default: "default")',
            )
            parser.add_argument(
                "--lock-timeout",
                type=float,
                metavar="SECONDS",
                help="give up waiting for the migration lock after this long "
                "(default: SQLMIGRATE_LOCK_TIMEOUT, 15)",
            )
        if self.migrates:
            self._add_guard_arguments(parser)

    def _add_guard_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="print what would run, and how, after checking every file; change nothing",
        )
        parser.add_argument(
            "--allow-drift",
            action="store_true",
            default=None,
            help="run even if an applied file changed since it ran (SQLMIGRATE_ALLOW_DRIFT)",
        )
        parser.add_argument(
            "--allow-out-of-order",
            action="store_true",
            default=None,
            help="apply never-applied files older than the current version, without moving "
            "the version back (SQLMIGRATE_ALLOW_OUT_OF_ORDER)",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            default=None,
            help="a database ahead of the files is an error, as in golang-migrate "
            "(SQLMIGRATE_STRICT)",
        )
        parser.add_argument(
            "--ddl-lock-timeout",
            type=seconds_argument,
            metavar="SECONDS",
            help="how long a migration's statement may wait for a table lock (lock_timeout) "
            "before the migration is rolled back and retried; 0: no limit "
            "(default: SQLMIGRATE_DDL_LOCK_TIMEOUT, 5)",
        )
        parser.add_argument(
            "--retries",
            type=retries_argument,
            metavar="N",
            help="times a migration that timed out waiting for a lock is tried again "
            "(default: SQLMIGRATE_DDL_RETRIES, 3)",
        )

    def run_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments every engine call takes, from the parsed options."""
        verbosity = int(options["verbosity"])
        return {
            "using": options["database"],
            "path": options["path"],
            "lock_timeout": options["lock_timeout"],
            "progress": progress_printer(self.stdout.write, verbosity),
            "warn": self.stderr.write if verbosity >= 1 else None,
            "should_stop": lambda: self._stop.requested,
            **{
                name: options[name]
                for name in (
                    "dry_run",
                    "allow_drift",
                    "allow_out_of_order",
                    "strict",
                    "ddl_lock_timeout",
                    "retries",
                )
                if name in options
            },
        }

    def report(self, result: RunResult, options: dict[str, Any]) -> None:
        if options["verbosity"] < 1:
            return
        if result.notice:
            self.stdout.write(result.notice)
        elif options.get("dry_run"):
            for line in format_plan(result.planned):
                self.stdout.write(line)
        elif not result.changed:
            self.stdout.write("no change")

    def run_from_argv(self, argv: list[str]) -> None:
        self._from_argv = True
        super().run_from_argv(argv)

    def execute(self, *args: Any, **options: Any) -> str | None:
        from_argv = getattr(self, "_from_argv", False)
        try:
            with self._stop if from_argv and self.migrates else contextlib.nullcontext():
                return super().execute(*args, **options)
        except SQLMigrateError as error:
            if from_argv and not options.get("traceback"):
                self._exit_with(str(error), 1)
            raise CommandError(str(error), returncode=1) from error
        except KeyboardInterrupt:
            if not from_argv:
                raise
            self._exit_with(INTERRUPTED, 130)

    def _exit_with(self, message: str, returncode: int) -> NoReturn:
        self.stdout.flush()
        sys.stderr.write(f"error: {message}\n")
        sys.stderr.flush()
        sys.exit(returncode)


_INTEGER = re.compile(r"-?[0-9]+")


def count_argument(text: str) -> int:
    """N for up/down: a whole number of steps, 0 or more."""
    return _bounded_int(text, 0, "limit argument N", "a count of migrations, 0 or more")


def version_argument(text: str) -> int:
    """V for goto: a version number."""
    return _bounded_int(text, 0, "version argument V", "a version number, 0 or more")


def force_argument(text: str) -> int:
    """V for force: a version number, or -1 for no version."""
    return _bounded_int(text, -1, "version argument V", "a version number, or -1 for none")


def seconds_argument(text: str) -> float:
    """--ddl-lock-timeout: seconds, 0 or more (0: no limit)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (math.isfinite(value) and value >= 0):
        raise ArgumentTypeError(f"{text!r} is not a number of seconds, 0 or more")
    return value


def retries_argument(text: str) -> int:
    """--retries: a whole number of retries, 0 or more."""
    return _bounded_int(text, 0, "--retries", "a whole number of retries, 0 or more")


def _bounded_int(text: str, low: int, what: str, expected: str) -> int:
    # ASCII digits only, as Go's strconv.ParseInt: Python's int() also takes
    # "1_0" and non-ASCII digits.
    value = int(text) if _INTEGER.fullmatch(text) else None
    if value is None or not low <= value <= MAX_VERSION:
        raise ArgumentTypeError(f"can't read {what}: {text!r} is not {expected}")
    return value


INTERRUPTED = (
    "interrupted: the running migration was cancelled. Run `python manage.py "
    "sqlmigrate_version` to see where the database is: an atomic migration left nothing, "
    "one under the dirty-flag protocol is marked dirty (then see sqlmigrate_force)"
)


class StopAfterCurrent:
    """Ctrl-C as golang-migrate's CLI takes it: finish the running migration, run no
    more, exit 0. A second Ctrl-C cancels the running one."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> StopAfterCurrent:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.write("Stopping after this running migration ...")
