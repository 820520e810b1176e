"""Create an empty up/down pair of migration files, as ``migrate create`` does.

No database and no settings here: a folder and a name go in, two new empty
files come out. Versions are numbered the way the Go CLI numbers them
(a timestamp by default, or the next sequence number), so files made here
and files made by ``migrate create`` live side by side.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .exceptions import CreateError
from .golayout import go_format
from .source import FILE_NAME, MAX_VERSION, display_path, parse_name

DEFAULT_TIME_FORMAT = "20060102150405"
DEFAULT_DIGITS = 6
# Versions from here up are timestamps (Unix seconds are past 1.7e9): a
# folder holding one is numbered by time, not by sequence.
TIMESTAMP_FROM = 10**9
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CreatedMigration:
    version: str
    up: Path
    down: Path


def create_migration(
    directory: Path,
    name: str,
    *,
    seq: bool | None = None,
    digits: int | None = None,
    ext: str = "sql",
    time_format: str = DEFAULT_TIME_FORMAT,
    tz: str = "UTC",
    now: datetime | None = None,
) -> CreatedMigration:
    """Create ``<version>_<name>.up.<ext>`` and ``.down.<ext>`` in ``directory``.

    ``seq`` True numbers by sequence, False by time; None follows the folder:
    sequence when its migrations are numbered below 10**9, time when any is a
    timestamp or there are none (the CLI default). ``digits`` implies
    sequence, a ``time_format`` other than the default implies time. A naive
    ``now`` is taken as UTC. Both files are made, or neither; CreateError
    says why not.
    """
    check_name(name)
    ext = clean_ext(ext)
    zone = load_zone(tz)
    if digits is not None and digits < 1:
        raise CreateError("digits must be positive")
    names = _listing(directory)
    versions = _versions(directory, names)
    if _sequential(seq, digits, time_format, versions):
        version = next_sequence(versions, digits)
    else:
        moment, nanosecond = _moment(now, zone)
        version = time_version(time_format, moment, nanosecond)
    _check_version(version, time_format)
    up, down = (directory / f"{version}_{name}.{d}.{ext}" for d in ("up", "down"))
    _check_round_trip(up.name, (int(version), name, "up"))
    _check_round_trip(down.name, (int(version), name, "down"))
    _check_free(directory, names, version, ext)
    _create_pair(directory, up, down)
    return CreatedMigration(version, up, down)


def check_name(name: str) -> None:
    """Refuse names that are empty, leave the folder or hide control characters."""
    hint = "use letters, digits, _ and - (spaces are kept as they are)"
    if not name:
        raise CreateError("migration name is empty; give a short description such as add_users")
    if name in {".", ".."}:
        raise CreateError(f"migration name {name!r} is not a description; {hint}")
    for char in ("/", "\\"):
        if char in name:
            raise CreateError(f"migration name {name!r} contains {char}; {hint}")
    _refuse_control(name, "migration name", hint)


def clean_ext(ext: str) -> str:
    """The extension without one leading dot (``sql`` and ``.sql`` are the same)."""
    ext = ext.removeprefix(".")
    if not ext:
        raise CreateError("the file extension is empty; pass one, such as --ext sql")
    for char in ("/", "\\"):
        if char in ext:
            raise CreateError(f"extension {ext!r} contains {char}; pass one such as --ext sql")
    _refuse_control(ext, "extension", "pass one such as --ext sql")
    return ext


def _refuse_control(text: str, what: str, hint: str) -> None:
    for char in text:
        if unicodedata.category(char) == "Cc":
            raise CreateError(
                f"{what} {text!r} contains the control character U+{ord(char):04X}; {hint}"
            )


def load_zone(tz: str) -> tzinfo | None:
    """The zone for an IANA name; ``UTC`` and ``""`` are UTC, ``Local`` (None) this machine's."""
    if tz in {"", "UTC"}:
        return UTC
    if tz == "Local":
        return None
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CreateError(
            f"unknown time zone {tz} (use an IANA name such as Europe/Paris, or UTC)"
        ) from None


def _listing(directory: Path) -> list[str]:
    try:
        return sorted(entry.name for entry in directory.iterdir())
    except FileNotFoundError:
        return []
    except OSError as error:
        raise CreateError(
            f"cannot read folder {display_path(directory)}: {error.strerror}"
        ) from None


def _versions(directory: Path, names: list[str]) -> dict[int, str]:
    """Each migration version in the folder, with its widest written form (``0011``).

    Sub-folders are skipped, as golang-migrate skips them.
    """
    found: dict[int, str] = {}
    for name in names:
        match = FILE_NAME.fullmatch(name)
        if match and not (directory / name).is_dir():
            prefix = match.group(1)
            found[int(prefix)] = max(found.get(int(prefix), ""), prefix, key=len)
    return found


