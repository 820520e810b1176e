from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from ... import engine
from ...exceptions import CommandArgumentError
from ..base import SQLMigrateCommand, count_argument

QUESTION = "Are you sure you want to apply all down migrations? [y/N]"


class Command(SQLMigrateCommand):
    migrates = True
    asks = True
    help = (
        "Roll back the last N SQL migrations, or all of them with --all "
        "(like `migrate down [N] [-all]`). Without N or --all it asks first."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("n", nargs="?", type=count_argument, help="roll back the last N")
        parser.add_argument(
            "--all", "-all", action="store_true", help="roll back every migration (like -all)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        steps = options["n"]
        if options["all"] and steps is not None:
            raise CommandArgumentError("-all cannot be used with other arguments")
        if steps is None and not options["all"] and not self._confirmed(options["interactive"]):
            raise CommandArgumentError("Not applying all down migrations")
        result = engine.down(steps, **self.run_options(options))
        self.report(result, options)

    def _confirmed(self, interactive: bool) -> bool:
        if not interactive:
            raise CommandArgumentError(
                "down without N would roll back every migration: pass N, or --all to mean it"
            )
        return self.ask(QUESTION, "Applying all down migrations")
