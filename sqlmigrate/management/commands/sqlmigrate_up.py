from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from ... import engine
from ...connect import wait_for_database
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
