from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError

from ...conf import settings
from ...validate import validate
from ..base import SQLMigrateCommand


class Command(SQLMigrateCommand):
    help = (
        "Check the migrations folder without a database: names, versions, pairs, and every "
        "file parsed by PostgreSQL's parser. With --database, also drift and out-of-order."
    )
    uses_database = False
    takes_lock = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--strict", action="store_true", help="a version without a down file is an error"
        )
        parser.add_argument(
            "--database",
            default=None,
            help="also check this alias's database for drift and out-of-order files",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = options["path"] or settings.migrations_dir
        report = validate(directory, strict=options["strict"], using=options["database"])
        for warning in report.warnings:
            self.warn(f"warning: {warning}")
        for error in report.errors[:-1]:
            self.stderr.write(self.style.ERROR(f"error: {error}"), style_func=str)
        if not report.ok:
            # The last one goes out through CommandError, as every command's error does.
            raise CommandError(
                f"{report.errors[-1]}\n{len(report.errors)} problem(s) in {directory}"
            )
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"ok: {report.migrations} migrations, {report.files} files in {directory}"
            )
