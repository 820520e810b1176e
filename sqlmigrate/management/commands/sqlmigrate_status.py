from __future__ import annotations

import json
from argparse import ArgumentParser
from datetime import UTC
from typing import Any

from django.core.management.base import CommandError

from ...status import MigrationRow, Status, read_status
from ..base import SQLMigrateCommand
from ..output import format_duration


class Command(SQLMigrateCommand):
    help = (
        "Show every SQL migration and where the database stands, like showmigrations. "
        "Read-only: takes no lock and creates nothing."
    )
    takes_lock = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--check",
            action="store_true",
            help="exit 1 when anything is pending, dirty, drifted, out of order or missing",
        )
        parser.add_argument("--json", action="store_true", help="print JSON for tools")

    def handle(self, *args: Any, **options: Any) -> None:
        status = read_status(using=options["database"], path=options["path"])
        if options["json"]:
            self.stdout.write(json.dumps(status_json(status), indent=2))
        else:
            for line in status_lines(status):
                self.stdout.write(line)
        if status.database_error:
            raise CommandError("the database could not be read (see above)")
        if options["check"] and not status.ok:
            raise CommandError(f"--check: {_not_ok(status)}")


def _not_ok(status: Status) -> str:
    """What ``--check`` found, in the words of the listing above it."""
    found = [f"{status.pending} pending"] if status.pending else []
    if status.dirty:
        found.append("dirty")
    found += [f"{len(status.drifted)} drifted"] if status.drifted else []
    found += [f"{len(status.out_of_order)} out of order"] if status.out_of_order else []
    found += [f"{len(status.missing_files)} missing file(s)"] if status.missing_files else []
    found += [f"{len(status.unreadable)} unreadable"] if status.unreadable else []
    if status.source_error:
        found.append("the folder cannot be read")
    detail = ", ".join(found) or "not up to date"
    return f"{status.using} is not up to date ({detail})"


def status_lines(status: Status) -> list[str]:
    lines = [_header(status)]
    lines.extend(f"error: {e}" for e in (status.source_error, status.database_error) if e)
    width = max((len(row.name) for row in status.rows), default=0)
    lines.extend(_row_line(row, width) for row in status.rows)
    lines.append(
        f"{status.applied} applied, {status.pending} pending"
        + (f", {len(status.drifted)} drifted" if status.drifted else "")
        + (f", {len(status.out_of_order)} out of order" if status.out_of_order else "")
        + (f", {len(status.unreadable)} unreadable" if status.unreadable else "")
    )
    return lines


def _header(status: Status) -> str:
    if status.database_error:
        where = "an unknown version (the database could not be read)"
    elif status.version is None:
        where = "no version" if status.table_exists else "no version (table not created yet)"
    else:
        where = f"version {status.version}" + (" (dirty)" if status.dirty else "")
    return f"{status.using}: {status.table} at {where}; files in {status.directory}"


MARKS = {"applied": "[X]", "current": "[X]", "dirty": "[!]", "pending": "[ ]"}


def _row_line(row: MigrationRow, width: int) -> str:
    mark = MARKS.get(row.state, "[?]")
    return f"{mark} {row.name:<{width}}  {'  '.join(_notes(row))}".rstrip()


def _notes(row: MigrationRow) -> list[str]:
    notes = []
    if row.history is not None and not row.history.outside:
        notes.append(f"{row.history.started_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
        if row.history.duration_ms is not None:
            notes.append(format_duration(row.history.duration_ms / 1000))
    if row.state == "current":
        notes.append("(current)")
    if row.state == "dirty":
        notes.append("DIRTY: failed part-way; see sqlmigrate_force")
    if row.state == "missing file":
        notes.append("in the database, but no file has this version")
    if row.adopted:
        notes.append("adopted (backfill)")
    elif row.outside:
        notes.append("applied outside sqlmigrate")
    if row.unreadable is not None:
        notes.append(f"UNREADABLE ({row.unreadable}): drift not checked, sqlmigrate_up refuses")
    if row.drift is not None:
        what = "whitespace/comments" if row.drift.cosmetic else "SQL"
        notes.append(f"DRIFT: file changed since it was applied ({what})")
    if row.out_of_order:
        notes.append("OUT OF ORDER: older than the version, never applied")
    return notes


def status_json(status: Status) -> dict[str, Any]:
    return {
        "database": status.using,
        "table": status.table,
        "directory": str(status.directory),
        "version": status.version,
        "dirty": status.dirty,
        "ok": status.ok,
        "applied": status.applied,
        "pending": status.pending,
        "errors": [e for e in (status.source_error, status.database_error) if e],
        "migrations": [_row_json(row) for row in status.rows],
    }


def _row_json(row: MigrationRow) -> dict[str, Any]:
    history = row.history
    return {
        "version": row.version,
        "name": row.name,
        "state": row.state,
        "has_down": row.has_down,
        "applied_at": history.started_at.isoformat() if history else None,
        "duration_ms": history.duration_ms if history else None,
        "applied_outside_sqlmigrate": row.outside,
        "adopted": row.adopted,
        "drift": row.drift is not None,
        "drift_cosmetic": row.drift.cosmetic if row.drift else None,
        "out_of_order": row.out_of_order,
        "unreadable": row.unreadable,
    }
