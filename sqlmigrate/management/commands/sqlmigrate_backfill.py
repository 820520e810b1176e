from __future__ import annotations

from typing import Any

from ... import engine
from ..base import SQLMigrateCommand


class Command(SQLMigrateCommand):
    help = (
        "Adopt an existing database: record the current files' checksums in the history "
        "table for every applied version it does not know yet, so drift is caught from now on."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = self.run_options(options)
        del run["progress"], run["starting"], run["sending"]
        count = engine.backfill(**run)
        if options["verbosity"] >= 1:
            self.stdout.write(f"recorded {count} applied migration(s) in the history table")
