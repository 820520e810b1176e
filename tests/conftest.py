"""Fixtures shared by the suite.

Every test that touches PostgreSQL gets a schema of its own on the test
database (``search_path`` points at it), so tests neither see each other's
version tables nor share a lock key. Subprocesses reach the same schema
through ``DATABASE_URL`` with ``options=-csearch_path=...``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from .pgbouncer import pgbouncer  # noqa: F401  (the fixture, for every test module)
from .vendors import vendor  # noqa: F401  (the fixture, for every test module)

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Migrations:
    """A temporary migrations folder."""

    path: Path

    def write(self, name: str, text: str | bytes) -> Path:
        target = self.path / name
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text, encoding="utf-8")
        return target

    def pair(self, version: int, name: str, up: str, down: str | None = "") -> None:
        self.write(f"{version}_{name}.up.sql", up)
        if down is not None:
            self.write(f"{version}_{name}.down.sql", down)


@dataclass
class Schema:
    """A fresh schema on the test database, current for Django's connection."""

    name: str
    url: str

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall()) if cursor.description else []

    def version_row(self) -> list[tuple[Any, ...]]:
        return self.query(f'SELECT version, dirty FROM "{self.name}".schema_migrations')

    def tables(self) -> set[str]:
        rows = self.query(f"SELECT tablename FROM pg_tables WHERE schemaname = '{self.name}'")
        return {row[0] for row in rows}

    def connect(self) -> psycopg.Connection[Any]:
        """A second, independent session on the same schema (like another process)."""
        return psycopg.connect(self.url, autocommit=True)


#: Spoils a migration file so that reading it fails; returns the reason sqlmigrate gives.
Spoil = Callable[[Path], str]

#: Modules that list the migrations folder and then read the files.
LISTERS = ("sqlmigrate.engine", "sqlmigrate.status", "sqlmigrate.views")


def _link_to(path: Path, target: str) -> None:
    if not Path(target).is_file():
        pytest.skip(f"{target} is not a file here")
    path.unlink()
    path.symlink_to(target)


def deny_reading(path: Path) -> str:
    """Permission denied: chmod 000, or, as root (who reads anything), a link to a
    regular file that is write-only even for root."""
    if os.geteuid() != 0:
        path.chmod(0)
    else:
        _link_to(path, "/proc/sys/vm/drop_caches")
    return "cannot read: Permission denied"


def io_error_reading(path: Path) -> str:
    _link_to(path, "/proc/self/mem")  # a regular file; reading its offset 0 is EIO
    return "cannot read: Input/output error"


@pytest.fixture(params=["permission denied", "I/O error", "removed after listing"])
def spoil(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Spoil:
    """Ways an applied file that the folder's listing still shows cannot be read."""
    if request.param == "permission denied":
        return deny_reading
    if request.param == "I/O error":
        return io_error_reading

    def remove_after_listing(path: Path) -> str:
        # A deploy swapping the folder between the listing and the reads. The file
        # is back for every listing, so that a test can list more than once.
        from sqlmigrate import source

        data = path.read_bytes()

        def listing_then_removal(directory: Path) -> source.MigrationSource:
            path.write_bytes(data)
            found = source.load_source(directory)
            path.unlink()
            return found

        for module in LISTERS:
            monkeypatch.setattr(f"{module}.load_source", listing_then_removal)
        return "cannot read: No such file or directory"

    return remove_after_listing


@pytest.fixture
def migrations(tmp_path: Path) -> Migrations:
    folder = tmp_path / "migrations"
    folder.mkdir()
    return Migrations(folder)


def database_url(schema: str | None = None) -> str:
    settings = connection.settings_dict
    user = quote(settings["USER"] or "", safe="")
    password = quote(str(settings["PASSWORD"] or ""), safe="")
    host = quote(settings["HOST"] or "", safe="")
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    credentials = f"{user}:{password}@" if password else f"{user}@"
    url = f"postgresql://{credentials}{host}{port}/{settings['NAME']}"
    if schema:
        url += f"?options=-csearch_path%3D{schema}"
    return url


@pytest.fixture
def schema(transactional_db: None) -> Iterator[Schema]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{name}"')
        cursor.execute(f'SET search_path TO "{name}"')
    try:
        yield Schema(name, database_url(name))
    finally:
        connection.close()  # a migration may have left session state (SET ...)
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA "{name}" CASCADE')


@dataclass
class Result:
    out: str
    err: str
    code: int


def run_command(name: str, *args: str, **options: Any) -> Result:
    """A management command in this process: output, errors, and its exit code."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err, **options)
    except CommandError as error:
        return Result(out.getvalue(), err.getvalue() + str(error), error.returncode)
    return Result(out.getvalue(), err.getvalue(), 0)


def manage_environment(url: str, **env: str) -> dict[str, str]:
    """The environment of a ``manage.py`` child that works on ``url``."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "realstaging.settings",
        **env,
    }


def spawn_manage(*args: str, url: str, **env: str) -> subprocess.Popen[str]:
    """``python manage.py ...`` started in the background, output piped."""
    return subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=manage_environment(url, **env),
    )


def run_manage(
    *args: str, url: str, timeout: float = 60, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``python manage.py ...`` in a child process against ``url``."""
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        capture_output=True,
        text=True,
        env=manage_environment(url, **env),
        timeout=timeout,
        input=stdin if stdin is not None else "",
        check=False,
    )
