from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from ... import lock_admin
from ...exceptions import CommandArgumentError
from ..base import SQLMigrateCommand

QUESTION = (
    "Remove the lock row? Only if no migration is running: a runner that crashed leaves "
    "its row, a running one still needs it. [y/N]"
)


class Command(SQLMigrateCommand):
    help = (
        'Show who holds the migration lock; with SQLMIGRATE_LOCK_STRATEGY = "table", remove '
        "the lock row a crashed runner left (asks first)."
    )
    takes_lock = False
    reads_folder = False
    asks = True

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--yes", action="store_true", help="remove the lock row without asking")

    def handle(self, *args: Any, **options: Any) -> None:
        using = options["database"]
        report = lock_admin.lock_report(using=using)
        for line in report.lines():
            self.stdout.write(line)
        if not report.rows:
            return
        if not options["yes"] and not self._confirmed(options["interactive"]):
            raise CommandArgumentError("Not removing the lock row")
        removed = lock_admin.clear_lock(using=using)
        self.stdout.write(f"removed {removed} lock row(s) from {report.where}")

    def _confirmed(self, interactive: bool) -> bool:
        if not interactive:
            raise CommandArgumentError(
                "sqlmigrate_unlock would remove the lock row: run it without --noinput to be "
                "asked, or pass --yes to mean it"
            )
        return self.ask(QUESTION)
