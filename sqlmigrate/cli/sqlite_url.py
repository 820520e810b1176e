"""``sqlite3://PATH?params``: golang-migrate's ``sqlite3`` URL.

The path is what follows the scheme (``sqlite3:///srv/db.sqlite3`` absolute,
``sqlite3://db.sqlite3`` relative to the working directory); the file is
created when missing, as go-sqlite3 creates it. It becomes a Django
``django.db.backends.sqlite3`` entry; Python's ``sqlite3`` is in the standard
library, so nothing is loaded for it here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..exceptions import ConfigurationError
from ..goflag import parse_bool, parse_int

#: go-sqlite3 parameters that set a PRAGMA on each connection
_PRAGMAS = {
    "_foreign_keys": "foreign_keys",
    "_fk": "foreign_keys",
    "_journal_mode": "journal_mode",
    "_journal": "journal_mode",
    "_synchronous": "synchronous",
    "_sync": "synchronous",
}
#: go-sqlite3 parameters about Go's side of the driver (time zones, its mutex, how
#: its BEGIN is spelled: sqlmigrate always takes the write lock up front)
_GO_ONLY = {"_loc", "_mutex", "_txlock", "cache"}
_BUSY = {"_busy_timeout", "_timeout"}


def fail(message: str) -> ConfigurationError:
    return ConfigurationError(f"failed to open database: {message}")


def sqlite_database(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the DATABASES entry, sqlmigrate's settings) for a ``sqlite3://`` URL."""
    parts = urlsplit(url)
    path = unquote(parts.netloc + parts.path)
    if not path:
        raise fail("no database file in the URL (sqlite3:///abs/path.db or sqlite3://rel.db)")
    if not Path(os.path.abspath(path)).parent.is_dir():
        raise fail("unable to open database file: no such file or directory")
    options: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    # go-sqlite3 leaves foreign keys off unless told (Django turns them on)
    pragmas = {"foreign_keys": "PRAGMA foreign_keys = OFF"}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "x-migrations-table":
            extra["SQLMIGRATE_TABLE"] = value
        elif key == "x-no-tx-wrap":
            _no_tx_wrap(value)
        elif key in _BUSY:
            options["timeout"] = _milliseconds(key, value) / 1000
        elif key in _PRAGMAS:
            pragmas[_PRAGMAS[key]] = f"PRAGMA {_PRAGMAS[key]} = {_word(key, value)}"
        elif key not in _GO_ONLY:
            raise fail(
                f"the URL option {key} is not supported by python -m sqlmigrate (supported: "
                f"x-migrations-table, x-no-tx-wrap, _busy_timeout, _foreign_keys, "
                f"_journal_mode, _synchronous)"
            )
    options["init_command"] = ";".join(pragmas.values())
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": path, "OPTIONS": options}, extra


def _no_tx_wrap(value: str) -> None:
    """Checked as the CLI checks it, then nothing: every file still runs in one
    transaction with its version update (see the README's "Using MySQL or SQLite")."""
    if value and parse_bool(value) is None:
        raise fail(f'x-no-tx-wrap: strconv.ParseBool: parsing "{value}": invalid syntax')


def _milliseconds(key: str, value: str) -> int:
    number = parse_int(value, signed=False)
    if number is None:
        raise fail(f"{key} must be milliseconds, not {value!r}")
    return number


def _word(key: str, value: str) -> str:
    """A PRAGMA's value: a word or a number (it is written into the statement)."""
    if not value or not value.isascii() or not value.replace("_", "").isalnum():
        raise fail(f"{key} must be a word or a number, not {value!r}")
    return value
