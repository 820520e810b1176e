from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from ... import engine
from ...conf import settings
from ...connect import wait_for_database
from ...engine import RunResult
from ...lint import lint_configured
from ..base import SQLMigrateCommand, count_argument


class Command(SQLMigrateCommand):
    migrates = True
    help = "Apply all pending SQL migrations, or the next N (like `migrate up [N]`)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("n", nargs="?", type=count_argument, help="apply only the next N")
        parser.add_argument(
            "--wait",
            type=float,
            metavar="SECONDS",
            help="first wait up to this long for the database to accept connections "
            "(a deploy that starts the database and the service together)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run = self.run_options(options)
        if options["wait"] is not None:
            say = self.stdout.write if options["verbosity"] >= 1 else None
            wait_for_database(run["using"], options["wait"], say=say)
        result = engine.up(options["n"], **run)
        self.report(result, options)
        if options["dry_run"] and settings.lint and options["verbosity"] >= 1:
            self._lint_plan(result)

    def _lint_plan(self, result: RunResult) -> None:
        """SQLMIGRATE_LINT: squawk's findings on the files that would run, under the plan.
        A preview: findings do not change the exit status (``sqlmigrate_validate --lint``
        is the gate)."""
        paths = [item.step.file.path for item in result.planned if item.step.file is not None]
        lint = lint_configured(paths)
        if lint.skipped or lint.error:
            self.stderr.write(f"warning: {lint.skipped or f'lint failed: {lint.error}'}")
        elif paths:
            for line in lint.lines():
                self.stdout.write(line)
