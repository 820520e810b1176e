from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from ...conf import settings
from ...create import DEFAULT_DIGITS, DEFAULT_TIME_FORMAT, create_migration
from ...exceptions import ConfigurationError
from ...source import display_path
from ..base import SQLMigrateCommand


class Command(SQLMigrateCommand):
    help = (
        "Create empty VERSION_NAME.up.sql and VERSION_NAME.down.sql files, versioned by "
        "time or by sequence (like `migrate create`). Prints both paths, up first. "
        "golang-migrate's spellings work too: -ext sql -dir DIR -seq -digits N."
    )
    uses_database = False
    takes_lock = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("name", help="what the migration does, e.g. add_users_table")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--seq",
            "-seq",
            action="store_const",
            const=True,
            help="version by sequence: the highest existing version + 1 "
            "(default: follow the folder; timestamps when it has no migrations)",
        )
        mode.add_argument(
            "--timestamp",
            dest="seq",
            action="store_const",
            const=False,
            help="version by the current time (see --format and --tz)",
        )
        parser.add_argument(
            "--digits",
            "-digits",
            type=int,
            metavar="N",
            help="zero-pad sequence numbers to N digits; implies --seq "
            f"(default: as wide as the newest file's version, else {DEFAULT_DIGITS})",
        )
        parser.add_argument(
            "--ext",
            "-ext",
            default="sql",
            help='file extension, with or without the dot (default: "sql")',
        )
        parser.add_argument(
            "--dir",
            "-dir",
            dest="directory",
            type=Path,
            metavar="DIR",
            help="folder to create the files in, created if missing; wins over --path "
            "(default: SQLMIGRATE_DIR)",
        )
        parser.add_argument(
            "--format",
            "-format",
            dest="time_format",
            default=DEFAULT_TIME_FORMAT,
            metavar="LAYOUT",
            help="Go time layout for timestamp versions, or unix / unixNano; implies "
            f"--timestamp when changed (default: {DEFAULT_TIME_FORMAT})",
        )
        parser.add_argument(
            "--tz",
            "-tz",
            default="UTC",
            help='IANA time zone for timestamp versions, or "Local" (default: UTC)',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = options["directory"] or options["path"] or _configured_folder()
        created = create_migration(
            directory,
            options["name"],
            seq=options["seq"],
            digits=options["digits"],
            ext=options["ext"],
            time_format=options["time_format"],
            tz=options["tz"],
        )
        self.stdout.write(display_path(created.up))
        self.stdout.write(display_path(created.down))


def _configured_folder() -> Path:
    """SQLMIGRATE_DIR; never a folder guessed on the user's behalf and made by surprise."""
    if not settings.migrations_dir_configured:
        raise ConfigurationError(
            "SQLMIGRATE_DIR is not set, so there is no migrations folder to create the files "
            'in. Set it in your settings (e.g. SQLMIGRATE_DIR = BASE_DIR / "db" / '
            '"migrations"), or pass --dir DIR'
        )
    return settings.migrations_dir
