from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from ... import engine
from ..base import SQLMigrateCommand, version_argument


class Command(SQLMigrateCommand):
    migrates = True
    help = "Migrate up or down to version V (like `migrate goto V`)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("version", type=version_argument, help="the version to end at")

    def handle(self, *args: Any, **options: Any) -> None:
        result = engine.goto(options["version"], **self.run_options(options))
        self.report(result, options)
