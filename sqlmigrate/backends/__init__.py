"""One small backend per database vendor: version table, lock, running SQL."""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

from ..exceptions import ConfigurationError
from .base import Backend


def backend_for(connection: BaseDatabaseWrapper, table: str) -> Backend:
    """The backend for a Django connection's vendor."""
    if connection.vendor == "postgresql":
        from ..conf import settings

        if settings.lock_strategy == "table":
            from .pg_table_lock import TableLockBackend

            return TableLockBackend(connection, table, settings.lock_table)
        from .postgresql import PostgreSQLBackend

        return PostgreSQLBackend(connection, table)
    raise ConfigurationError(
        f"database alias {connection.alias!r} uses {connection.vendor}; sqlmigrate supports "
        f"PostgreSQL so far"
    )
