"""golang-migrate's ``drop`` on MySQL/MariaDB: everything in the connection's database.

The CLI drops each table (``SHOW TABLES LIKE '%'``, ``DROP TABLE IF EXISTS``,
foreign key checks off meanwhile); a view survives with a warning, and
routines and events stay. Here, as ``sqlmigrate_drop`` does on PostgreSQL,
views, tables, sequences, procedures, functions and events all go, the
version and history tables included (triggers and indexes go with their
tables). MySQL commits each DROP: a failure stops the drop half-way, and the
message says what went before it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...exceptions import SQLMigrateError
from ..base import Dropped, ExecutionFailed

if TYPE_CHECKING:
    from .backend import MySQLBackend

#: what there is to drop, dependents first: views read tables, functions may be used anywhere
_LISTING = """
SELECT CASE table_type WHEN 'VIEW' THEN 'VIEW' WHEN 'SEQUENCE' THEN 'SEQUENCE'
            ELSE 'TABLE' END AS kind, table_name AS name,
       CASE table_type WHEN 'VIEW' THEN 1 WHEN 'SEQUENCE' THEN 3 ELSE 2 END AS rank_
FROM information_schema.tables WHERE table_schema = DATABASE()
UNION ALL
SELECT routine_type, routine_name, 4 FROM information_schema.routines
WHERE routine_schema = DATABASE() AND routine_type IN ('PROCEDURE', 'FUNCTION')
UNION ALL
SELECT 'EVENT', event_name, 5 FROM information_schema.events WHERE event_schema = DATABASE()
ORDER BY rank_, name
"""


def drop_everything(backend: MySQLBackend, database: str) -> Dropped:
    """Drop every object of ``database``, foreign key checks off meanwhile (as the CLI)."""
    from .backend import quote

    rows = [(str(kind), str(name)) for kind, name, _ in backend.query(_LISTING)]
    done: list[tuple[str, str]] = []
    before = backend.query("SELECT @@SESSION.foreign_key_checks")[0][0]
    backend.query("SET SESSION foreign_key_checks = 0")
    try:
        for kind, name in rows:
            backend.query(f"DROP {kind} IF EXISTS {quote(database)}.{quote(name)}")
            done.append((kind, f"{database}.{name}"))
    except ExecutionFailed as failure:
        gone = ", ".join(name for _, name in done) or "nothing"
        raise SQLMigrateError(
            f"cannot drop {kind.lower()} {database}.{name}: {backend.explain(failure.error)}. "
            f"MySQL commits each DROP: dropped before it: {gone}"
        ) from None
    finally:
        backend.query(f"SET SESSION foreign_key_checks = {int(before)}")
    return Dropped(database, tuple(done))
