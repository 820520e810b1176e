"""The ``vendor`` fixture: one clean database per test on each vendor sqlmigrate supports.

``postgresql``: a schema of its own on the test database (the ``schema``
fixture), alias ``default``. ``sqlite``: a new database file in the test's
temporary folder, alias ``sqlite`` (its NAME is pointed at the file for the
test). Tests use ``vendor.alias`` for the engine and ``vendor.url`` for child
processes, and read tables back through ``vendor.query``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

if TYPE_CHECKING:
    from .conftest import Schema

VENDORS = ["postgresql", "sqlite", "mysql"]
#: for pytest.mark.django_db(databases=...): the aliases this settings module has
ALIASES = [alias for alias in ("default", "sqlite", "mysql") if alias in settings.DATABASES]
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
    connection = connections["sqlite"]
    # Django ignores close() on an in-memory database (pytest-django's test database
    # for this alias): close it for real, so the alias reconnects to the file.
    BaseDatabaseWrapper.close(connection)
    saved = connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = str(path)
    try:
        yield Vendor("sqlite", "sqlite", f"sqlite:///{path}", path=path)
    finally:
        BaseDatabaseWrapper.close(connection)
        connection.settings_dict["NAME"] = saved


def _mysql_database() -> Iterator[Vendor]:
    """A new database on the MySQL server for one test, dropped after it."""
    if "mysql" not in connections.settings:
        if os.environ.get("SQLMIGRATE_REQUIRE_MYSQL") == "1":
            pytest.fail(f"SQLMIGRATE_REQUIRE_MYSQL=1, but {NO_MYSQL}")
        pytest.skip(NO_MYSQL)
    connection = connections["mysql"]
    name = f"t_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}`")
    connection.close()
    saved = connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = name
    s = connection.settings_dict
    credentials = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        credentials += ":" + quote(str(s["PASSWORD"]), safe="")
    url = f"mysql://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 3306}/{name}"
    try:
        yield Vendor("mysql", "mysql", url)
    finally:
        connection.close()
        connection.settings_dict["NAME"] = saved
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        connection.close()
