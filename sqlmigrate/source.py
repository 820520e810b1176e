"""Find and read migration files, by golang-migrate's rules.

No database and no settings here: a folder goes in, a sorted list of
migrations comes out. Names follow ``^([0-9]+)_(.*)\\.(down|up)\\.(.*)$``;
anything else in the folder is ignored, as the Go tool does.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .exceptions import DuplicateMigrationError, FileReadError, SourceError

# fullmatch, not search with $: Python's $ also matches before a trailing
# newline, and [0-9] (unlike \d) refuses non-ASCII digits, as RE2 does.
FILE_NAME = re.compile(r"([0-9]+)_(.*)\.(down|up)\.(.*)")

# The version column is a PostgreSQL bigint; golang-migrate wraps larger
# values around (2**64-1 loops forever), so they are refused by name.
MAX_VERSION = 2**63 - 1

UTF8_BOM = "\ufeff"

Direction = Literal["up", "down"]


@dataclass(frozen=True, slots=True)
class MigrationFile:
    version: int
    identifier: str
    direction: Direction
    #: the file's path as the folder listing gave it; a Path is made only when used
    location: str | os.PathLike[str]

    @property
    def path(self) -> Path:
        return Path(self.location)

    @property
    def name(self) -> str:
        return os.path.basename(self.location)


@dataclass(frozen=True, slots=True)
class Migration:
    """One version: its up file, its down file, or both."""

    version: int
    up: MigrationFile | None = None
    down: MigrationFile | None = None

    @property
    def identifier(self) -> str:
        present = self.up or self.down
        return present.identifier if present else ""

    def file(self, direction: Direction) -> MigrationFile | None:
        return self.up if direction == "up" else self.down


@dataclass(slots=True)
class MigrationSource:
    """The migrations of one folder, sorted by version (numerically)."""

    directory: Path
    migrations: list[Migration] = field(default_factory=list)
    _index: dict[int, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {m.version: i for i, m in enumerate(self.migrations)}

    def __len__(self) -> int:
        return len(self.migrations)

    def __iter__(self) -> Iterator[Migration]:
        return iter(self.migrations)

    def __contains__(self, version: object) -> bool:
        return version in self._index

    def get(self, version: int) -> Migration | None:
        index = self._index.get(version)
        return None if index is None else self.migrations[index]

    def first(self) -> Migration | None:
        return self.migrations[0] if self.migrations else None

    def last(self) -> Migration | None:
        return self.migrations[-1] if self.migrations else None

    def next(self, version: int) -> Migration | None:
        """The migration after ``version``; None past the end or for an unknown version."""
        index = self._index.get(version)
        if index is None or index + 1 >= len(self.migrations):
            return None
        return self.migrations[index + 1]

    def prev(self, version: int) -> Migration | None:
        """The migration before ``version``; None at the start or for an unknown version."""
        index = self._index.get(version)
        if index is None or index == 0:
            return None
        return self.migrations[index - 1]


def parse_name(name: str) -> tuple[int, str, Direction] | None:
    """(version, identifier, direction) for a migration file name, else None."""
    match = FILE_NAME.fullmatch(name)
    if match is None:
        return None
    direction: Direction = "up" if match.group(3) == "up" else "down"
    return int(match.group(1)), match.group(2), direction


def load_source(directory: Path) -> MigrationSource:
    """Read the folder's listing (not the files) into a MigrationSource.

    Raises SourceError when the folder cannot be listed, a version does not
    fit the table, or a matching name is not a readable file, and
    DuplicateMigrationError for two files with one version and direction.
    """
    found: dict[tuple[int, Direction], MigrationFile] = {}
    for entry in _scan(directory):
        parsed = parse_name(entry.name)
        if parsed is None:
            continue
        version, identifier, direction = parsed
        _check_entry(entry, version)
        if (version, direction) in found:
            raise DuplicateMigrationError(found[version, direction].path, Path(entry.path))
        found[version, direction] = MigrationFile(version, identifier, direction, entry.path)
    return MigrationSource(directory, _group(found))


def _scan(directory: Path) -> list[os.DirEntry[str]]:
    """The folder's entries in byte order of their names, as Go's ReadDir gives them."""
    hint = "set SQLMIGRATE_DIR or pass --path"
    try:
        with os.scandir(directory) as entries:
            listing = list(entries)
    except FileNotFoundError:
        raise SourceError(f"migrations folder {directory} does not exist ({hint})") from None
    except NotADirectoryError:
        raise SourceError(
            f"migrations folder {directory} is a file, not a folder ({hint})"
        ) from None
    except OSError as error:
        raise SourceError(
            f"cannot read migrations folder {directory}: {error.strerror} ({hint})"
        ) from None
    return sorted(listing, key=lambda entry: os.fsencode(entry.name))


def _check_entry(entry: os.DirEntry[str], version: int) -> None:
    path = entry.path
    if version > MAX_VERSION:
        raise SourceError(
            f"{path}: version {version} is larger than {MAX_VERSION}, the largest the "
            f"bigint version column holds; renumber the file"
        )
    try:
        if entry.is_file():
            return
        is_dir = entry.is_dir()
    except OSError as error:
        raise SourceError(f"{path}: cannot read: {error.strerror}") from None
    kind = "a folder" if is_dir else "not a readable file (a broken or looping link?)"
    raise SourceError(f"{path}: named like a migration but {kind}; rename or remove it")


def _group(found: dict[tuple[int, Direction], MigrationFile]) -> list[Migration]:
    versions = sorted({version for version, _ in found})
    return [
        Migration(version, found.get((version, "up")), found.get((version, "down")))
        for version in versions
    ]


def read_sql(file: MigrationFile) -> str:
    """The file's text as UTF-8, without a leading BOM (the Go tool sends it and fails)."""
    return read_migration(file)[1]


