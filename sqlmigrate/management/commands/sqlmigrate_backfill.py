from __future__ import annotations

from typing import Any

from ... import engine
from ...status import read_status
from ..base import SQLMigrateCommand


class Command(SQLMigrateCommand):
    help = (
        "Adopt an existing database: record the current files' checksums in the history "
        "table for every applied version it does not know yet, so drift is caught from now on."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = self.run_options(options)
        del run["progress"], run["starting"], run["sending"]
        before = adopted(options)
        count = engine.backfill(**run)
        if options["verbosity"] < 1:
            return
        if count == 0:
            self.stdout.write("recorded 0 applied migration(s): history already knows them all")
            return
        self.stdout.write(
            f"recorded {count} applied migration(s) in the history table, adopted with the "
            f"checksums their files have now:"
        )
        for key, name in adopted(options).items():
            if key not in before:
                self.stdout.write(f"  {name}")


def adopted(options: dict[str, Any]) -> dict[int, str]:
    """Per history row id, the up file of each version adopted by a backfill, in order."""
    status = read_status(using=options["database"], path=options["path"])
    return {
        row.history.id: row.up.name if row.up else str(row.version)
        for row in status.rows
        if row.adopted and row.history is not None
    }
