"""One folder per database vendor: version table, lock, and how a file is
split, classified and run (``backends/<vendor>/``); ``base`` is the contract."""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

from ..exceptions import ConfigurationError
from .base import Backend, Parse

__all__ = ["VENDORS", "Backend", "Parse", "backend_for", "parser_for"]

#: vendors sqlmigrate has a backend for, as Django names them (``connection.vendor``)
VENDORS = ("postgresql", "sqlite", "mysql")


def backend_for(connection: BaseDatabaseWrapper, table: str) -> Backend:
    """The backend for a Django connection's vendor."""
    if connection.vendor == "postgresql":
        from ..conf import settings

        if settings.lock_strategy == "table":
            from .postgresql.table_lock import TableLockBackend

            return TableLockBackend(connection, table, settings.lock_table)
        from .postgresql import PostgreSQLBackend

        return PostgreSQLBackend(connection, table)
    if connection.vendor == "sqlite":
        from .sqlite import SQLiteBackend

        return SQLiteBackend(connection, table)
    if connection.vendor == "mysql":
        from .mysql import MySQLBackend

        return MySQLBackend(connection, table)
    raise ConfigurationError(
        f"database alias {connection.alias!r} uses {connection.vendor}; sqlmigrate supports "
        f"PostgreSQL, SQLite and MySQL/MariaDB"
    )


def parser_for(vendor: str) -> Parse:
    """The vendor's ``parse(text, location)``, without a connection (validate, pre-flight).

    Imported on first use: a parser library costs tens of milliseconds to load."""
    if vendor == "postgresql":
        from .postgresql.parsing import parse_migration

        return parse_migration
    if vendor == "sqlite":
        from .sqlite.parsing import parse_migration as parse_sqlite

        return parse_sqlite
    if vendor == "mysql":
        from .mysql.parsing import parse_migration as parse_mysql

        return parse_mysql
    raise ConfigurationError(f"sqlmigrate has no SQL parser for {vendor}")
