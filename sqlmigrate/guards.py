"""What sqlmigrate checks that golang-migrate does not, from the history table.

- drift: an applied up file whose bytes changed since it ran;
- out of order: a never-applied file older than the database's version
  (golang-migrate skips it silently);
- ahead: the database is past every file because an older release is being
  deployed (golang-migrate fails the deploy with "no migration found").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC

from .exceptions import DriftError, OutOfOrderError
from .history import Entry, HistoryView, file_checksums
from .source import Migration, MigrationSource, display_path


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


def find_drift(source: MigrationSource, view: HistoryView, current: int | None) -> list[Drift]:
    found = []
    for migration in source:
        if current is None or migration.version > current or migration.up is None:
            continue
        entry = view.applied(migration.version)
        if entry is None or entry.checksum is None:
            continue
        data = migration.up.path.read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
        if sha256 != entry.checksum:
            # Only now is the (slower) token hash worth computing.
            content = file_checksums(migration.up.path).content
            cosmetic = content is not None and content == entry.content_checksum
            found.append(Drift(migration, entry, sha256, cosmetic))
    return found


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
