"""The ``vendor`` fixture: one clean database per test on each vendor sqlmigrate supports.

``postgresql``: a schema of its own on the test database (the ``schema``
fixture), alias ``default``. ``sqlite``: a new database file in the test's
temporary folder. ``mysql``: a new database on ``TEST_MYSQL_URL`` or on a
server answering on 127.0.0.1:3306 (root, no password), dropped after the
test; skipped with the reason when there is none (``SQLMIGRATE_REQUIRE_MYSQL=1``:
failed). The SQLite and MySQL aliases (``sqlite``, ``mysql``) exist only for
the test that asks for them, so the rest of the suite sees one database.
Tests use ``vendor.alias`` for the engine and ``vendor.url`` for child
processes, and read tables back through ``vendor.query``.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import dj_database_url
import pytest
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

if TYPE_CHECKING:
    from .conftest import Schema

VENDORS = ["postgresql", "sqlite", "mysql"]
NO_MYSQL = (
    "no MariaDB/MySQL server: set TEST_MYSQL_URL, or run one on 127.0.0.1:3306 "
    "(root, no password, database test)"
)


@dataclass
class Vendor:
    name: str
    alias: str
    url: str
    schema: Schema | None = None
    path: Path | None = None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with connections[self.alias].cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall()) if cursor.description else []

    def version_row(self) -> list[tuple[Any, ...]]:
        rows = self.query("SELECT version, dirty FROM schema_migrations")
        return [(version, bool(dirty)) for version, dirty in rows]

    def tables(self) -> set[str]:
        if self.schema is not None:
            return self.schema.tables()
        if self.name == "mysql":
            return {row[0] for row in self.query("SHOW TABLES")}
        rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows} - {"sqlite_sequence"}

    def options(self) -> tuple[str, ...]:
        """Command-line options that point a management command at this database."""
        return ("--database", self.alias) if self.alias != "default" else ()


def add_alias(alias: str, database: dict[str, Any]) -> BaseDatabaseWrapper:
    """A DATABASES entry for this test only (``remove_alias`` takes it away)."""
    # configure_settings fills Django's defaults in; it insists on seeing a default alias.
    both = {"default": connections.settings["default"], alias: dict(database)}
    connections.settings[alias] = connections.configure_settings(both)[alias]
    wrapper = connections[alias]

    # pytest-django lets a test connect only to the aliases it knew when the test
    # started; this one is newer, so it connects the way Django's own method does.
    def ensure_connection() -> None:
        if wrapper.connection is None:
            with wrapper.wrap_database_errors:
                wrapper.connect()

    wrapper.ensure_connection = ensure_connection  # type: ignore[method-assign]
    return wrapper


def remove_alias(alias: str) -> None:
    # close() of Django's SQLite wrapper keeps an in-memory database open: really close.
    BaseDatabaseWrapper.close(connections[alias])
    del connections[alias]
    del connections.settings[alias]


@pytest.fixture(params=VENDORS)
def vendor(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Vendor]:
    if request.param == "postgresql":
        schema: Schema = request.getfixturevalue("schema")
        yield Vendor("postgresql", "default", schema.url, schema=schema)
        return
    request.getfixturevalue("transactional_db")
    if request.param == "mysql":
        yield from _mysql_database()
        return
    path = tmp_path / "db.sqlite3"
    add_alias("sqlite", {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)})
    try:
        yield Vendor("sqlite", "sqlite", f"sqlite:///{path}", path=path)
    finally:
        remove_alias("sqlite")


def mysql_url() -> str | None:
    """TEST_MYSQL_URL, else a MariaDB answering on 127.0.0.1:3306 (root, database test)."""
    if os.environ.get("TEST_MYSQL_URL"):
        return os.environ["TEST_MYSQL_URL"]
    try:
        socket.create_connection(("127.0.0.1", 3306), 0.5).close()
    except OSError:
        return None
    return "mysql://root@127.0.0.1:3306/test"


def _mysql_database() -> Iterator[Vendor]:
    """A new database on the MySQL server for one test, dropped after it."""
    url = mysql_url()
    if url is None:
        if os.environ.get("SQLMIGRATE_REQUIRE_MYSQL") == "1":
            pytest.fail(f"SQLMIGRATE_REQUIRE_MYSQL=1, but {NO_MYSQL}")
        pytest.skip(NO_MYSQL)
    from realstaging.mysql_driver import install_fallback

    install_fallback()
    server = dj_database_url.parse(url)
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = add_alias("mysql", server)
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}`")
    remove_alias("mysql")
    add_alias("mysql", {**server, "NAME": name})
    credentials = quote(server["USER"] or "", safe="")
    if server["PASSWORD"]:
        credentials += ":" + quote(str(server["PASSWORD"]), safe="")
    host, port = server["HOST"] or "127.0.0.1", server["PORT"] or 3306
    try:
        yield Vendor("mysql", "mysql", f"mysql://{credentials}@{host}:{port}/{name}")
    finally:
        remove_alias("mysql")
        admin = add_alias("mysql", server)
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        remove_alias("mysql")
