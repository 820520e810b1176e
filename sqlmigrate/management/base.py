"""What every sqlmigrate_* command shares: options, and how errors are shown.

Errors print as ``error: <message>`` on stderr with exit status 1, the way
the Go CLI prints them, so deploy logs read the same after the switch.
Called through ``call_command`` they raise CommandError as usual.
"""

from __future__ import annotations

import contextlib
import re
import sys
from argparse import ArgumentParser, ArgumentTypeError
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from ..engine import RunResult
from ..exceptions import SQLMigrateError
from ..interrupt import INTERRUPTED, StopAfterCurrent
from ..process import frozen_heap
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
                for name in ("dry_run", "allow_drift", "allow_out_of_order", "strict")
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
        process_wide = from_argv and self.migrates
        try:
            with (
                self._stop if process_wide else contextlib.nullcontext(),
                frozen_heap() if process_wide else contextlib.nullcontext(),
            ):
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


def _bounded_int(text: str, low: int, what: str, expected: str) -> int:
    # ASCII digits only, as Go's strconv.ParseInt: Python's int() also takes
    # "1_0" and non-ASCII digits.
    value = int(text) if _INTEGER.fullmatch(text) else None
    if value is None or not low <= value <= MAX_VERSION:
        raise ArgumentTypeError(f"can't read {what}: {text!r} is not {expected}")
    return value
