from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from ... import engine
from ...exceptions import NoMigrationError
from ..base import SQLMigrateCommand


class Command(SQLMigrateCommand):
    help = "Print the database's migration version: N, or N (dirty) (like `migrate version`)."
    takes_lock = False
    reads_folder = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--lock-timeout",
            type=float,
            metavar="SECONDS",
            help="give up waiting for a version table another session has locked after this "
            "long (default: SQLMIGRATE_LOCK_TIMEOUT, 15)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        state = engine.version(using=options["database"], lock_timeout=options["lock_timeout"])
        if state.version is None:
            raise NoMigrationError()
        self.stdout.write(f"{state.version} (dirty)" if state.dirty else str(state.version))