def _sequential(
    seq: bool | None, digits: int | None, time_format: str, versions: dict[int, str]
) -> bool:
    custom_format = time_format != DEFAULT_TIME_FORMAT
    if custom_format and (seq or (seq is None and digits is not None)):
        raise CreateError("the seq and format options are mutually exclusive")
    if seq is False and digits is not None:
        raise CreateError("digits only applies to sequence numbers; drop it or pass --seq")
    if seq is not None:
        return seq
    if digits is not None or custom_format:
        return not custom_format
    return bool(versions) and max(versions) < TIMESTAMP_FROM


def next_sequence(versions: dict[int, str], digits: int | None) -> str:
    """The highest migration version + 1, as wide as its file name writes it.

    Unlike the Go CLI, which reads the name-sorted last ``*<ext>`` file (so
    ``notes.sql`` fails and ``9_x`` beats ``10_y``), only migration files
    count and the highest version is found by number.
    """
    if versions:
        last = max(versions)
        number, width = last + 1, len(versions[last])
    else:
        number, width = 1, DEFAULT_DIGITS
    width = digits or width
    text = f"{number:0{width}d}"
    if len(text) > width:
        raise CreateError(
            f"next sequence number {text} too large, at most {width} digits are allowed; "
            f"pass --digits {len(text)} for a wider number"
        )
    return text


def _moment(now: datetime | None, zone: tzinfo | None) -> tuple[datetime, int]:
    """``now`` (or the clock) in ``zone``, and its nanoseconds within the second."""
    if now is None:
        clock = time.time_ns()
        now, nanosecond = EPOCH + timedelta(microseconds=clock // 1000), clock % 10**9
    else:
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
        nanosecond = now.microsecond * 1000
    return now.astimezone(zone), nanosecond


def time_version(time_format: str, moment: datetime, nanosecond: int = 0) -> str:
    """The version for ``moment``: ``unix``, ``unixNano`` or a Go time layout."""
    if not time_format:
        raise CreateError("time format may not be empty")
    seconds = (moment - EPOCH) // timedelta(seconds=1)
    if time_format == "unix":
        return str(seconds)
    if time_format == "unixNano":
        return str(seconds * 10**9 + nanosecond)
    return go_format(time_format, moment, nanosecond)


def _check_version(version: str, time_format: str) -> None:
    if not re.fullmatch(r"[0-9]+", version):
        raise CreateError(
            f"time format {time_format!r} gives version {version!r}, which is not a number: "
            f"golang-migrate only reads files whose names start with digits; use digits "
            f"only, such as {DEFAULT_TIME_FORMAT}"
        )
    if int(version) > MAX_VERSION:
        raise CreateError(
            f"version {version} is larger than {MAX_VERSION}, the largest the bigint "
            f"version column holds; use a shorter time format"
        )


def _check_round_trip(file_name: str, expected: tuple[int, str, str]) -> None:
    """The name must parse back to what was meant (ext ``up.sql`` would turn down into up)."""
    parsed = parse_name(file_name)
    if parsed != expected:
        read = "no migration"
        if parsed is not None:
            read = f"version {parsed[0]} {parsed[2]} named {parsed[1]!r}"
        raise CreateError(
            f"golang-migrate would read {file_name!r} as {read}, not as version "
            f"{expected[0]} {expected[2]} named {expected[1]!r}; choose another name or extension"
        )


def _check_free(directory: Path, names: list[str], version: str, ext: str) -> None:
    """No file may already claim the version, written like it or padded otherwise."""
    for name in names:
        parsed = parse_name(name)
        taken = name.startswith(f"{version}_") and name.endswith(f".{ext}")
        if taken or (parsed is not None and parsed[0] == int(version)):
            raise CreateError(
                f"duplicate migration version: {version} "
                f"({display_path(directory / name)} already exists)"
            )


def _create_pair(directory: Path, up: Path, down: Path) -> None:
    """Both files, or neither: a failed down file takes the new up file away."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CreateError(
            f"cannot create folder {display_path(directory)}: {error.strerror}"
        ) from None
    _create_empty(up)
    try:
        _create_empty(down)
    except CreateError as error:
        try:
            up.unlink()
        except OSError as undo:
            raise CreateError(
                f"{error}; {display_path(up)} was left behind ({undo.strerror}): delete it"
            ) from None
        raise


def _create_empty(path: Path) -> None:
    try:
        with path.open("x", encoding="utf-8"):
            pass
    except OSError as error:
        raise CreateError(f"cannot create {display_path(path)}: {error.strerror}") from None


# -- Go's time.Format --------------------------------------------------------
