"""sqlmigrate's side table: one row per migration run, with the file's checksum.

golang-migrate keeps one row, the current version; the Go CLI knows nothing
of this table and keeps working beside it. Rows say what ran, when, for how
long, by whom, and the sha256 of the file's bytes, so that sqlmigrate can
refuse edited applied files (drift) and older files merged late (out of
order). When the version moved without sqlmigrate (the CLI ran), the next
run records what it observed, so gaps are explained rather than guessed.

Outcomes: ``applied`` (ran here), ``running`` (a dirty-protocol file that has
not finished: a crash leaves it so, never claiming success), ``failed``,
``observed`` (applied or undone outside sqlmigrate), ``backfilled``
(adopted with ``sqlmigrate_backfill``). Direction ``force`` rows record forces.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .source import UTF8_BOM, MigrationFile, read_bytes

COLUMNS = (
    "id, version, name, direction, outcome, checksum, content_checksum, started_at, "
    "duration_ms, db_user, hostname, application, resulting_version"
)
COLUMN_NAMES = tuple(name.strip() for name in COLUMNS.split(","))
#: outcomes that say whether a version's up file is in the database
STATE_OUTCOMES = ("applied", "observed", "backfilled")


def last_sql(qualified: str) -> str:
    return f"SELECT {COLUMNS} FROM {qualified} ORDER BY id DESC LIMIT 1"


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    version: int
    name: str
    direction: str
    outcome: str
    checksum: str | None
    content_checksum: str | None
    started_at: datetime
    duration_ms: float | None
    db_user: str
    hostname: str | None
    application: str | None
    resulting_version: int | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Entry:
        entry = cls(*row)
        if isinstance(entry.started_at, str):  # SQLite keeps times as UTC text
            started = datetime.fromisoformat(entry.started_at).replace(tzinfo=UTC)
            entry = _replace(entry, started_at=started)
        elif entry.started_at.tzinfo is None:  # MySQL's DATETIME: UTC, naive
            entry = _replace(entry, started_at=entry.started_at.replace(tzinfo=UTC))
        if entry.resulting_version == -1:
            return _replace(entry, resulting_version=None)
        return entry

    @property
    def outside(self) -> bool:
        """True when sqlmigrate did not run it (observed or adopted)."""
        return self.outcome in ("observed", "backfilled")


def _replace(entry: Entry, **changes: Any) -> Entry:
    values = {name: getattr(entry, name) for name in Entry.__slots__}
    return Entry(**{**values, **changes})


@dataclass(frozen=True, slots=True)
class HistoryView:
    """What the side table says, read once per run."""

    #: per version, the direction of its latest state row ("up": its file is in)
    directions: dict[int, str] = field(default_factory=dict)
    #: the same rows in full; empty for a light view (``full=False``)
    entries: dict[int, Entry] = field(default_factory=dict)
    last: Entry | None = None
    exists: bool = False

    @classmethod
    def from_rows(
        cls, states: Iterable[tuple[Any, ...]], last: Iterable[tuple[Any, ...]]
    ) -> HistoryView:
        entries = {e.version: e for e in map(Entry.from_row, states)}
        directions = {version: e.direction for version, e in entries.items()}
        return cls(directions, entries, _first_entry(last), True)

    @classmethod
    def from_light_rows(
        cls, states: Iterable[tuple[Any, ...]], last: Iterable[tuple[Any, ...]]
    ) -> HistoryView:
        directions = {int(version): str(direction) for version, direction in states}
        return cls(directions, {}, _first_entry(last), True)

    def applied(self, version: int) -> Entry | None:
        """The row that put ``version``'s up file in the database (full views only)."""
        entry = self.entries.get(version)
        return entry if entry is not None and entry.direction == "up" else None

    def is_applied(self, version: int) -> bool:
        return self.directions.get(version) == "up"

    def knows(self, version: int) -> bool:
        return version in self.directions

    def earliest(self) -> int | None:
        """The lowest version history knows: files above it had their turn here."""
        return min(self.directions, default=None)


def _first_entry(rows: Iterable[tuple[Any, ...]]) -> Entry | None:
    for row in rows:
        return Entry.from_row(row)
    return None


@dataclass(frozen=True, slots=True)
class Checksums:
    sha256: str
    #: sha256 of the SQL tokens without whitespace and comments (None: file too large)
    content: str | None


def checksums(data: bytes, text: str) -> Checksums:
    return Checksums(hashlib.sha256(data).hexdigest(), content_checksum(text))


#: above this many characters the token hash is skipped: scanning holds every token
CONTENT_CHECKSUM_LIMIT = 1 << 20


def content_checksum(text: str) -> str | None:
    """A hash that ignores whitespace and comments, to tell cosmetic edits apart."""
    if len(text) > CONTENT_CHECKSUM_LIMIT:
        return None
    from pglast import parser as pg_parser  # 28 ms to import: only when hashing

    try:
        tokens = [
            text[token.start : token.end + 1]
            for token in pg_parser.scan(text)
            if token.name not in ("SQL_COMMENT", "C_COMMENT")
        ]
    except pg_parser.ParseError:
        tokens = text.split()
    return hashlib.sha256("\x00".join(tokens).encode("utf-8")).hexdigest()


def file_checksums(file: MigrationFile) -> Checksums:
    """The checksums of a file as it is now; FileReadError when it cannot be read."""
    return data_checksums(read_bytes(file))


def data_checksums(data: bytes) -> Checksums:
    # Decoded leniently: a file the Go CLI applied need not be UTF-8, and the
    # hash of its bytes must still be recorded and compared.
    return checksums(data, data.decode("utf-8", errors="replace").removeprefix(UTF8_BOM))


def application_name() -> str:
    command = [Path(sys.argv[0]).name, *sys.argv[1:2]] if sys.argv and sys.argv[0] else []
    return " ".join([f"sqlmigrate {__version__}", *command])