def read_migration(file: MigrationFile) -> tuple[bytes, str]:
    """The file's bytes (what checksums cover) and its text for the server."""
    data = read_bytes(file)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, col = line_col_of_bytes(data, error.start)
        shown = display_path(file.location)
        raise FileReadError(
            shown,
            f"not valid UTF-8 (byte 0x{data[error.start]:02x}); save the file as UTF-8",
            location=f"{shown}:{line}:{col}",
        ) from None
    return data, text.removeprefix(UTF8_BOM)


def read_bytes(file: MigrationFile, limit: int | None = None) -> bytes:
    """The file's bytes, or only its first ``limit`` bytes.

    Every read of a migration file comes through here, so one that cannot be
    read (gone since the listing, permissions, I/O error, a folder in its
    place) is always a FileReadError naming it, never an OSError deep in a check.
    """
    try:
        # The listing's path as is: no Path object per file (10 000 files in a dry run).
        with open(file.location, "rb") as handle:  # noqa: PTH123
            return handle.read() if limit is None else handle.read(limit)
    except OSError as error:
        raise _unreadable(file, error) from None


def file_size(file: MigrationFile) -> int:
    try:
        return file.path.stat().st_size
    except OSError as error:
        raise _unreadable(file, error) from None


def _unreadable(file: MigrationFile, error: OSError) -> FileReadError:
    return FileReadError(display_path(file.location), f"cannot read: {error.strerror or error}")


def line_col_of_bytes(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    col = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return line, col


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a 0-based character offset."""
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def display_path(path: str | os.PathLike[str]) -> str:
    """The path relative to the working directory when it is below it."""
    folder, name = os.path.split(os.fspath(path))
    shown = _display_folder(folder, os.getcwd())
    return os.path.join(shown, name) if shown else name


@functools.lru_cache(maxsize=64)
def _display_folder(folder: str, cwd: str) -> str:
    # Once per folder: a run shows hundreds of files from the same one.
    absolute = Path(os.path.abspath(folder or "."))
    try:
        relative = str(absolute.relative_to(cwd))
    except ValueError:
        return str(absolute)
    return "" if relative == "." else relative
