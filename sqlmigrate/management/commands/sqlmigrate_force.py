from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from ... import engine
from ..base import SQLMigrateCommand, force_argument


class Command(SQLMigrateCommand):
    help = (
        "Set version V without running anything, ignoring dirty (like `migrate force V`). "
        "-1 means no version."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("version", type=force_argument, help="the version to record; -1: none")

    def handle(self, *args: Any, **options: Any) -> None:
        run = self.run_options(options)
        del run["progress"], run["starting"], run["sending"]
        state = engine.force(options["version"], **run)
        if options["verbosity"] >= 1:
            shown = "-1 (no version)" if state.version is None else f"{state.version} (clean)"
            table = engine.version_table(using=run["using"])
            self.success(f"version {shown} written to {table}")
