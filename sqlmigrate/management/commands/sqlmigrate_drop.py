from __future__ import annotations

from argparse import ArgumentParser
from collections import Counter
from typing import Any

from ... import engine
from ...exceptions import CommandArgumentError
from ..base import SQLMigrateCommand

QUESTION = "Are you sure you want to drop the entire database schema? [y/N]"


class Command(SQLMigrateCommand):
    help = (
        "Drop everything in the schema of the version table: tables, views, sequences, "
        "functions, types, domains (like `migrate drop`; on MySQL the database's, on SQLite "
        "the main database's). Asks first; --database is required."
    )
    reads_folder = False
    asks = True
    #: never the default alias by accident: the user names the database to empty
    database_required = True

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "-f",
            "--force",
            "-force",
            action="store_true",
            help="do not ask (like `migrate drop -f`); needed with --noinput",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["force"] and not self._confirmed(options["interactive"]):
            raise CommandArgumentError("Aborted dropping the entire database schema")
        dropped = engine.drop(**self._drop_options(options))
        if options["verbosity"] >= 2:
            for kind, name in dropped.objects:
                self.stdout.write(f"dropped {kind.lower()} {name}")
        if options["verbosity"] >= 1:
            self.success(_summary(dropped))

    def _drop_options(self, options: dict[str, Any]) -> dict[str, Any]:
        run = self.run_options(options)
        return {name: run[name] for name in ("using", "lock_timeout", "warn")}

    def _confirmed(self, interactive: bool) -> bool:
        if not interactive:
            raise CommandArgumentError(
                "drop with --noinput would empty the schema without asking: add --force to mean it"
            )
        return self.ask(QUESTION, "Dropping the entire database schema")


def _summary(dropped: engine.Dropped) -> str:
    if not dropped.objects:
        return f"nothing to drop in schema {dropped.schema}"
    counts = Counter(kind.lower() for kind, _ in dropped.objects)
    parts = ", ".join(f"{count} {kind}{'s' if count > 1 else ''}" for kind, count in counts.items())
    return f"dropped {parts} in schema {dropped.schema}"
