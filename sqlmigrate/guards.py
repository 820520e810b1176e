"""What sqlmigrate checks that golang-migrate does not, from the history table.

- drift: an applied up file whose bytes changed since it ran;
- out of order: a never-applied file older than the database's version
  (golang-migrate skips it silently);
- ahead: the database is past every file because an older release is being
  deployed (golang-migrate fails the deploy with "no migration found").
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC

from .exceptions import DriftError, FileReadError, OutOfOrderError
from .history import Checksums, Entry, HistoryView, data_checksums, file_checksums
from .source import Migration, MigrationFile, MigrationSource, display_path, read_bytes


@dataclass(frozen=True, slots=True)
class Drift:
    migration: Migration
    entry: Entry
    sha256_now: str
    cosmetic: bool

    def describe(self) -> str:
        up = self.migration.up
        assert up is not None
        who = "outside sqlmigrate (first seen)" if self.entry.outside else "by sqlmigrate"
        kind = (
            "Only whitespace or comments changed, but the bytes differ."
            if self.cosmetic
            else "The SQL itself changed."
        )
        return (
            f"drift: {display_path(up.path)} changed after it was applied (applied "
            f"{self.entry.started_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC {who}; recorded sha256 "
            f"{self.entry.checksum}, file now {self.sha256_now}). {kind}"
        )


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An applied up file that history has a checksum for, but that cannot be read now."""

    migration: Migration
    error: FileReadError


@dataclass(frozen=True, slots=True)
class AppliedCheck:
    """What comparing the applied up files with their recorded checksums found."""

    drifts: list[Drift]
    unreadable: list[Unreadable]


def check_applied(source: MigrationSource, view: HistoryView, current: int | None) -> AppliedCheck:
    """Every applied up file with a recorded checksum, read and compared; never raises
    for a file that cannot be read (the status page and checks report it instead)."""
    drifts, unreadable = [], []
    for migration in source:
        if current is None or migration.version > current or migration.up is None:
            continue
        entry = view.applied(migration.version)
        if entry is None or entry.checksum is None:
            continue
        try:
            data = read_bytes(migration.up)
        except FileReadError as error:
            unreadable.append(Unreadable(migration, error))
            continue
        sha256 = hashlib.sha256(data).hexdigest()
        if sha256 != entry.checksum:
            # Only now is the (slower) token hash worth computing.
            content = data_checksums(data).content
            cosmetic = content is not None and content == entry.content_checksum
            drifts.append(Drift(migration, entry, sha256, cosmetic))
    return AppliedCheck(drifts, unreadable)


def find_drift(source: MigrationSource, view: HistoryView, current: int | None) -> list[Drift]:
    """The drifted files; FileReadError (with the state and the fix) when one cannot be read:
    a run must not go ahead on files it cannot check."""
    checked = check_applied(source, view, current)
    if checked.unreadable:
        first, *others = (item.error for item in checked.unreadable)
        raise unreadable_error(first, current, others)
    return checked.drifts


def applied_file_checksums(file: MigrationFile, current: int | None) -> Checksums:
    """The checksums of an applied file, for the history row that records it; a file
    that cannot be read stops the run (with the state and the fix) before it writes."""
    try:
        return file_checksums(file)
    except FileReadError as error:
        raise unreadable_error(error, current) from None


def unreadable_error(
    error: FileReadError, current: int | None, others: Sequence[FileReadError] = ()
) -> FileReadError:
    where = "no version" if current is None else f"version {current}"
    lines = [f"{other.location}: {other.reason}" for other in others]
    lines.append(
        f"Nothing was changed: the database is still at {where}. sqlmigrate compares every "
        f"applied up file with the checksum it recorded before it runs or records anything. "
        f"Make the file readable again (restore it from version control, e.g. git checkout "
        f"-- {error.path}), then run the command again."
    )
    return error.explained("\n".join(lines))


def drift_error(drifts: list[Drift]) -> DriftError:
    lines = [drift.describe() for drift in drifts]
    lines.append(
        "Applied migrations must not be edited: restore the file(s) and put the change in a "
        "new migration (python manage.py sqlmigrate_create NAME). To run anyway, pass "
        "--allow-drift or set SQLMIGRATE_ALLOW_DRIFT = True."
    )
    return DriftError("\n".join(lines), drifts)


def find_out_of_order(
    source: MigrationSource, view: HistoryView, current: int | None
) -> list[Migration]:
    """Files below the version that history says never ran, although it was watching."""
    earliest = view.earliest()
    if current is None or not view.exists or earliest is None:
        return []
    return [
        migration
        for migration in source
        if earliest < migration.version < current
        and migration.up is not None
        and not view.knows(migration.version)
    ]


def out_of_order_error(late: list[Migration], current: int) -> OutOfOrderError:
    lines = []
    for migration in late:
        assert migration.up is not None
        lines.append(
            f"out of order: {display_path(migration.up.path)} (version {migration.version}) "
            f"was never applied, but the database is already at version {current}; "
            f"golang-migrate would skip it silently."
        )
    lines.append(
        f"Either renumber it to come after {current} (rename its up and down files), or "
        f"apply it where it is with --allow-out-of-order, which runs it without moving the "
        f"version back."
    )
    return OutOfOrderError("\n".join(lines), [m.version for m in late])


def is_ahead(source: MigrationSource, view: HistoryView, current: int | None) -> bool:
    """The database is past the last file, at a version history saw applied normally."""
    last = source.last()
    if current is None or current in source or (last is not None and current < last.version):
        return False
    return view.is_applied(current)


def ahead_notice(source: MigrationSource, current: int) -> str:
    last = source.last()
    ends = f"files end at {last.version}" if last else "there are no files"
    return f"database is ahead of these files (at {current}, {ends}): nothing to do"
