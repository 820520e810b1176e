"""Refuse the advisory lock where it cannot hold: PgBouncer in transaction pooling.

A transaction-pooling bouncer lends a server session to a client for one
transaction at a time, so a session advisory lock taken by one statement is
not held for the next, and the run would not exclude another runner. (Session
pooling keeps one server session per client: advisory locks work there.)

A bouncer shows itself: the process id it gives the client at connection
(its own cancel key) is not the server's ``pg_backend_pid()``. Only then is
the mode probed, before any lock is taken: a second connection holds a
transaction open while this one asks for its server pid again. In session
pooling the answer cannot change and the probe never gets our server
session; in transaction pooling either happens (PgBouncer lends the most
recently used idle session first).
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.db.backends.base.base import BaseDatabaseWrapper

from ...exceptions import ConfigurationError

_PID = "SELECT pg_catalog.pg_backend_pid()"


def refuse_transaction_pooling(
    connection: BaseDatabaseWrapper, raw: Any, first: int | None
) -> None:
    """Raise ConfigurationError when ``raw`` goes through transaction pooling; ``first``:
    the server pid its first statement saw (read when the backend opened)."""
    if first is None or first == raw.info.backend_pid:
        return  # straight to the server: no round trip spent
    try:
        latest = _pid(raw)
        probe = connection.get_new_connection(connection.get_connection_params())
        try:
            lent = _pid(probe)  # not autocommit: its transaction stays open
            again = _pid(raw)
        finally:
            probe.close()
    except psycopg.Error:
        return  # cannot tell; the lock guard before every version write still checks
    if latest != first or again != latest or lent == latest:
        raise ConfigurationError(
            f"the connection goes through a pooler in transaction pooling mode (PgBouncer "
            f"pool_mode = transaction): its server session (pid {first}) is lent to other "
            f"clients between transactions, so a session advisory lock would not hold and two "
            f"runners could migrate at once. "
            f'Set SQLMIGRATE_LOCK_STRATEGY = "table" (golang-migrate pgx\'s '
            f"x-lock-strategy=table), or run migrations on a direct or session-pooled "
            f"connection. Nothing was run"
        )


def _pid(connection: Any) -> int:
    row = connection.execute(_PID).fetchone()
    return int(row[0])
