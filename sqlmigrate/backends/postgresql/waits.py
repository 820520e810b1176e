"""Who holds what, in words, for the messages that end a wait on PostgreSQL.

Every wait sqlmigrate does has a deadline; when it passes, the message names
the session in the way: its pid, application, state and for how long.
"""

from __future__ import annotations

_ACTIVITY = (
    "a.pid, coalesce(nullif(a.application_name, ''), '?'), coalesce(a.state, '?'), "
    "pg_catalog.round(extract(epoch FROM pg_catalog.now() - coalesce(a.xact_start, "
    "a.query_start, a.backend_start)))::int"
)


def describe(row: tuple[object, ...]) -> str:
    pid, application, state, seconds = row[:4]
    return f"pid {pid} (application {application}, {state}, for {seconds} s)"


def advisory_holder_sql(key: int) -> str:
    return (
        f"SELECT {_ACTIVITY} FROM pg_catalog.pg_locks l "
        "JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.classid = 0 AND l.objsubid = 1 "
        f"AND l.objid = '{int(key)}'::pg_catalog.oid AND l.granted LIMIT 1"
    )


def table_lockers_sql(*qualified_literals: str) -> str:
    """Sessions other than ours holding a lock on the tables (``qualified_literals``: their
    quoted names as SQL string literals)."""
    tables = ", ".join(f"pg_catalog.to_regclass({name})" for name in qualified_literals)
    return (
        f"SELECT {_ACTIVITY}, l.mode, l.relation::pg_catalog.regclass::text "
        "FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
        f"WHERE l.relation IN ({tables}) AND l.granted "
        "AND l.pid <> pg_catalog.pg_backend_pid() ORDER BY a.pid LIMIT 5"
    )


def snapshot_waiters_sql(keys: tuple[int, ...]) -> str:
    """Sessions blocked in ``pg_advisory_lock`` on our keys while holding a snapshot.

    The Go CLI waits that way. CREATE INDEX CONCURRENTLY waits for every
    older snapshot to go, so it would wait for them while they wait for our
    lock: a deadlock the server breaks by failing the index build.
    """
    wanted = ", ".join(f"'{int(key)}'::pg_catalog.oid" for key in keys)
    return (
        f"SELECT DISTINCT {_ACTIVITY} FROM pg_catalog.pg_locks l "
        "JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND NOT l.granted AND l.classid = 0 "
        f"AND l.objsubid = 1 AND l.objid IN ({wanted}) AND a.backend_xmin IS NOT NULL"
    )
