"""Who held the lock a migration's statement timed out waiting for (PostgreSQL).

When ``lock_timeout`` cancels a statement the server says only "canceling
statement due to lock timeout": no relation, no pid, and ``pg_blocking_pids()``
is of no use once the wait is over. So the relations the statement names are
read from its parse tree (pglast, as the pre-flight parsed it), and the
sessions holding a granted lock on one of them are looked up right after the
failure, while the blocker is most likely still there. The oldest
transaction comes first: it is the one everything else queues behind.
"""

from __future__ import annotations

from typing import Any

from ...identifiers import quote_identifier
from ..base import ExecutionFailed, Holder


def relations(statement: str) -> list[str]:
    """The tables a statement names, as quoted SQL names, in order; [] when unparsable."""
    from pglast import parse_sql, visitors  # already loaded by the pre-flight

    found: list[str] = []

    class Names(visitors.Visitor):
        def visit_RangeVar(self, ancestors: Any, node: Any) -> None:
            parts = [node.schemaname, node.relname] if node.schemaname else [node.relname]
            name = ".".join(quote_identifier(part) for part in parts)
            if name not in found:
                found.append(name)

    try:
        Names()(parse_sql(statement))
    except Exception:
        return []
    return found


def holders_sql(names: list[str]) -> str:
    """Sessions other than ours with a granted lock on one of ``names`` (quoted SQL
    names; passed as literals to to_regclass, so a missing table matches nothing)."""
    regclasses = ", ".join(f"pg_catalog.to_regclass({_literal(name)})" for name in names)
    return (
        "SELECT a.pid, coalesce(nullif(a.application_name, ''), '?'), coalesce(a.state, '?'), "
        "c.relname, l.mode, "
        "coalesce(to_char(a.query_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '?'), "
        "coalesce(round(extract(epoch FROM pg_catalog.now() - a.query_start))::int, 0), "
        "left(regexp_replace(a.query, '\\s+', ' ', 'g'), 120) "
        "FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
        "JOIN pg_catalog.pg_class c ON c.oid = l.relation "
        f"WHERE l.granted AND l.locktype = 'relation' AND l.relation IN ({regclasses}) "
        "AND l.pid <> pg_catalog.pg_backend_pid() "
        "ORDER BY a.xact_start NULLS LAST, a.pid LIMIT 3"
    )


def lookup(query: Any, statement: str) -> list[Holder]:
    """Holders of locks on the tables ``statement`` names; ``query`` runs our own SQL."""
    names = relations(statement)
    if not names:
        return []
    try:
        rows = query(holders_sql(names))
    except ExecutionFailed:
        return []
    return [
        Holder(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]), int(r[6]), r[7])
        for r in rows
    ]


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
