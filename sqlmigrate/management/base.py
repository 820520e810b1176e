"""What every sqlmigrate_* command shares: options, and how errors are shown.

Errors print as ``error: <message>`` on stderr with exit status 1, the way
the Go CLI prints them, so deploy logs read the same after the switch; a
command line argparse refuses exits 2, as every Django command does.
Called through ``call_command`` they raise CommandError as usual. Colour goes
through ``self.style`` (SUCCESS, WARNING, ERROR), so ``--no-color`` and
``--force-color`` work as in Django's own commands.
"""

from __future__ import annotations

import contextlib
import math
import re
import sys
from argparse import ArgumentParser, ArgumentTypeError
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, SystemCheckError
from django.db import DEFAULT_DB_ALIAS

from .. import __version__
from ..engine import AppliedMigration, RunResult
from ..exceptions import SQLMigrateError
from ..interrupt import INTERRUPTED, StopAfterCurrent
from ..process import frozen_heap
from ..source import MAX_VERSION
from .live import LiveLine
from .output import format_plan, progress_printer, statement_printer


class SQLMigrateCommand(BaseCommand):
    """Each command declares what it does; it gets the options for that, no others."""

    #: talks to a database: --database
    uses_database = True
    #: --database has no default: the user must name the alias (drop)
    database_required = False
    #: takes the migration lock: --lock-timeout
    takes_lock = True
    #: reads the migrations folder: --path (golang-migrate's -path)
    reads_folder = True
    #: may ask a question: --noinput
    asks = False
    #: up, down and goto also get --dry-run and the guard switches
    migrates = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stop = StopAfterCurrent(self.stderr.write)
        self._live: LiveLine | None = None

    requires_system_checks: list[str] = []

    def get_version(self) -> str:
        """``--version``: sqlmigrate's version, not Django's."""
        return __version__

    def add_arguments(self, parser: ArgumentParser) -> None:
        if self.asks:
            parser.add_argument(
                "--noinput",
                "--no-input",
                action="store_false",
                dest="interactive",
                help="never ask a question",
            )
        if self.reads_folder:
            parser.add_argument(
                "--path",
                "-path",
                type=Path,
                help="migrations folder (default: SQLMIGRATE_DIR), like migrate -path",
            )
        if self.uses_database and self.database_required:
            parser.add_argument(
                "--database", required=True, help="database alias from DATABASES; no default"
            )
        elif self.uses_database:
            parser.add_argument(
                "--database",
                default=DEFAULT_DB_ALIAS,
                help='database alias from DATABASES (default: "default")',
            )
        if self.takes_lock:
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

    def ask(self, question: str, then: str | None = None) -> bool:
        """Ask ``question`` on stderr, as golang-migrate does: only ``y`` or ``Y`` is yes
        (then ``then`` is said); no answer (end of input) is no."""
        self.stderr.write(question)
        try:
            answer = input()
        except EOFError:
            return False
        if answer.strip().lower() != "y":
            return False
        if then:
            self.stderr.write(then)
        return True

    def run_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments every engine call takes, from the parsed options."""
        verbosity = int(options["verbosity"])
        live = self._live_line(verbosity)
        write = live.write if live is not None else self.stdout.write
        printer = progress_printer(write, verbosity, self.style.SUCCESS)

        def progress(applied: AppliedMigration) -> None:
            if live is not None:
                live.stop()
            printer(applied)

        return {
            "using": options.get("database") or DEFAULT_DB_ALIAS,
            "path": options.get("path"),
            "lock_timeout": options.get("lock_timeout"),
            "progress": progress,
            "starting": live.start if live is not None else None,
            "sending": statement_printer(write) if verbosity >= 3 else None,
            "warn": self.warn if verbosity >= 1 else None,
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

    def _live_line(self, verbosity: int) -> LiveLine | None:
        """The running file and its time, on a terminal only (see live.py)."""
        if verbosity < 1 or not self.stdout.isatty():
            return None
        self._live = LiveLine(self.stdout)
        return self._live

    def warn(self, text: str) -> None:
        # Styled before the newline is added, so the colour ends on the same line.
        self.stderr.write(self.style.WARNING(text), style_func=_plain)

    def success(self, text: str) -> None:
        self.stdout.write(self.style.SUCCESS(text), style_func=_plain)

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
        except CommandError as error:
            # Our own refusals (status --check, validate) print as every other error;
            # argparse's usage errors never get here (they exit 2 themselves).
            if not from_argv or options.get("traceback") or isinstance(error, SystemCheckError):
                raise
            self._exit_with(str(error), error.returncode)
        except KeyboardInterrupt:
            if not from_argv:
                raise
            self._exit_with(INTERRUPTED, 130)
        finally:
            if self._live is not None:
                self._live.stop()

    def _exit_with(self, message: str, returncode: int) -> NoReturn:
        self.stdout.flush()
        self.stderr.write(self.style.ERROR(f"error: {message}"), style_func=_plain)
        self.stderr.flush()
        sys.exit(returncode)


def _plain(text: str) -> str:
    return text


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
