"""Django configured from ``-database URL`` alone: no project settings imported.

The scheme picks the vendor, as golang-migrate's drivers: ``postgres`` /
``postgresql`` here, ``mysql`` (``mysql_url``) and ``sqlite3`` (``sqlite_url``)
in modules of their own, imported only for their URLs.

golang-migrate's ``postgres`` URL options map to sqlmigrate's settings:
``x-migrations-table`` is SQLMIGRATE_TABLE, ``x-statement-timeout`` (ms)
becomes the session's ``statement_timeout``, ``search_path`` (which lib/pq
sends as a run-time parameter, and libpq would refuse) goes into
``options``; libpq's own parameters (``sslmode``, ``options``,
``application_name``, ``connect_timeout``, ...) pass through.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..exceptions import ConfigurationError

SCHEMES = ("postgres", "postgresql", "mysql", "sqlite3")
#: the extra setting mysql_url gives x-statement-timeout in (it is no Django setting)
STATEMENT_TIMEOUT_MS = "SQLMIGRATE_CLI_STATEMENT_TIMEOUT_MS"
#: golang-migrate options that change nothing here: sqlmigrate always splits the file
_IGNORED = {"x-multi-statement", "x-multi-statement-max-size"}


def scheme_error(url: str) -> str | None:
    """The Go CLI's message when ``url`` names no database driver we have, else None."""
    if not url:
        return "failed to parse scheme from database URL: URL cannot be empty"
    colon = url.find(":")
    if colon < 1:
        return "failed to parse scheme from database URL: no scheme"
    scheme = url[:colon]
    if scheme not in SCHEMES:
        return (
            f"failed to open database: database driver: unknown driver {scheme} (forgotten "
            f"import?)\npython -m sqlmigrate reads postgres://, postgresql://, mysql:// and "
            f"sqlite3:// URLs"
        )
    return None


def split_url(url: str) -> tuple[str, dict[str, str]]:
    """(the URL for dj-database-url, sqlmigrate's settings from its ``x-`` options)."""
    parts = urlsplit(url)
    kept: list[tuple[str, str]] = []
    options: list[str] = []
    extra: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "x-migrations-table":
            extra["SQLMIGRATE_TABLE"] = value
        elif key == "x-statement-timeout":
            options.append(f"-cstatement_timeout={_milliseconds(value)}")
        elif key == "search_path":
            options.append(f"-csearch_path={_escape_option(value)}")
        elif key == "options":
            options.insert(0, value)
        elif key.startswith("x-") and key not in _IGNORED:
            raise ConfigurationError(
                f"failed to open database: the URL option {key} is not supported by "
                f"python -m sqlmigrate (supported: x-migrations-table, x-statement-timeout)"
            )
        elif key not in _IGNORED:
            kept.append((key, value))
    if options:
        kept.append(("options", " ".join(options)))
    return urlunsplit(parts._replace(query=urlencode(kept))), extra


def _escape_option(value: str) -> str:
    """libpq ``options`` separates words by spaces; a backslash keeps one in a value."""
    return value.replace("\\", "\\\\").replace(" ", "\\ ")


def _milliseconds(value: str) -> int:
    if not value.isascii() or not value.isdigit():
        raise ConfigurationError(
            f"failed to open database: x-statement-timeout must be milliseconds, not {value!r}"
        )
    return int(value)


def database_for(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the DATABASES entry, sqlmigrate's settings) for a URL ``scheme_error`` accepted."""
    scheme = url.partition(":")[0]
    if scheme == "mysql":
        from .mysql_url import mysql_database

        return mysql_database(url)
    if scheme == "sqlite3":
        from .sqlite_url import sqlite_database

        return sqlite_database(url)
    import dj_database_url

    clean, extra = split_url(url)
    return dict(dj_database_url.parse(clean)), extra


def configure(url: str, directory: Path, lock_timeout: float) -> None:
    """settings.configure() with the one database of ``url``; the app registry, empty."""
    from django.conf import settings

    database, extra = database_for(url)
    timeout_ms = extra.pop(STATEMENT_TIMEOUT_MS, None)
    settings.configure(
        DATABASES={"default": database},
        INSTALLED_APPS=[],
        USE_TZ=True,
        TIME_ZONE="UTC",
        LOGGING_CONFIG=None,
        SQLMIGRATE_DIR=str(directory),
        SQLMIGRATE_LOCK_TIMEOUT=lock_timeout,
        **extra,
    )
    # Not django.setup(): it imports django.urls, and through it django.http, models,
    # forms and templates (~80 ms), none of which a migration run uses.
    from django.apps import apps

    apps.populate(settings.INSTALLED_APPS)
    if timeout_ms:
        from .mysql_url import limit_statements

        limit_statements(timeout_ms)
