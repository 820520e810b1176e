"""How long a migration's own statements may wait: ``lock_timeout``, ``statement_timeout``.

An ``ALTER TABLE`` waiting for its ACCESS EXCLUSIVE lock behind one long
query makes every later query on that table queue behind it. A bounded
``lock_timeout`` turns that into a short wait and a retry (``ddl_retry``).

The run's values come from the settings or the command's options; a file can
change them for itself with leading comments, checked in the pre-flight:

    -- sqlmigrate: lock_timeout=0
    -- sqlmigrate: lock_timeout=30s, statement_timeout=10min, retries=0

Values are seconds (``2.5``) or a number with ``ms``, ``s`` or ``min``; ``0`` is
PostgreSQL's "no limit".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from .exceptions import SqlParseError
from .source import line_col

#: a setting the file leaves alone (sqlmigrate then sets nothing for it)
OFF = None
#: longest pause between two attempts
LONGEST_BACKOFF = 30.0
FIRST_BACKOFF = 1.0

_DIRECTIVE = re.compile(r"--[ \t]*sqlmigrate[ \t]*:(?P<body>[^\r\n]*)", re.IGNORECASE)
_LEADING = re.compile(r"(?:[ \t\r\n\f\v]+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
# key=value, separated by commas or blanks
_ITEM = re.compile(
    r"[ \t]*(?P<key>[^=, \t]+)[ \t]*=[ \t]*(?P<value>[^, \t]*)[ \t]*(?:,|$|(?<=[ \t]))"
)
_DURATION = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<unit>ms|s|min)?")
_UNITS = {None: 1.0, "s": 1.0, "ms": 0.001, "min": 60.0}
KEYS = ("lock_timeout", "statement_timeout", "retries")


@dataclass(frozen=True, slots=True)
class Limits:
    """What one migration runs with. ``None``: sqlmigrate sets nothing (the session's
    own value stays); ``0``: no limit, set explicitly."""

    lock_timeout: float | None = None
    statement_timeout: float | None = None
    retries: int = 0

    def sql(self) -> str:
        """One SELECT setting them for the current transaction; '' when nothing is set."""
        calls = [
            f"pg_catalog.set_config('{name}', '{_milliseconds(value)}', true)"
            for name, value in (
                ("lock_timeout", self.lock_timeout),
                ("statement_timeout", self.statement_timeout),
            )
            if value is not None
        ]
        return f"SELECT {', '.join(calls)}" if calls else ""

    def with_directives(self, directives: dict[str, float]) -> Limits:
        """These limits as a file's ``-- sqlmigrate:`` comments change them."""
        changes: dict[str, object] = dict(directives)
        if "retries" in changes:
            changes["retries"] = int(directives["retries"])
        return replace(self, **changes)  # type: ignore[arg-type]


NO_LIMITS = Limits()


def _milliseconds(seconds: float) -> str:
    return "0" if seconds == 0 else f"{max(1, math.ceil(seconds * 1000))}ms"


def backoff(attempt: int, lock_timeout: float | None) -> float:
    """Pause before retry ``attempt`` (1, 2, ...): 1 s doubling, at most 30 s; never
    longer at first than the wait itself, so short timeouts retry quickly."""
    first = min(FIRST_BACKOFF, lock_timeout) if lock_timeout else FIRST_BACKOFF
    return float(min(first * 2 ** (attempt - 1), LONGEST_BACKOFF))


def seconds_or_off(value: object, what: str) -> float | None:
    """A timeout setting or option: seconds >= 0; None and 0 mean off. Raises ValueError."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number of seconds or None, not {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a number of seconds >= 0 (0: off), not {value!r}")
    return float(value) or None


def retry_count(value: object, what: str) -> int:
    """A retries setting or option: a whole number >= 0. Raises ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a whole number of retries >= 0, not {value!r}")
    return value


def read_directives(text: str, location: str) -> dict[str, float]:
    """The ``-- sqlmigrate: key=value`` comments at the top of a file, checked.

    Only the leading comments count (before the first statement); raises
    SqlParseError with FILE:LINE:COL for an unknown key or a bad value.
    """
    leading = _LEADING.match(text)
    end = leading.end() if leading else 0
    found: dict[str, float] = {}
    for match in _DIRECTIVE.finditer(text, 0, end):
        body_at = match.start("body")
        body = match.group("body").rstrip()
        if not body.strip():
            raise _bad(text, location, body_at, "an empty sqlmigrate: comment")
        position = 0
        while position < len(body):
            item = _ITEM.match(body, position)
            if item is None or item.end() == position:
                rest = body[position:]
                at = body_at + position + len(rest) - len(rest.lstrip())
                raise _bad(text, location, at, f"cannot read {rest.strip()!r}")
            key, value = item.group("key"), item.group("value")
            found[key] = _value(text, location, body_at + item.start("key"), key, value)
            position = item.end()
    return found


def _value(text: str, location: str, at: int, key: str, value: str) -> float:
    if key not in KEYS:
        raise _bad(text, location, at, f"unknown key {key!r}")
    if key == "retries":
        if not value.isascii() or not value.isdigit():
            raise _bad(text, location, at, f"retries must be a whole number, not {value!r}")
        return int(value)
    duration = _DURATION.fullmatch(value)
    if duration is None:
        raise _bad(
            text, location, at, f"{key} must be seconds (e.g. 5, 2.5, 500ms, 2min), not {value!r}"
        )
    return float(duration.group("number")) * _UNITS[duration.group("unit")]


def _bad(text: str, location: str, offset: int, problem: str) -> SqlParseError:
    line, col = line_col(text, offset)
    return SqlParseError(
        f"{location}:{line}:{col}",
        f"{problem} in a `-- sqlmigrate:` comment: it takes "
        f"{', '.join(KEYS)} (e.g. `-- sqlmigrate: lock_timeout=0`); nothing was run",
    )
