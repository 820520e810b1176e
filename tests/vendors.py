"""The ``vendor`` fixture: one clean database per test on each vendor sqlmigrate supports.

``postgresql``: a schema of its own on the test database (the ``schema``
fixture), alias ``default``. ``sqlite``: a new database file in the test's
temporary folder, alias ``sqlite`` (its NAME is pointed at the file for the
test). Tests use ``vendor.alias`` for the engine and ``vendor.url`` for child
processes, and read tables back through ``vendor.query``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

if TYPE_CHECKING:
    from .conftest import Schema

VENDORS = ["postgresql", "sqlite"]


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
