from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from ...conf import settings
from ...exceptions import SQLMigrateError
from ...lint import LintReport
from ...validate import validate
from ..base import SQLMigrateCommand


class Command(SQLMigrateCommand):
    help = (
        "Check the migrations folder without a database: names, versions, pairs, and every "
        "file parsed by PostgreSQL's parser. With --database, also drift and out-of-order."
    )
    uses_database = False
    takes_lock = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--strict", action="store_true", help="a version without a down file is an error"
        )
        parser.add_argument(
            "--database",
            default=None,
            help="also check this alias's database for drift and out-of-order files",
        )
        parser.add_argument(
            "--lint",
            action="store_true",
            help="also lint the up files with squawk (SQLMIGRATE_LINT_EXCLUDE turns rules "
            "off); every finding is a problem",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = options["path"] or settings.migrations_dir
        report = validate(
            directory, strict=options["strict"], using=options["database"], lint=options["lint"]
        )
        for warning in report.warnings:
            self.warn(f"warning: {warning}")
        for error in report.errors:
            self.stderr.write(self.style.ERROR(f"error: {error}"), style_func=str)
        problems = len(report.errors) + (self._write_lint(report.lint) if report.lint else 0)
        if problems:
            # an SQLMigrateError: from the shell it prints as ``error: ...``, exit status 1
            raise SQLMigrateError(f"{problems} problem(s) in {directory}")
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"ok: {report.migrations} migrations, {report.files} files in {directory}"
            )

    def _write_lint(self, lint: LintReport) -> int:
        """Print the lint result; the number of problems it counts for."""
        if lint.skipped:
            self.stderr.write(f"warning: {lint.skipped}")
            return 0
        if lint.error:
            self.stderr.write(f"error: lint: {lint.error}")
            return 1
        for line in lint.lines():
            self.stdout.write(line)
        return len(lint.findings)
