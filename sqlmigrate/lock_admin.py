"""See the migration lock, and clear a table-strategy lock row a crashed runner left.

An advisory lock goes with the session that holds it: there is nothing to
clear, only a session to name. A lock row (SQLMIGRATE_LOCK_STRATEGY = "table")
stays when its runner dies without unlocking, and every later run then times
out on it until someone removes it: ``sqlmigrate_unlock`` shows it and, once
confirmed, deletes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS

from .backends import backend_for
from .backends.postgresql import PostgreSQLBackend
from .backends.postgresql import waits as pg_waits
from .backends.postgresql.table_lock import TableLockBackend
from .conf import settings
from .exceptions import ConfigurationError
from .session import connection_for


@dataclass(frozen=True, slots=True)
class LockReport:
    strategy: str
    #: where the lock lives: the lock table, or the advisory keys and their table
    where: str
    #: one line per holder (advisory) or lock row (table)
    held: tuple[str, ...]
    #: lock rows that ``clear_lock`` would remove
    rows: int = 0

    def lines(self) -> list[str]:
        if not self.held:
            return [f"{self.where}: not locked"]
        return [f"{self.where}: {line}" for line in self.held]


def lock_report(*, using: str = DEFAULT_DB_ALIAS) -> LockReport:
    """Who holds the migration lock of ``using`` now. Takes no lock, writes nothing."""
    backend = _backend(using)
    if isinstance(backend, TableLockBackend):
        rows = backend.lock_rows()
        held = tuple(
            f"lock row lock_id {lock_id} (inserted by transaction {xid}, {age} transactions ago)"
            for lock_id, xid, age in rows
        )
        return LockReport("table", backend.lock_label, held, len(rows))
    holders = []
    for key in backend.lock_keys:
        for row in backend.query(pg_waits.advisory_holder_sql(key)):
            holders.append(
                f"advisory lock {key} held by {pg_waits.describe(row)}; it goes with that "
                f"session (end it with SELECT pg_terminate_backend({row[0]}) if it is stuck)"
            )
    return LockReport("advisory", f"{backend.table_label} (advisory)", tuple(holders))


def clear_lock(*, using: str = DEFAULT_DB_ALIAS) -> int:
    """Delete the table-strategy lock rows, whoever put them; how many there were."""
    backend = _backend(using)
    if not isinstance(backend, TableLockBackend):
        raise ConfigurationError(
            'SQLMIGRATE_LOCK_STRATEGY is "advisory": an advisory lock goes with its session '
            "and there is no row to clear"
        )
    return backend.clear_lock_rows()


def _backend(using: str) -> PostgreSQLBackend:
    backend = backend_for(connection_for(using), settings.table)
    assert isinstance(backend, PostgreSQLBackend)
    backend.wait_timeout = settings.lock_timeout
    backend.open()
    return backend
