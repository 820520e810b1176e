from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from ... import engine
from ..base import SQLMigrateCommand, count_argument


class Command(SQLMigrateCommand):
    migrates = True
    help = "Apply all pending SQL migrations, or the next N (like `migrate up [N]`)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("n", nargs="?", type=count_argument, help="apply only the next N")

    def handle(self, *args: Any, **options: Any) -> None:
        result = engine.up(options["n"], **self.run_options(options))
        self.report(result, options)
