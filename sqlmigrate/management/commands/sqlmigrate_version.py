from __future__ import annotations

from typing import Any

from ... import engine
from ...exceptions import NoMigrationError
from ..base import SQLMigrateCommand


class Command(SQLMigrateCommand):
    help = "Print the database's migration version: N, or N (dirty) (like `migrate version`)."
    takes_lock = False
    reads_folder = False

    def handle(self, *args: Any, **options: Any) -> None:
        state = engine.version(using=options["database"], lock_timeout=options["lock_timeout"])
        if state.version is None:
            raise NoMigrationError()
        self.stdout.write(f"{state.version} (dirty)" if state.dirty else str(state.version))
